"""Servicing over HTTP on the local stack: repayments (on time, late, early, twice), the daily close, drawdowns on a
line, freezing and curing, the audit chain and the reconciliation report.

Loans open today, so what happens on later days is driven by the sandbox's test clock: the control port moves the
platform's business date forward and runs the nightly close for each day passed (``lending local clock``); the
payment provider's notices carry the moment the money arrived (``paid_at``: now, on that clock).
"""

from __future__ import annotations

import json
import time
import urllib.request
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from infra.console import main
from infra.local.iam_audit import denials
from infra.local.platform import LocalPlatform, write_description
from infra.local.template import load_template
from lending.calendar import add_months, business_date
from lending.webhooks import SIGNATURE_HEADER, sign

if TYPE_CHECKING:
    from conftest import Client

TERMINAL = {"DISBURSED", "DECLINED", "FAILED", "EXPIRED", "LINE_OPENED"}


def _pay(
    client: Client, loan_id: str, amount: str, event_id: str, *, secret: str | None = None, paid_at: str | None = None
) -> Any:
    """The provider's notice of money that arrived now (on the test clock), signed as the provider signs it."""
    moment = paid_at or _control(client.platform, "/clock")["now"]
    body = json.dumps(
        {"event_id": event_id, "loan_id": loan_id, "amount": amount, "paid_at": moment, "kind": "repayment"}
    ).encode()
    key = (secret or client.platform.webhook_secrets["payments"]).encode()
    return client.call(
        "POST", "/v1/webhooks/payments", body, token=None, headers={SIGNATURE_HEADER: sign(key, body, int(time.time()))}
    )


def _control(platform: LocalPlatform, path: str, body: Any = None) -> Any:
    request = urllib.request.Request(
        platform.control_url + path,
        method="GET" if body is None else "POST",
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    # A clock advance runs every nightly job for each day passed (months of them here): the bound is for a control
    # port that never answers, far beyond what that work takes on a loaded machine.
    with urllib.request.urlopen(request, timeout=600) as response:
        return json.loads(response.read())


def _close(platform: LocalPlatform, day: date) -> dict[str, Any]:
    result: dict[str, Any] = _control(platform, "/schedules/EveryNight", {"date": day.isoformat()})
    return result


def _advance(platform: LocalPlatform, day: date) -> dict[str, Any]:
    """The test clock to ``day``: every day before it that was still open is closed, in order."""
    result: dict[str, Any] = _control(platform, "/clock", {"advance_to": day.isoformat()})
    assert result["date"] == day.isoformat(), result
    return result


def _loan(client: Client, loan_id: str) -> dict[str, Any]:
    status, view = client.call("GET", f"/v1/loans/{loan_id}")
    assert status == 200, view
    return dict(view)


def _money(text: str) -> Decimal:
    return Decimal(text)


@pytest.fixture(scope="module")
def instalment_loan(client: Client) -> str:
    # The bound account has no funds for auto-debit (sandbox: account ending 3333): the borrower pays by notice alone
    application_id = client.apply("0001", "3333", key="servicing-instalment", amount="12000.00", term_months=3)
    view = client.wait_for(application_id, TERMINAL)
    assert view["status"] == "DISBURSED", view
    return str(view["loan_id"])


@pytest.fixture(scope="module")
def line(client: Client) -> str:
    application_id = client.apply(
        "0001", "3333", key="servicing-line", product="credit_line", amount="50000.00", term_months=12
    )
    view = client.wait_for(application_id, TERMINAL)
    assert view["status"] == "LINE_OPENED", view
    return str(view["loan_id"])


def test_an_instalment_loan_is_repaid_on_time_late_and_early_and_closes(
    client: Client, platform: LocalPlatform, instalment_loan: str
) -> None:
    loan_id = instalment_loan
    loan = _loan(client, loan_id)
    assert loan["status"] == "ACTIVE"
    assert loan["principal_outstanding"] == "12000.00"
    first, second, third = loan["schedule"]
    due = [date.fromisoformat(row["due_date"]) for row in (first, second, third)]

    # On time: exactly the first instalment on its due date; the same notice again is applied once.
    amount = str(_money(first["principal"]) + _money(first["interest"]))
    _advance(platform, due[0])
    assert _pay(client, loan_id, amount, "pay-on-time") == (
        200,
        {"event_id": "pay-on-time", "loan_id": loan_id, "status": "applied", "loan_status": "ACTIVE", "reason": None},
    )
    status, again = _pay(client, loan_id, amount, "pay-on-time")
    assert (status, again["status"]) == (200, "duplicate")
    loan = _loan(client, loan_id)
    assert loan["schedule"][0]["paid"] is True
    assert loan["principal_outstanding"] == str(Decimal("12000.00") - _money(first["principal"]))
    assert loan["days_past_due"] == 0

    # Late: ten days after the second due date, the nightly closes have found it unpaid.
    late_day = due[1] + timedelta(days=10)
    ran = _advance(platform, late_day)["ran"]
    assert [job["date"] for job in ran][-1] == (late_day - timedelta(days=1)).isoformat()
    loan = _loan(client, loan_id)
    assert loan["days_past_due"] == 10
    assert loan["delinquency_bucket"] == "dpd_1_30"
    assert _money(loan["penalty_accrued"]) > 0
    again = _close(platform, late_day - timedelta(days=1))  # running a day twice changes nothing
    assert again["loans_changed"] == 0
    assert _loan(client, loan_id) == loan

    # Paid late with its penalty: current again.
    owed = _money(second["principal"]) + _money(second["interest"]) + _money(loan["penalty_accrued"])
    status, receipt = _pay(client, loan_id, str(owed), "pay-late")
    assert (status, receipt["status"]) == (200, "applied")
    loan = _loan(client, loan_id)
    assert loan["days_past_due"] == 0
    assert loan["penalty_accrued"] == "0.00"
    assert loan["delinquency_bucket"] is None

    # Early: the payoff quoted for a day before the last due date closes the loan.
    early_day = due[2] - timedelta(days=5)
    _advance(platform, early_day)
    status, payoff = client.call("GET", f"/v1/loans/{loan_id}/payoff?date={early_day.isoformat()}")
    assert status == 200, payoff
    assert payoff["amount"] == str(
        _money(payoff["principal"]) + _money(payoff["interest_and_fees"]) + _money(payoff["penalty"])
    )
    status, receipt = _pay(client, loan_id, payoff["amount"], "pay-off-early")
    assert (status, receipt["loan_status"]) == (200, "CLOSED")
    loan = _loan(client, loan_id)
    assert loan["status"] == "CLOSED"
    assert loan["principal_outstanding"] == "0.00"
    assert loan["credit_balance"] == "0.00"
    assert loan["next_due_date"] is None

    # An overpayment on a closed loan is the borrower's credit, never lost.
    status, receipt = _pay(client, loan_id, "10.00", "pay-too-much")
    assert (status, receipt["status"]) == (200, "applied")
    assert _loan(client, loan_id)["credit_balance"] == "10.00"

    status, audit = client.call("GET", f"/v1/loans/{loan_id}/audit")
    assert status == 200
    assert audit["verified"] is True
    kinds = [event["kind"] for event in audit["events"]]
    assert kinds.count("repayment_applied") == 4
    assert "day_closed" in kinds
    assert "loan_booked" in kinds


def test_a_payment_for_no_known_loan_is_parked_and_a_forged_one_changes_nothing(
    client: Client, instalment_loan: str
) -> None:
    status, receipt = _pay(client, "loan_unknown", "88.00", "pay-unknown")
    assert (status, receipt["status"]) == (200, "parked")
    before = _loan(client, instalment_loan)
    status, body = _pay(client, instalment_loan, "500.00", "pay-forged", secret="not-the-secret")
    assert status == 401, body
    assert _loan(client, instalment_loan) == before


def test_a_line_is_drawn_frozen_by_a_missed_payment_and_unfrozen_when_cured(
    client: Client, platform: LocalPlatform, line: str
) -> None:
    loan_id = line

    def draw(amount: str, key: str) -> tuple[int, Any]:
        return client.call(
            "POST", f"/v1/loans/{loan_id}/drawdowns", {"amount": amount}, headers={"Idempotency-Key": key}
        )

    status, drawdown = draw("10000.00", "draw-1")
    assert (status, drawdown["status"]) == (202, "requested"), drawdown
    status, again = draw("10000.00", "draw-1")
    assert (status, again["drawdown_id"]) == (202, drawdown["drawdown_id"])
    assert draw("20000.00", "draw-1")[0] == 409
    loan = client.wait_until(
        lambda: _loan(client, loan_id),
        lambda seen: seen["principal_outstanding"] == "10000.00",
        "the drawdown to be paid out and booked",
    )
    assert loan["available_limit"] == "40000.00"

    status, refused = draw("45000.00", "draw-too-much")
    assert status == 409
    assert refused["error"]["code"] == "drawdown_refused"

    # The first statement is missed: three days after it, the nightly close has frozen the line.
    # opened today (the platform's business day, at noon in China for the whole run): its first statement date
    statement = add_months(date.fromisoformat(loan["as_of"]), 1)
    _advance(platform, statement + timedelta(days=3))
    loan = _loan(client, loan_id)
    assert loan["frozen"] is True, loan
    assert loan["days_past_due"] == 3
    status, refused = draw("1000.00", "draw-while-frozen")
    assert status == 409
    assert "frozen" in refused["error"]["message"]

    # Cured: interest and penalty paid; the line draws again.
    owed = _money(loan["interest_accrued"]) + _money(loan["penalty_accrued"])
    status, receipt = _pay(client, loan_id, str(owed), "line-cure")
    assert (status, receipt["status"]) == (200, "applied")
    loan = _loan(client, loan_id)
    assert loan["frozen"] is False
    assert loan["days_past_due"] == 0
    status, drawdown = draw("1000.00", "draw-after-cure")
    assert status == 202, drawdown


def test_a_drawdown_the_bank_rejects_frees_its_hold_and_books_nothing(client: Client, platform: LocalPlatform) -> None:
    # Given a line whose bound account's bank rejects every payout (sandbox: account ending 0000)
    application_id = client.apply(
        "0001", "0000", key="servicing-line-rejected", product="credit_line", amount="20000.00", term_months=12
    )
    view = client.wait_for(application_id, TERMINAL)
    assert view["status"] == "LINE_OPENED", view
    loan_id = str(view["loan_id"])
    # When the borrower draws on it
    status, drawdown = client.call(
        "POST", f"/v1/loans/{loan_id}/drawdowns", {"amount": "5000.00"}, headers={"Idempotency-Key": "draw-rejected"}
    )
    assert (status, drawdown["status"]) == (202, "requested"), drawdown
    # Then the payout fails, the funding hold is voided and the limit freed: nothing was lent
    audit = client.wait_until(
        lambda: client.call("GET", f"/v1/loans/{loan_id}/audit")[1],
        lambda seen: "drawdown_failed" in [event["kind"] for event in seen["events"]],
        "the rejected drawdown to be released",
    )
    assert audit["verified"] is True
    loan = _loan(client, loan_id)
    assert (loan["principal_outstanding"], loan["available_limit"]) == ("0.00", "20000.00")


def test_the_books_reconcile_after_all_of_it(
    client: Client, platform: LocalPlatform, instalment_loan: str, line: str
) -> None:
    report = _control(platform, "/reports/reconcile")
    assert report["ok"] is True, report["text"]
    assert "trial balance            0.00  ok" in report["text"]


def test_the_console_commands_drive_the_running_stack(
    platform: LocalPlatform, tmp_path: Path, capsys: pytest.CaptureFixture[str], instalment_loan: str
) -> None:
    description = write_description(platform, tmp_path / "stack.json")
    ahead = business_date() + timedelta(days=3)  # the platform's clock, which no midnight passes during the run
    assert main(["local", "clock", "--advance-to", ahead.isoformat(), "--stack", str(description)]) == 0
    moved = json.loads(capsys.readouterr().out)
    closes = [job for job in moved["ran"] if job["job"] == "EveryNight"]  # the nightly close, among every schedule
    assert (moved["date"], len(closes)) == (ahead.isoformat(), 3)
    assert main(["local", "clock", "--stack", str(description)]) == 0
    assert json.loads(capsys.readouterr().out)["date"] == ahead.isoformat()
    yesterday = ahead - timedelta(days=1)  # closed by the advance: closing it again changes nothing
    assert main(["local", "close-day", "--date", yesterday.isoformat(), "--stack", str(description)]) == 0
    closed = json.loads(capsys.readouterr().out)
    assert (closed["close_date"], closed["loans_changed"]) == (yesterday.isoformat(), 0)
    assert main(["report", "reconcile", "--stack", str(description)]) == 0
    assert "BALANCED" in capsys.readouterr().out


def test_a_loan_never_paid_is_aged_by_the_nightly_close_whose_write_is_the_loans_first(
    client: Client, platform: LocalPlatform
) -> None:
    # Given a loan nothing has serviced yet: its chain's head is not on the loan, so its first servicing write, the
    # nightly close's here, reads the head from the audit table
    # (its bound account has no funds: auto-debit fails, sandbox account ending 3333)
    application_id = client.apply("0001", "3333", key="servicing-never-paid", amount="12000.00", term_months=3)
    view = client.wait_for(application_id, TERMINAL)
    assert view["status"] == "DISBURSED", view
    loan_id = str(view["loan_id"])
    first_due = date.fromisoformat(_loan(client, loan_id)["schedule"][0]["due_date"])
    # When its first instalment goes unpaid for three days
    _advance(platform, first_due + timedelta(days=3))
    # Then the closes aged it (under the close's role, as AWS would weigh each call)
    loan = _loan(client, loan_id)
    assert (loan["days_past_due"], loan["delinquency_bucket"]) == (3, "dpd_1_30")
    assert _money(loan["penalty_accrued"]) > 0


def test_no_function_made_a_call_its_role_in_the_template_does_not_allow(platform: LocalPlatform) -> None:
    # Given every servicing flow above (repayments, drawdowns, the nightly jobs the test clock ran)
    assert platform.runtime.calls
    # When each AWS call the functions made is weighed against its function's role, as AWS would weigh it
    refused = [
        f"{d.function}: {d.action} on {d.resource}"
        for d in denials(platform.runtime.calls, platform.stack, load_template())
    ]
    # Then AWS would have refused none of them
    assert refused == [], "\n".join(refused)
