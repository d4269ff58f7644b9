"""The operations API over HTTP (group ``operations``): the funding sources, the nightly reconciliation kept for a
day once the test clock has passed it, and a loan as operations see it, the borrower's personal data masked.
Anyone else is refused (403)."""

from __future__ import annotations

import json
import urllib.request
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from conftest import Client

from infra.local.platform import LocalPlatform
from lending import clock

OPS_ROUTES = ["/v1/ops/funding", "/v1/ops/reconciliation", "/v1/ops/loans/loan_unknown"]
CLASSES = {"normal", "special_mention", "substandard", "doubtful", "loss"}


def _control(platform: LocalPlatform, path: str, body: Any = None) -> Any:
    request = urllib.request.Request(
        platform.control_url + path,
        method="GET" if body is None else "POST",
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=600) as response:
        return json.loads(response.read())


def _ops(client: Client, path: str) -> tuple[int, Any]:
    return client.call("GET", path, token="operations")


@pytest.fixture(scope="module")
def book(client: Client) -> dict[str, Any]:
    """A loan paid out today, the funding as operations saw it before any night passed, then the clock moved on a
    day (the close, auto-debit and the reconciliation ran for today)."""
    view = client.open("0001", key="ops-loan-1")
    assert view["status"] == "DISBURSED", view
    status, before = _ops(client, "/v1/ops/funding")
    assert status == 200, before
    day = clock.today()
    moved = _control(client.platform, "/clock", {"advance_to": (day + timedelta(days=1)).isoformat()})
    jobs = {(job["job"], job["date"]) for job in moved["ran"]}
    assert ("ReconcileBooks", day.isoformat()) in jobs, moved
    return {"loan_id": view["loan_id"], "day": day, "funding_before": before}


def test_only_operations_may_call_the_operations_api(client: Client, book: dict[str, Any]) -> None:
    # Given a borrower's and an underwriter's tokens / When either calls any operations route / Then it is refused
    for token in ("borrower", "underwriter"):
        for path in [*OPS_ROUTES, f"/v1/ops/loans/{book['loan_id']}"]:
            status, answer = client.call("GET", path, token=token)
            assert (status, answer["error"]["code"]) == (403, "forbidden"), (token, path)


def test_funding_shows_each_source_lent_and_left_and_after_a_night_the_books_shares(
    client: Client, book: dict[str, Any]
) -> None:
    # Given the funding as it stood before the first night: the loan's principal lent, no report yet
    before = book["funding_before"]
    assert before["sources"][0]["source"] == "own_capital"
    lent = sum(Decimal(s["posted"]) for s in before["sources"])
    assert lent == Decimal("120000.00")
    for source in before["sources"]:
        assert Decimal(source["available"]) == Decimal(source["quota"]) - Decimal(source["posted"]) - Decimal(
            source["reserved"]
        )
        assert (source["principal_outstanding"], source["share_of_book"]) == (None, None)
    assert (before["book_as_of"], before["principal_outstanding"]) == (None, None)

    # When operations read it after the night's reconciliation
    status, after = _ops(client, "/v1/ops/funding")

    # Then the book's shares are the report's, as of the day closed, and add up to the whole book
    assert status == 200, after
    assert after["book_as_of"] == book["day"].isoformat()
    assert Decimal(after["principal_outstanding"]) == Decimal("120000.00")
    assert sum(Decimal(s["principal_outstanding"]) for s in after["sources"]) == Decimal("120000.00")
    assert sum(Decimal(s["share_of_book"]) for s in after["sources"]) == Decimal("1.0000")
    partner = next(s for s in after["sources"] if Decimal(s["posted"]) and s["kind"] == "partner")
    assert Decimal(partner["share_of_book"]) == Decimal(partner["co_lending_share"])


def test_the_night_s_reconciliation_is_kept_and_balanced(client: Client, book: dict[str, Any]) -> None:
    # When operations read the latest report and the one of the day the clock passed
    status, latest = _ops(client, "/v1/ops/reconciliation")
    assert status == 200, latest
    status, that_day = _ops(client, f"/v1/ops/reconciliation?date={book['day'].isoformat()}")

    # Then both are the day's, and the books balance on every check
    assert status == 200, that_day
    assert latest == that_day
    assert that_day["close_date"] == book["day"].isoformat()
    assert that_day["balanced"] is True, that_day
    assert that_day["trial_balance"] == {"balanced": True, "total": "0.00"}
    assert that_day["loans"]["problems"] == []
    assert all(line["balanced"] and line["difference"] == "0.00" for line in that_day["sources"])
    assert Decimal(sum(Decimal(line["outstanding"]) for line in that_day["sources"])) == Decimal("120000.00")
    current = next(b for b in that_day["buckets"] if b["bucket"] == "current")
    assert (current["loans"], current["principal_outstanding"]) == (1, "120000.00")

    # And the console and the control port's report still say the same
    assert _control(client.platform, f"/reports/reconcile?date={book['day'].isoformat()}")["ok"] is True


def test_a_day_without_a_report_is_404_and_a_bad_date_is_422_naming_it(client: Client, book: dict[str, Any]) -> None:
    status, answer = _ops(client, f"/v1/ops/reconciliation?date={(book['day'] - timedelta(days=30)).isoformat()}")
    assert (status, answer["error"]["code"]) == (404, "report_not_found")
    for bad in ("2026-13-01", "yesterday", "20260301"):
        status, answer = _ops(client, f"/v1/ops/reconciliation?date={bad}")
        assert status == 422, (bad, answer)
        assert [f["field"] for f in answer["error"]["fields"]] == ["query.date"], answer
    status, answer = _ops(client, "/v1/ops/reconciliation?dat=2026-03-01")
    assert status == 422
    assert [f["field"] for f in answer["error"]["fields"]] == ["query.dat"]


def test_a_loan_as_operations_see_it_has_the_borrower_masked(client: Client, book: dict[str, Any]) -> None:
    # When operations read the borrower's loan
    status, loan = _ops(client, f"/v1/ops/loans/{book['loan_id']}")

    # Then it is the borrower's view of it, with the personal data masked
    assert status == 200, loan
    status, own = client.call("GET", f"/v1/loans/{book['loan_id']}")
    assert status == 200
    assert {k: loan[k] for k in own} == own
    assert loan["borrower"]["phone"] == "138****0001"
    assert loan["borrower"]["bank_account"] == "****5678"  # 15 digits: shorter than a card number
    assert loan["borrower"]["name"] == "L*****"
    id_number = client.body("0001")["applicant"]["id_number"]
    assert loan["borrower"]["id_number"] == id_number[:3] + "*" * 11 + id_number[-4:]
    applicant = client.body("0001")["applicant"]
    text = json.dumps(loan, ensure_ascii=False)
    for field in ("name", "id_number", "phone", "bank_account"):
        assert applicant[field] not in text, field
    assert "13800000001" not in text
    # And its class (none until the close classifies it), provision, and each source's part of its principal
    assert loan["classification"] in CLASSES | {None}
    assert sum(Decimal(part["funded"]) for part in loan["funding"]) == Decimal("120000.00")
    assert sum(Decimal(part["principal_outstanding"]) for part in loan["funding"]) == Decimal(
        loan["principal_outstanding"]
    )
    assert sum(Decimal(part["share"]) for part in loan["funding"]) == Decimal("1.0000")


def test_an_unknown_loan_is_404(client: Client, book: dict[str, Any]) -> None:
    status, answer = _ops(client, "/v1/ops/loans/loan_unknown")
    assert (status, answer["error"]["code"]) == (404, "not_found")
