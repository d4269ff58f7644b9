"""Repaying any time over HTTP: a payment before a due date pays only the interest earned to its day, the rest
reduces principal and the schedule is re-planned; a product charging interest by the day quotes its payoff by the
day. Driven by the test clock, as a borrower's phone and the payment provider would."""

from __future__ import annotations

import json
import time
import urllib.request
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

import pytest

from infra.local.platform import LocalPlatform
from lending.webhooks import SIGNATURE_HEADER, sign

if TYPE_CHECKING:
    from conftest import Client

TERMINAL = {"DISBURSED", "DECLINED", "FAILED", "EXPIRED", "LINE_OPENED"}


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


def _pay(client: Client, loan_id: str, amount: str, event_id: str) -> dict[str, Any]:
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
    return dict(receipt)


def _loan(client: Client, loan_id: str) -> dict[str, Any]:
    status, view = client.call("GET", f"/v1/loans/{loan_id}")
    assert status == 200, view
    return dict(view)


def _disbursed(client: Client, key: str, **changes: Any) -> dict[str, Any]:
    """The application's view once its loan is paid out."""
    application_id = client.apply("0001", key=key, **changes)
    view = client.wait_for(application_id, TERMINAL)
    assert view["status"] == "DISBURSED", view
    return view


@pytest.fixture(scope="module")
def business_loan(client: Client) -> str:
    return str(_disbursed(client, "any-time-business", amount="60000.00", term_months=12)["loan_id"])


@pytest.fixture(scope="module")
def daily_application(client: Client) -> dict[str, Any]:
    return _disbursed(client, "any-time-daily", product="consumer_instalment", amount="36500.00", term_months=6)


def test_a_payment_on_the_payout_day_reduces_principal_by_all_of_it(client: Client, business_loan: str) -> None:
    # Given a 60,000.00 loan paid out today, whose first instalment charges a month's interest
    before = _loan(client, business_loan)
    assert before["principal_outstanding"] == "60000.00"
    assert before["payoff_amount"] == "60000.00"  # nothing is earned on the payout day

    # When the borrower pays 3,000.00 the same day
    _pay(client, business_loan, "3000.00", "any-time-payout-day")

    # Then all of it reduced principal: the loan owes 57,000.00, and its re-planned schedule repays exactly that
    after = _loan(client, business_loan)
    assert after["principal_outstanding"] == "57000.00"
    assert after["payoff_amount"] == "57000.00"
    unpaid = sum(Decimal(row["principal"]) - Decimal(row["principal_paid"]) for row in after["schedule"])
    assert unpaid == Decimal("57000.00")
    # And the first instalment's interest is the month's on the lower balance (it fell by 3,000 × the monthly rate)
    first_before, first_after = before["schedule"][0], after["schedule"][0]
    assert Decimal(first_after["interest"]) < Decimal(first_before["interest"])
    assert first_after["interest_paid"] == "0.00"
    assert first_after["paid"] is False


def test_a_daily_product_quotes_and_takes_its_payoff_by_the_day(
    client: Client, platform: LocalPlatform, daily_application: dict[str, Any]
) -> None:
    # Given a consumer loan charging interest by the day, ten days after its payout
    daily_loan = str(daily_application["loan_id"])
    principal = Decimal(_loan(client, daily_loan)["principal_outstanding"])
    rate = Decimal(daily_application["offer"]["annual_rate"])
    today = date.fromisoformat(_control(platform, "/clock")["date"])
    day = today + timedelta(days=10)
    _control(platform, "/clock", {"advance_to": day.isoformat()})

    # When the borrower asks what repaying everything costs today
    status, payoff = client.call("GET", f"/v1/loans/{daily_loan}/payoff?date={day.isoformat()}")

    # Then it is the principal and ten days' interest on it at the rate / 365
    assert status == 200, payoff
    interest = (principal * rate * 10 / 365).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    assert (payoff["principal"], payoff["interest_and_fees"]) == (str(principal), str(interest))
    assert payoff["amount"] == str(principal + interest)

    # And paying it closes the loan with nothing left over
    receipt = _pay(client, daily_loan, payoff["amount"], "any-time-daily-payoff")
    assert receipt["loan_status"] == "CLOSED"
    closed = _loan(client, daily_loan)
    assert (closed["status"], closed["principal_outstanding"], closed["credit_balance"]) == ("CLOSED", "0.00", "0.00")
