"""Risk operations over HTTP, on the test clock: a loan nobody repays is graded down the five categories with its
provision, written off at its product's 180 days, and what the borrower pays afterwards is a recovery; operations
read it all (the loan, the portfolio snapshot, the nightly reconciliation), and write a loan off by hand only with
a second operator."""

from __future__ import annotations

import json
import time
import urllib.request
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from infra.local.platform import LocalPlatform
from lending.webhooks import SIGNATURE_HEADER, sign

if TYPE_CHECKING:
    from conftest import Client

pytestmark = pytest.mark.months_on_the_clock


def _control(platform: LocalPlatform, path: str, body: Any = None) -> Any:
    request = urllib.request.Request(
        platform.control_url + path,
        method="GET" if body is None else "POST",
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    # A clock advance runs every nightly job for each day passed: the bound is for a control port that never answers.
    with urllib.request.urlopen(request, timeout=900) as response:
        return json.loads(response.read())


def _closed_through(client: Client, day: date) -> None:
    """The test clock moved to the day after ``day``: its jobs ran in the night, the daily close closing ``day``."""
    today = date.fromisoformat(_control(client.platform, "/clock")["date"])
    if day + timedelta(days=1) > today:
        _control(client.platform, "/clock", {"advance_to": (day + timedelta(days=1)).isoformat()})


def _ops(client: Client, path: str) -> dict[str, Any]:
    status, answer = client.call("GET", path, token="operations")
    assert status == 200, answer
    return dict(answer)


def _pay(client: Client, loan_id: str, amount: str, event_id: str) -> None:
    moment = _control(client.platform, "/clock")["now"]
    body = json.dumps(
        {"event_id": event_id, "loan_id": loan_id, "amount": amount, "paid_at": moment, "kind": "repayment"}
    ).encode()
    key = client.platform.webhook_secrets["payments"].encode()
    status, receipt = client.call(
        "POST", "/v1/webhooks/payments", body, token=None, headers={SIGNATURE_HEADER: sign(key, body, int(time.time()))}
    )
    assert (status, receipt["status"]) == (200, "applied"), receipt


@pytest.fixture(scope="module")
def unpaid_loan(client: Client) -> dict[str, Any]:
    # An account auto-debit can never collect from: nothing is repaid unless the test pays
    view = client.open("0001", "3333", key="risk-unpaid-loan", amount="20000.00", term_months=6)
    assert view["status"] == "DISBURSED", view
    status, loan = client.call("GET", f"/v1/loans/{view['loan_id']}")
    assert status == 200, loan
    return dict(loan)


def test_a_loan_nobody_repays_is_graded_provisioned_written_off_and_recovered(
    client: Client, unpaid_loan: dict[str, Any]
) -> None:
    loan_id = unpaid_loan["loan_id"]
    first_due = date.fromisoformat(unpaid_loan["schedule"][0]["due_date"])
    principal = Decimal(unpaid_loan["principal_outstanding"])

    # A new loan is normal and carries the normal allowance (1%) from its first day
    seen = _ops(client, f"/v1/ops/loans/{loan_id}")
    assert (seen["classification"], Decimal(seen["provision"])) == ("normal", principal * Decimal("0.01"))

    # A day overdue: special mention, 2%
    _closed_through(client, first_due + timedelta(days=1))
    seen = _ops(client, f"/v1/ops/loans/{loan_id}")
    assert (seen["classification"], Decimal(seen["provision"])) == ("special_mention", principal * Decimal("0.02"))

    # More than 90 days overdue: substandard, 25%
    _closed_through(client, first_due + timedelta(days=91))
    seen = _ops(client, f"/v1/ops/loans/{loan_id}")
    assert (seen["classification"], Decimal(seen["provision"])) == ("substandard", principal * Decimal("0.25"))
    # with the delinquency warnings the closes raised on the way, as operations see them on the loan
    assert {w["kind"] for w in seen["warnings"]} == {"delinquency_worsened"}

    # 180 days overdue: written off, nothing left on the book, the borrower still owing all of it
    written_on = first_due + timedelta(days=180)
    _closed_through(client, written_on)
    status, loan = client.call("GET", f"/v1/loans/{loan_id}")
    assert status == 200, loan
    assert loan["status"] == "WRITTEN_OFF"
    assert Decimal(loan["principal_outstanding"]) == principal
    seen = _ops(client, f"/v1/ops/loans/{loan_id}")
    assert Decimal(seen["provision"]) == 0
    status, moves = client.call("GET", f"/v1/loans/{loan_id}/transactions?limit=100")
    assert status == 200, moves
    kinds = [m["kind"] for m in moves["items"]]
    assert "write_off" in kinds

    # The night's reconciliation balances with the provisions and the write-off in the books
    report = _ops(client, f"/v1/ops/reconciliation?date={written_on.isoformat()}")
    assert report["balanced"] is True, report

    # The portfolio snapshot of that night counts the written-off loan and what was written off
    snapshot = _ops(client, f"/v1/ops/portfolio?date={written_on.isoformat()}")
    assert snapshot["by_status"]["WRITTEN_OFF"]["loans"] >= 1
    assert Decimal(snapshot["written_off"]) >= principal
    assert set(snapshot["classification"]) <= {"normal", "special_mention", "substandard", "doubtful", "loss"}
    assert snapshot["provision_rates"]["loss"] == "1.00"

    # A payment after the write-off is a recovery, and the books still balance
    _pay(client, loan_id, "1000.00", f"recovery-{loan_id}")
    status, moves = client.call("GET", f"/v1/loans/{loan_id}/transactions?limit=100")
    assert [m["kind"] for m in moves["items"]].count("recovery") == 1
    reconciled = _control(client.platform, "/reports/reconcile")
    assert reconciled["ok"] is True, reconciled["text"]


def test_a_write_off_by_hand_needs_a_second_operator(client: Client) -> None:
    view = client.open("0001", "3333", key="risk-hand-write-off", amount="15000.00", term_months=6)
    loan_id = view["loan_id"]
    path = f"/v1/ops/loans/{loan_id}/write-off"
    # Borrowers and underwriters may not
    for token in ("borrower", "underwriter"):
        status, answer = client.call("POST", path, {"reason": "fraud"}, token=token)
        assert (status, answer["error"]["code"]) == (403, "forbidden")
    status, answer = client.call("POST", path, {"reason": ""}, token="operations")
    assert status == 422, answer
    status, asked = client.call("POST", path, {"reason": "identity fraud confirmed"}, token="operations")
    assert (status, asked["status"]) == (202, "PENDING_CONFIRMATION"), asked
    # The operator who asked cannot confirm
    status, answer = client.call("POST", f"{path}/decision", {"decision": "confirm"}, token="operations")
    assert (status, answer["error"]["code"]) == (403, "maker_checker_violation")
    # Another operator confirms
    status, done = client.call("POST", f"{path}/decision", {"decision": "confirm", "note": "ok"}, token="operations2")
    assert (status, done["status"]) == (200, "WRITTEN_OFF"), done
    status, loan = client.call("GET", f"/v1/loans/{loan_id}")
    assert loan["status"] == "WRITTEN_OFF"
    status, answer = client.call("POST", path, {"reason": "again"}, token="operations")
    assert (status, answer["error"]["code"]) == (409, "write_off_refused")
