"""Money handlers on their events: the workflow's payout and booking steps, the payments webhook, the daily close."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from decimal import Decimal
from typing import Any

import pytest
from handler_harness import PAYMENTS_SECRET, Deployed, event, from_item, to_attribute

from infra.local.vendors.payouts import SandboxPayoutProvider
from lending.webhooks import sign

APPLICATION_ID = "app_62e4ab26d21301822e47538f72"
LOAN_ID = "loan_df25044cff9d2a5a42edf1f852"  # the payments webhook event's loan: the one this application books
#: What the decision leaves on an application it approves: 120,000.00 at 12% over 12 months, equal instalments.
APPROVED_DECISION = {
    "outcome": "approve",
    "rule": "approved",
    "product": "business_instalment",
    "risk_grade": "B",
    "score": 720,
    "reasons": [],
    "terms": {
        "product": "business_instalment",
        "limit": "120000.00",
        "annual_rate": "0.1200",
        "term_months": 12,
        "method": "equal_instalment",
    },
}


def stored(deployed: Deployed, table: str, **key: str) -> dict[str, Any]:
    item = deployed.client("dynamodb").get_item(
        TableName=deployed.table(table), Key={name: {"S": value} for name, value in key.items()}
    )
    return from_item(item["Item"]) if "Item" in item else {}


def balance(deployed: Deployed, account: str) -> str:
    """A ledger account's posted balance, in yuan (debit positive), from its stored balance item."""
    item = stored(deployed, "LedgerTable", pk=f"ACCOUNT#{account}", sk="BALANCE")
    fen = int(item.get("posted", 0))
    return f"{'-' if fen < 0 else ''}{abs(fen) // 100}.{abs(fen) % 100:02d}"


@pytest.fixture
def payouts() -> Iterator[SandboxPayoutProvider]:
    provider = SandboxPayoutProvider()
    provider.start()
    yield provider
    provider.stop()


def _approved(deployed: Deployed) -> None:
    """The application received, then approved as the identity, assessment and decision steps leave it."""
    deployed.invoke("ApplicationIntakeFunction", event("application_intake"))
    deployed.client("dynamodb").update_item(
        TableName=deployed.table("ApplicationsTable"),
        Key={"application_id": {"S": APPLICATION_ID}},
        UpdateExpression="SET #status = :status, decision = :decision",
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues={":status": {"S": "APPROVED"}, ":decision": to_attribute(APPROVED_DECISION)},
    )


def _accepted(deployed: Deployed) -> None:
    """The offer accepted as it stands, as the acceptance records it (lending.steps.acceptance)."""
    offer = stored(deployed, "ApplicationsTable", application_id=APPLICATION_ID)["offer"]
    accepted = {
        "contract_sha256": "0" * 64,
        "amount": offer["limit"],
        "term_months": int(offer["term_months"]),
        "net_disbursement": offer["net_disbursement"],
    }
    deployed.client("dynamodb").update_item(
        TableName=deployed.table("ApplicationsTable"),
        Key={"application_id": {"S": APPLICATION_ID}},
        UpdateExpression="SET accepted = :accepted",
        ExpressionAttributeValues={":accepted": to_attribute(accepted)},
    )


def _paid_out(deployed: Deployed, payouts: SandboxPayoutProvider) -> dict[str, Any]:
    """The offer priced, its funding reserved and the net amount paid out, each by its workflow step's event."""
    _approved(deployed)
    assert deployed.invoke("OfferPricingFunction", event("offer_pricing"))["limit"] == "120000.00"
    _accepted(deployed)
    deployed.invoke("FundingReservationFunction", event("funding_reservation"))
    payout: dict[str, Any] = deployed.invoke(
        "DisbursementFunction", event("disbursement"), PAYOUT_PROVIDER_URL=payouts.url
    )
    return payout


@pytest.fixture
def booked(deployed: Deployed, payouts: SandboxPayoutProvider) -> dict[str, Any]:
    """A loan paid out and booked through the workflow's steps; its stored record."""
    _paid_out(deployed, payouts)
    assert deployed.invoke("BookingFunction", event("booking")) == {"loan_id": LOAN_ID, "status": "DISBURSED"}
    return stored(deployed, "LoansTable", loan_id=LOAN_ID)


def signed(notice: dict[str, Any], **changes: str) -> dict[str, Any]:
    """The payments webhook event with its body changed and signed now, as the provider signs what it sends."""
    body = json.dumps({**json.loads(notice["body"]), **changes}, separators=(",", ":"))
    signature = sign(PAYMENTS_SECRET.encode(), body.encode(), int(time.time()))
    notice = {**notice, "body": body, "headers": {**notice["headers"], "X-Signature": signature}}
    notice["multiValueHeaders"] = {k: [v] for k, v in notice["headers"].items()}
    return notice


def test_the_disbursement_step_pays_the_net_amount_once_however_often_it_runs(
    deployed: Deployed, payouts: SandboxPayoutProvider
) -> None:
    # Given an approved application whose offer is priced and whose funding is reserved
    payout = _paid_out(deployed, payouts)
    application = stored(deployed, "ApplicationsTable", application_id=APPLICATION_ID)
    net = application["offer"]["net_disbursement"]

    # Then the provider paid the offer's net amount to the borrower's account, once, keyed by the application
    (made,) = payouts.payouts(APPLICATION_ID)
    assert (str(made.amount), made.bank_account_last4, made.idempotency_key) == (
        net,
        "5678",
        f"disburse-{APPLICATION_ID}",
    )
    assert (payout["payout_id"], payout["amount"]) == (made.payout_id, net)
    assert application["status"] == "DISBURSING"
    assert application["payout"] == payout
    # And the funding is held for the loan, not yet posted
    assert stored(deployed, "LedgerTable", pk=f"TX#{APPLICATION_ID}/funding", sk="TX")

    # When the workflow retries the step
    again = deployed.invoke("DisbursementFunction", event("disbursement"), PAYOUT_PROVIDER_URL=payouts.url)

    # Then it answers the same payout and pays nothing more
    assert again == payout
    assert len(payouts.payouts(APPLICATION_ID)) == 1


def test_the_booking_step_books_the_loan_its_schedule_and_the_ledger(
    deployed: Deployed, booked: dict[str, Any]
) -> None:
    # Then the loan is stored with its 12 instalments of 10,661.85 (the last one evens out the rounding)
    assert (booked["principal"], booked["annual_rate"], booked["status"]) == ("120000.00", "0.1200", "ACTIVE")
    schedule = booked["schedule"]
    assert len(schedule) == 12
    totals = [Decimal(row["principal"]) + Decimal(row["interest"]) + Decimal(row["fee"]) for row in schedule]
    assert set(totals[:-1]) == {Decimal("10661.85")}
    assert sum(Decimal(row["principal"]) for row in schedule) == Decimal("120000.00")
    assert (schedule[0]["principal"], schedule[0]["interest"]) == ("9461.85", "1200.00")
    assert booked["next_due_on"] == schedule[0]["due_date"]
    # And the ledger holds the principal as the loan's receivable, from the funding posted
    assert balance(deployed, f"principal_receivable:{LOAN_ID}") == "120000.00"
    assert stored(deployed, "ApplicationsTable", application_id=APPLICATION_ID)["status"] == "DISBURSED"

    # When the workflow retries the step, nothing is booked twice
    assert deployed.invoke("BookingFunction", event("booking")) == {"loan_id": LOAN_ID, "status": "DISBURSED"}
    assert balance(deployed, f"principal_receivable:{LOAN_ID}") == "120000.00"


def test_a_signed_repayment_notice_is_applied_once(deployed: Deployed, booked: dict[str, Any]) -> None:
    # Given the provider's notice of the first instalment, paid now and signed now
    notice = signed(event("payments_webhook"), paid_at=datetime.now(UTC).isoformat())
    cash = Decimal(balance(deployed, "settlement_cash"))

    # When the webhook receives it
    response = deployed.invoke("PaymentsWebhookFunction", notice)

    # Then it is applied: paid before its due date, it pays only the interest earned so far (none on the payout
    # day, a day's at most if midnight fell between) and the rest reduces principal
    assert response["statusCode"] == 200
    receipt = json.loads(response["body"])
    assert (receipt["event_id"], receipt["loan_id"], receipt["status"]) == (
        "pay_evt_20261204_000187",
        LOAN_ID,
        "applied",
    )
    # (income and cash are the book's accounts, kept for no one loan; this book holds only this loan)
    earned = -Decimal(balance(deployed, "interest_income"))
    assert Decimal("0") <= earned <= Decimal("40.00")  # 120,000.00 × 12% / 360 = 40.00 a day
    owed_after = balance(deployed, f"principal_receivable:{LOAN_ID}")
    assert Decimal(owed_after) == Decimal("120000.00") - (Decimal("10661.85") - earned)
    assert Decimal(balance(deployed, "settlement_cash")) - cash == Decimal("10661.85")

    # When the provider sends the same notice again
    paid_at = json.loads(notice["body"])["paid_at"]
    again = deployed.invoke("PaymentsWebhookFunction", signed(event("payments_webhook"), paid_at=paid_at))

    # Then it is answered as a duplicate and the books do not move
    assert again["statusCode"] == 200
    assert json.loads(again["body"])["status"] == "duplicate"
    assert balance(deployed, f"principal_receivable:{LOAN_ID}") == owed_after


def test_a_notice_with_a_bad_signature_changes_nothing(deployed: Deployed, booked: dict[str, Any]) -> None:
    # Given the event as recorded: its signature is for another time and body
    response = deployed.invoke("PaymentsWebhookFunction", event("payments_webhook"))

    # Then it is refused and the loan owes what it owed
    assert response["statusCode"] == 401
    assert balance(deployed, f"principal_receivable:{LOAN_ID}") == "120000.00"


def test_the_daily_close_ages_a_loan_ten_days_overdue_and_accrues_its_penalty(
    deployed: Deployed, booked: dict[str, Any]
) -> None:
    # Given the nightly schedule firing at 00:30 China time, ten days after the first instalment fell due unpaid
    due = date.fromisoformat(booked["schedule"][0]["due_date"])
    fired = datetime.combine(due + timedelta(days=11), clock_time(0, 30), tzinfo=UTC) - timedelta(hours=8)
    scheduled = {**event("daily_close"), "time": fired.strftime("%Y-%m-%dT%H:%M:%SZ")}

    # When the daily close runs
    summary = deployed.invoke("DailyCloseFunction", scheduled)

    # Then it closed the day before it fired, and aged this loan
    assert summary == {
        "close_date": (due + timedelta(days=10)).isoformat(),
        "loans_read": 1,
        "loans_changed": 1,
        "warnings": summary["warnings"],
        "classified": 1,  # overdue: special mention
        "written_off": 0,
        "portfolio_loans": 1,  # the day's snapshot counts it
    }
    # And the first instalment's interest is receivable, with 10 days of penalty on its 9,461.85 principal:
    # 9,461.85 × (12% × 1.5) / 360 = 4.730925 a day, rounded half up to 4.73, × 10 = 47.30
    assert balance(deployed, f"interest_receivable:{LOAN_ID}") == "1200.00"
    assert balance(deployed, f"penalty_receivable:{LOAN_ID}") == "47.30"

    # When the same close runs again (EventBridge delivers at least once), nothing moves twice
    again = deployed.invoke("DailyCloseFunction", scheduled)
    assert (again["loans_read"], again["loans_changed"]) == (1, 0)
    assert balance(deployed, f"penalty_receivable:{LOAN_ID}") == "47.30"
