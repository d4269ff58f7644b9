"""Seeing everything over HTTP: the borrower's applications and loans, newest first, a page at a time; a loan's
transactions with each repayment's waterfall split and the balances after it; a line's statements once the test
clock has passed a statement date. Nobody sees another borrower's lists, and a cursor is good only for the list it
came from."""

from __future__ import annotations

import json
import time
import urllib.request
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from infra.local.platform import LocalPlatform
from lending.calendar import add_months
from lending.webhooks import SIGNATURE_HEADER, sign

if TYPE_CHECKING:
    from conftest import Client


def _control(platform: LocalPlatform, path: str, body: Any = None) -> Any:
    request = urllib.request.Request(
        platform.control_url + path,
        method="GET" if body is None else "POST",
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    # A clock advance runs every nightly job for each day passed: the bound is for a control port that never answers.
    with urllib.request.urlopen(request, timeout=600) as response:
        return json.loads(response.read())


def _pay(client: Client, loan_id: str, amount: str, event_id: str) -> None:
    """The provider's signed notice of money that arrived now, on the test clock."""
    moment = _control(client.platform, "/clock")["now"]
    body = json.dumps(
        {"event_id": event_id, "loan_id": loan_id, "amount": amount, "paid_at": moment, "kind": "repayment"}
    ).encode()
    key = client.platform.webhook_secrets["payments"].encode()
    status, receipt = client.call(
        "POST", "/v1/webhooks/payments", body, token=None, headers={SIGNATURE_HEADER: sign(key, body, int(time.time()))}
    )
    assert (status, receipt["status"]) == (200, "applied"), receipt


def _get(client: Client, path: str, token: str = "borrower") -> dict[str, Any]:
    status, answer = client.call("GET", path, token=token)
    assert status == 200, answer
    return dict(answer)


def _all_pages(client: Client, path: str, limit: int, token: str = "borrower") -> list[list[dict[str, Any]]]:
    """Every page of a list, following ``next`` until it is null."""
    pages: list[list[dict[str, Any]]] = []
    cursor: str | None = None
    while True:
        query = f"?limit={limit}" + ("" if cursor is None else f"&cursor={cursor}")
        page = _get(client, path + query, token)
        pages.append(page["items"])
        cursor = page["next"]
        if cursor is None:
            return pages
        assert len(pages) < 50, "the list never ended"


@dataclass
class Journey:
    loan_id: str
    line_id: str
    applications: list[str]  # oldest first
    opened_on: date


@pytest.fixture(scope="module")
def journey(client: Client) -> Journey:
    """A borrower with a loan, a declined application and a line with 10,000.00 drawn on its first day. The loan and
    the line are bound to an account with no funds (sandbox account ending 3333): the due date's auto-debit fails
    for them, so what this module pays, and what stays unpaid, is its own doing and never a race with a
    collection's notice."""
    loan = client.open("0001", "3333", key="lists-loan", amount="12000.00", term_months=3)
    assert loan["status"] == "DISBURSED", loan
    declined = client.open("0002", key="lists-declined")
    assert declined["status"] == "DECLINED", declined
    line = client.open("0001", "3333", key="lists-line", product="credit_line", amount="50000.00", term_months=12)
    assert line["status"] == "LINE_OPENED", line
    status, drawdown = client.call(
        "POST", f"/v1/loans/{line['loan_id']}/drawdowns", {"amount": "10000.00"}, headers={"Idempotency-Key": "dd-1"}
    )
    assert status == 202, drawdown
    client.wait_until(
        lambda: _get(client, f"/v1/loans/{line['loan_id']}"),
        lambda seen: seen["principal_outstanding"] == "10000.00",
        "the drawdown to be paid out and booked",
    )
    opened_on = date.fromisoformat(_control(client.platform, "/clock")["date"])
    return Journey(
        str(loan["loan_id"]),
        str(line["loan_id"]),
        [loan["application_id"], declined["application_id"], line["application_id"]],
        opened_on,
    )


def test_the_borrower_lists_their_applications_newest_first_and_pages_through_them(
    client: Client, journey: Journey
) -> None:
    # When the borrower lists their applications
    listed = _get(client, "/v1/applications")
    # Then all three, newest first, each with its summary
    assert [a["application_id"] for a in listed["items"]] == list(reversed(journey.applications))
    assert listed["next"] is None
    line, declined, loan = listed["items"]
    assert (declined["status"], declined["loan_id"], declined["offer"]) == ("DECLINED", None, None)
    assert (loan["status"], loan["loan_id"], loan["product"], loan["amount"]) == (
        "DISBURSED",
        journey.loan_id,
        "business_instalment",
        "12000.00",
    )
    assert loan["offer"]["limit"] == "12000.00"
    assert (line["status"], line["loan_id"], line["product"]) == ("LINE_OPENED", journey.line_id, "credit_line")
    # And a page of one at a time reaches the same list, ending with next null
    pages = _all_pages(client, "/v1/applications", limit=1)
    assert [len(page) for page in pages] == [1, 1, 1]
    assert [page[0]["application_id"] for page in pages] == list(reversed(journey.applications))


def test_the_borrower_lists_their_loans_with_balances_newest_first(client: Client, journey: Journey) -> None:
    listed = _get(client, "/v1/loans")
    assert [loan["loan_id"] for loan in listed["items"]] == [journey.line_id, journey.loan_id]
    line, loan = listed["items"]
    # Each as GET /v1/loans/{id} shows it, without the schedule
    for summary in (line, loan):
        single = _get(client, f"/v1/loans/{summary['loan_id']}")
        for field in ("status", "principal_outstanding", "interest_accrued", "penalty_accrued", "credit_balance"):
            assert summary[field] == single[field], field
        assert summary["payoff_amount"] == single["payoff_amount"]
        assert summary["next_due_date"] == single["next_due_date"]
        assert "schedule" not in summary
    assert (loan["principal_outstanding"], loan["available_limit"]) == ("12000.00", None)
    first = _get(client, f"/v1/loans/{journey.loan_id}")["schedule"][0]
    assert loan["next_due_amount"] == str(Decimal(first["principal"]) + Decimal(first["interest"]))
    assert (line["principal_outstanding"], line["available_limit"]) == ("10000.00", "40000.00")
    pages = _all_pages(client, "/v1/loans", limit=1)
    assert [page[0]["loan_id"] for page in pages] == [journey.line_id, journey.loan_id]


def test_another_borrower_sees_none_of_it_and_no_cursor_crosses_lists(client: Client, journey: Journey) -> None:
    # Given the borrower's cursor to their second page
    cursor = _get(client, "/v1/applications?limit=1")["next"]
    assert cursor
    # Then the second borrower lists nothing of theirs, reads none of their loans, and cannot use their cursor
    assert _get(client, "/v1/applications", token="borrower2")["items"] == []
    assert _get(client, "/v1/loans", token="borrower2")["items"] == []
    for path in (f"/v1/loans/{journey.loan_id}/transactions", f"/v1/loans/{journey.line_id}/statements"):
        status, answer = client.call("GET", path, token="borrower2")
        assert (status, answer["error"]["code"]) == (404, "not_found")
    status, refused = client.call("GET", f"/v1/applications?cursor={cursor}", token="borrower2")
    assert (status, refused["error"]["code"]) == (422, "invalid_request")
    assert [f["field"] for f in refused["error"]["fields"]] == ["query.cursor"]
    # And a cursor of one list is no cursor of another, nor is a forged one, nor a limit outside 1–100
    for path in (f"/v1/loans?cursor={cursor}", "/v1/applications?cursor=eyJhIjoxfQ.AAAA", "/v1/loans?cursor=x"):
        status, refused = client.call("GET", path)
        assert (status, [f["field"] for f in refused["error"]["fields"]]) == (422, ["query.cursor"]), path
    for limit in ("0", "101", "ten", "-1"):
        status, refused = client.call("GET", f"/v1/loans?limit={limit}")
        assert (status, [f["field"] for f in refused["error"]["fields"]]) == (422, ["query.limit"]), limit
    status, refused = client.call("GET", "/v1/applications?limt=5")
    assert (status, [f["field"] for f in refused["error"]["fields"]]) == (422, ["query.limt"])


def test_a_loans_transactions_show_the_repayment_split_and_a_lines_statement_its_month(
    client: Client, platform: LocalPlatform, journey: Journey
) -> None:
    # Given the first due date reached on the test clock (the line's first statement date too), and the instalment
    # paid that day
    due = add_months(journey.opened_on, 1)
    _control(platform, "/clock", {"advance_to": due.isoformat()})
    loan = _get(client, f"/v1/loans/{journey.loan_id}")
    first = loan["schedule"][0]
    instalment = Decimal(first["principal"]) + Decimal(first["interest"])
    _pay(client, journey.loan_id, str(instalment), "lists-first-instalment")

    # When the borrower reads the loan's transactions, two at a time
    pages = _all_pages(client, f"/v1/loans/{journey.loan_id}/transactions", limit=2)
    movements = [m for page in pages for m in page]

    # Then: the disbursement, the first interest falling due, the repayment split by the waterfall, oldest first
    kinds = [m["kind"] for m in movements if m["kind"] != "fee"]
    assert kinds == ["disbursement", "interest", "repayment"], movements
    disbursement, interest, repayment = (m for m in movements if m["kind"] != "fee")
    assert (disbursement["amount"], disbursement["balances_after"]["principal_outstanding"]) == (
        "12000.00",
        "12000.00",
    )
    assert (interest["effective_on"], interest["amount"]) == (due.isoformat(), first["interest"])
    assert interest["balances_after"]["interest_accrued"] == first["interest"]
    assert repayment["id"] == "payment/lists-first-instalment"
    assert (repayment["effective_on"], repayment["amount"]) == (due.isoformat(), str(instalment))
    assert repayment["split"] == {
        "penalty": "0.00",
        "fees": "0.00",
        "interest": first["interest"],
        "principal": first["principal"],
        "credit": "0.00",
    }
    after = repayment["balances_after"]
    assert after["principal_outstanding"] == str(Decimal("12000.00") - Decimal(first["principal"]))
    assert after["principal_outstanding"] == _get(client, f"/v1/loans/{journey.loan_id}")["principal_outstanding"]
    assert (after["interest_accrued"], after["penalty_accrued"]) == ("0.00", "0.00")

    # And the line shows its statement for the month: 10,000.00 drawn, the month's interest made due on the day
    status, refused = client.call("GET", f"/v1/loans/{journey.loan_id}/statements")
    assert (status, refused["error"]["code"]) == (409, "not_a_line")
    statements = _get(client, f"/v1/loans/{journey.line_id}/statements")
    assert statements["next"] is None
    [statement] = statements["items"]
    assert (statement["period_start"], statement["period_end"], statement["due_date"]) == (
        journey.opened_on.isoformat(),
        due.isoformat(),
        due.isoformat(),
    )
    assert (statement["opening_balance"], statement["drawn"], statement["repaid"]) == ("0.00", "10000.00", "0.00")
    interest_due = Decimal(statement["interest"])
    assert interest_due > 0
    assert statement["minimum_due"] == statement["unpaid"] == str(interest_due)
    assert statement["closing_balance"] == str(Decimal("10000.00") + interest_due)
    assert statement["paid"] is False
    line_movements = _get(client, f"/v1/loans/{journey.line_id}/transactions")["items"]
    assert [m["kind"] for m in line_movements] == ["drawdown", "interest"]
    assert line_movements[1]["amount"] == str(interest_due)
    assert line_movements[1]["effective_on"] == due.isoformat()
