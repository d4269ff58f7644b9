"""Hardship relief over HTTP: a borrower whose instalment went unpaid asks for a payment holiday, an underwriter
approves it, the borrower reads the restructured plan's contract and accepts it, and the loan's schedule is the new
plan. Bad input, someone else's loan, a line, a closed loan and two requests at once are refused."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from dataclasses import dataclass
from datetime import date, timedelta
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


def _get(client: Client, path: str, token: str = "borrower") -> dict[str, Any]:
    status, answer = client.call("GET", path, token=token)
    assert status == 200, answer
    return dict(answer)


def _ask(client: Client, loan_id: str, body: Any, key: str | None, token: str = "borrower") -> tuple[int, Any]:
    headers = {} if key is None else {"Idempotency-Key": key}
    return client.call("POST", f"/v1/loans/{loan_id}/hardship", body, token=token, headers=headers)


HOLIDAY = {"kind": "payment_holiday", "months": 2, "reason": "a customer paid late; sales recover next quarter"}


@dataclass
class Journey:
    loan_id: str
    line_id: str
    opened_on: date
    today: date


@pytest.fixture(scope="module")
def journey(client: Client, platform: LocalPlatform) -> Journey:
    """A 6-month loan and a line bound to an account auto-debit cannot collect from (ending 3333), aged five days
    past the loan's first due date, which stays unpaid."""
    loan = client.open("0001", "3333", key="hardship-loan", amount="12000.00", term_months=6)
    line = client.open("0001", "3333", key="hardship-line", product="credit_line", amount="50000.00", term_months=12)
    assert (loan["status"], line["status"]) == ("DISBURSED", "LINE_OPENED")
    opened_on = date.fromisoformat(_get(client, f"/v1/loans/{loan['loan_id']}")["schedule"][0]["due_date"])
    opened_on = add_months(opened_on, -1)
    today = add_months(opened_on, 1) + timedelta(days=5)
    _control(platform, "/clock", {"advance_to": today.isoformat()})
    assert _get(client, f"/v1/loans/{loan['loan_id']}")["days_past_due"] == 5
    return Journey(loan["loan_id"], line["loan_id"], opened_on, today)


def test_bad_input_and_loans_without_relief_are_refused(client: Client, journey: Journey) -> None:
    # A kind, a term or a body outside the contract: 422 naming the field
    for body, field in (
        ({**HOLIDAY, "kind": "forgiveness"}, "kind"),
        ({**HOLIDAY, "months": 7}, "months"),
        ({**HOLIDAY, "months": 0}, "months"),
        ({**HOLIDAY, "months": "2"}, "months"),
        ({"kind": "payment_holiday", "months": 2}, "reason"),
    ):
        status, answer = _ask(client, journey.loan_id, body, "hardship-bad")
        assert status == 422, answer
        assert field in json.dumps(answer["error"]), answer
    # The Idempotency-Key is required
    status, answer = _ask(client, journey.loan_id, HOLIDAY, None)
    assert status == 422, answer
    # Someone else's loan is not there at all
    status, answer = _ask(client, journey.loan_id, HOLIDAY, "hardship-foreign", token="borrower2")
    assert (status, answer["error"]["code"]) == (404, "not_found"), answer
    # A line has no instalments to relieve
    status, answer = _ask(client, journey.line_id, HOLIDAY, "hardship-line")
    assert (status, answer["error"]["code"]) == (409, "relief_not_available"), answer
    # A borrower cannot read the underwriters' hardship queue
    status, answer = client.call("GET", "/v1/reviews?kind=hardship")
    assert status == 403, answer


def test_two_requests_at_once_one_wins_and_its_key_answers_it_again(client: Client, journey: Journey) -> None:
    # Given two requests on the same loan at the same moment, under two keys
    answers: dict[str, tuple[int, Any]] = {}

    def ask(key: str) -> None:
        answers[key] = _ask(client, journey.loan_id, HOLIDAY, key)

    threads = [threading.Thread(target=ask, args=(f"hardship-race-{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then exactly one is under review and the other is hardship_in_progress
    statuses = sorted(status for status, _ in answers.values())
    assert statuses == [202, 409], answers
    (winner, (_, first)) = next((k, a) for k, a in answers.items() if a[0] == 202)
    loser = next(a for a in answers.values() if a[0] == 409)[1]
    assert loser["error"]["code"] == "hardship_in_progress", loser
    assert first["status"] == "UNDER_REVIEW"
    # And the winner's key again answers the same request; another body under it is a conflict
    assert _ask(client, journey.loan_id, HOLIDAY, winner) == (202, first)
    status, answer = _ask(client, journey.loan_id, {**HOLIDAY, "months": 3}, winner)
    assert (status, answer["error"]["code"]) == (409, "idempotency_conflict"), answer


def _open_request(client: Client, journey: Journey) -> dict[str, Any]:
    """The loan's one request in the underwriters' queue, once its workflow has put it there."""

    def queued() -> list[dict[str, Any]]:
        queue = _get(client, "/v1/reviews?kind=hardship", token="underwriter")["reviews"]
        return [r for r in queue if r["loan_id"] == journey.loan_id]

    mine = client.wait_until(queued, lambda seen: len(seen) == 1, "the request in the underwriters' queue")
    return dict(mine[0])


def test_an_approved_and_accepted_holiday_restructures_the_loan(client: Client, journey: Journey) -> None:
    # Given the request in the underwriters' queue, with the loan's days past due and the proposed plan
    item = _open_request(client, journey)
    request_id = item["request_id"]
    path = f"/v1/loans/{journey.loan_id}/hardship/{request_id}"
    assert (item["kind"], item["months"], item["days_past_due"]) == ("payment_holiday", 2, 5)
    assert item["proposal"]["principal"] == "12000.00"
    assert date.fromisoformat(item["proposal"]["first_due_date"]) > journey.today
    # Before a decision there is no contract to read
    status, answer = client.call("GET", f"{path}/contract")
    assert (status, answer["error"]["code"]) == (409, "not_awaiting_acceptance"), answer

    # When an underwriter approves it
    status, decided = client.call(
        "POST", f"/v1/reviews/{request_id}", {"decision": "approve", "note": "temporary"}, token="underwriter"
    )
    assert status == 200, decided
    status, again = client.call("POST", f"/v1/reviews/{request_id}", {"decision": "decline"}, token="underwriter")
    assert (status, again["error"]["code"]) == (409, "conflict"), again
    approved = client.wait_until(
        lambda: _get(client, path), lambda seen: seen["status"] == "APPROVED", f"{request_id} to be approved"
    )
    assert approved["decision"] == "approve"

    # Then the borrower reads the new contract: APR first and within the cap, the plan from after the holiday
    contract = _get(client, f"{path}/contract")
    assert contract["sha256"] == approved["offer"]["contract_sha256"]
    assert contract["text"].startswith("APR")
    assert Decimal("0") < Decimal(contract["apr"]) <= Decimal("0.24")
    assert contract["amount"] == "12000.00"
    assert Decimal(contract["holiday_interest"]) > 0
    new_dates = [row["due_date"] for row in contract["schedule"]]
    assert new_dates[0] == add_months(journey.opened_on, 4).isoformat()  # 2nd due date, two months later
    status, chinese = client.call("GET", f"{path}/contract", headers={"Accept-Language": "zh-CN"})
    assert status == 200, chinese
    assert chinese["sha256"] == contract["sha256"]
    assert chinese["text"].startswith("年化利率")
    # A hash that is not the contract offered is refused
    status, answer = client.call(
        "POST", f"{path}/acceptance", {"contract_sha256": "0" * 64}, headers={"Idempotency-Key": "hardship-accept-0"}
    )
    assert (status, answer["error"]["code"]) == (409, "contract_mismatch"), answer

    # When the borrower accepts exactly that contract
    status, accepted = client.call(
        "POST",
        f"{path}/acceptance",
        {"contract_sha256": contract["sha256"]},
        headers={"Idempotency-Key": "hardship-accept"},
    )
    assert status == 202, accepted
    done = client.wait_until(
        lambda: _get(client, path), lambda seen: seen["status"] == "RESTRUCTURED", f"{request_id} to be restructured"
    )
    assert done["restructured_on"] == journey.today.isoformat()

    # Then the loan's schedule is the new plan: nothing overdue, the unpaid instalments moved two months
    loan = _get(client, f"/v1/loans/{journey.loan_id}")
    assert loan["days_past_due"] == 0
    assert [row["due_date"] for row in loan["schedule"]] == new_dates
    assert [row["interest"] for row in loan["schedule"]] == [row["interest"] for row in contract["schedule"]]
    assert loan["principal_outstanding"] == "12000.00"
    # The same acceptance again answers as the first; another hash is already_accepted
    status, repeat = client.call(
        "POST", f"{path}/acceptance", {"contract_sha256": contract["sha256"]}, headers={"Idempotency-Key": "again"}
    )
    assert (status, repeat["contract_sha256"]) == (202, contract["sha256"]), repeat
    status, other = client.call(
        "POST", f"{path}/acceptance", {"contract_sha256": "1" * 64}, headers={"Idempotency-Key": "other"}
    )
    assert (status, other["error"]["code"]) == (409, "already_accepted"), other
    # The restructure is in the loan's audit chain, which still verifies
    audit = _get(client, f"/v1/loans/{journey.loan_id}/audit")
    kinds = [event["kind"] for event in audit["events"]]
    assert "restructured" in kinds
    assert "hardship_contract_accepted" in kinds
    assert audit["verified"] is True


def test_a_new_request_after_the_restructure_can_be_declined(client: Client, journey: Journey) -> None:
    # Given the loan released by the restructure, a new request for an extension
    status, asked = _ask(
        client, journey.loan_id, {"kind": "term_extension", "months": 3, "reason": "still slow"}, "hardship-ext"
    )
    assert status == 202, asked
    path = f"/v1/loans/{journey.loan_id}/hardship/{asked['request_id']}"
    assert _open_request(client, journey)["request_id"] == asked["request_id"]
    # When the underwriter declines it
    status, decided = client.call(
        "POST", f"/v1/reviews/{asked['request_id']}", {"decision": "decline"}, token="underwriter"
    )
    assert status == 200, decided
    # Then it ends declined with its reason, and another borrower cannot see it
    ended = client.wait_until(
        lambda: _get(client, path), lambda seen: seen["status"] == "DECLINED", "the request to be declined"
    )
    assert ended["outcome_reason"] == "underwriter_declined"
    status, _ = client.call("GET", path, token="borrower2")
    assert status == 404


def test_a_repaid_loan_has_nothing_to_relieve(client: Client, journey: Journey) -> None:
    # Given a loan repaid in full through the provider
    loan = client.open("0001", "3333", key="hardship-repaid", amount="10000.00", term_months=3)
    payoff = _get(client, f"/v1/loans/{loan['loan_id']}/payoff?date={journey.today.isoformat()}")
    moment = _control(client.platform, "/clock")["now"]
    body = json.dumps(
        {
            "event_id": "hardship-payoff",
            "loan_id": loan["loan_id"],
            "amount": payoff["amount"],
            "paid_at": moment,
            "kind": "repayment",
        }
    ).encode()
    key = client.platform.webhook_secrets["payments"].encode()
    status, receipt = client.call(
        "POST", "/v1/webhooks/payments", body, token=None, headers={SIGNATURE_HEADER: sign(key, body, int(time.time()))}
    )
    assert status == 200, receipt
    assert _get(client, f"/v1/loans/{loan['loan_id']}")["status"] == "CLOSED"
    # Then relief is refused as loan_closed
    status, answer = _ask(client, loan["loan_id"], HOLIDAY, "hardship-closed")
    assert (status, answer["error"]["code"]) == (409, "loan_closed"), answer
