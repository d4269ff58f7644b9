"""Servicing by replay (lending.servicing) and the line's statement cycle (lending.credit_line): known answers,
with the arithmetic beside them."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest

from lending.catalogue import Method, load_catalogue
from lending.credit_line import CreditLine, DrawdownRefused
from lending.ledger import Account, AccountCode
from lending.money import Money
from lending.pricing import make_offer
from lending.servicing import (
    EventKind,
    LoanTerms,
    ServicingEvent,
    UnplaceablePayment,
    bucket_for,
    difference,
    replay,
    schedule_record,
)

CATALOGUE = load_catalogue()
OPENED = date(2026, 1, 10)
CST = timedelta(hours=8)


def _at(day: date, minute: int = 0) -> datetime:
    return datetime.combine(day, time(10, minute), tzinfo=UTC) - CST


def _event(event_id: str, kind: EventKind, day: date, amount: str, minute: int = 0) -> ServicingEvent:
    return ServicingEvent(event_id, kind, _at(day, minute), Money.of(amount))


def _line(**changes: Any) -> CreditLine:
    options: dict[str, Any] = {"term_months": 3, "penalty_annual_rate": Decimal("0.24")} | changes
    return CreditLine("CL-1", Money.of("50000"), Decimal("0.18"), OPENED, **options)


def _loan_terms() -> LoanTerms:
    offer = make_offer(
        CATALOGUE, "business_instalment", Money.of("12000.00"), 3, Method.EQUAL_INSTALMENT, OPENED, Decimal("0.12")
    )
    record = {
        "loan_id": "L-1",
        "product": "business_instalment",
        "opened_on": OPENED.isoformat(),
        "annual_rate": "0.1200",
        "term_months": 3,
        "principal": "12000.00",
        "method": "equal_instalment",
        "schedule": schedule_record(offer.schedule),
    }
    return LoanTerms.from_record(record, CATALOGUE)


def test_a_line_states_its_interest_on_the_monthly_anniversary_and_charges_penalty_after_it() -> None:
    # Given 10,000.00 drawn on 12 Jan at 18% / 360: 10,000 × 0.18 / 360 = 5.00 a day
    line = _line()
    line.advance_to(date(2026, 1, 12))
    line.draw(Money.of("10000"), date(2026, 1, 12))
    # When the first anniversary (10 Feb) comes: 12 Jan … 9 Feb is 29 days = 145.00, stated and due that day
    interest, penalty = line.advance_to(date(2026, 2, 10))
    assert (interest, penalty) == (Money.of("145.00"), Money.ZERO)
    assert [(s.due_date, s.unpaid_interest) for s in line.statements] == [(date(2026, 2, 10), Money.of("145.00"))]
    assert line.days_past_due(date(2026, 2, 10)) == 0
    # Then unpaid on 11 Feb it is overdue: 145.00 × 0.24 / 360 = 0.0967, 0.10 a day (half up), 1 day past due
    interest, penalty = line.advance_to(date(2026, 2, 12))
    assert penalty == Money.of("0.20")  # 11 and 12 Feb
    assert interest == Money.of("10.00")  # 10 and 11 Feb
    assert line.days_past_due() == 2


def test_a_line_repayment_pays_penalty_then_stated_interest_then_the_rest_then_principal_then_credit() -> None:
    line = _line()
    line.draw(Money.of("10000"), OPENED)
    line.advance_to(date(2026, 2, 12))  # 31 days stated (155.00), 2 days of penalty (0.20), 2 more days (10.00)
    repaid = line.repay(Money.of("10200.00"), date(2026, 2, 12))
    assert repaid.penalty == Money.of("0.20")
    assert repaid.interest == Money.of("165.00")  # 155.00 stated + 10.00 accrued since
    assert repaid.principal == Money.of("10000.00")
    assert repaid.credit == Money.of("34.80")
    assert line.days_past_due() == 0
    assert line.statements[0].unpaid == Money.ZERO


def test_a_line_asks_for_its_principal_at_maturity_and_allows_no_drawdown_from_then() -> None:
    line = _line(term_months=2)
    line.draw(Money.of("1000"), OPENED)
    line.advance_to(date(2026, 3, 10))
    last = line.statements[-1]
    assert (last.due_date, last.unpaid_principal) == (date(2026, 3, 10), Money.of("1000.00"))
    assert line.next_statement_date is None
    assert line.refusal(Money.of("1"), date(2026, 3, 10)) == "line CL-1 matured on 2026-03-10: no more drawdowns"
    with pytest.raises(DrawdownRefused):
        line.draw(Money.of("1"), date(2026, 3, 10))
    line.repay(line.principal_outstanding + line.interest_accrued + line.penalty_accrued, date(2026, 3, 10))
    assert line.is_closed


def test_held_drawdowns_and_a_freeze_count_against_a_new_one() -> None:
    line = _line()
    line.draw(Money.of("30000"), OPENED)
    assert line.refusal(Money.of("15000"), OPENED, held=Money.of("5000")) is None
    assert (
        line.refusal(Money.of("15001"), OPENED, held=Money.of("5000"))
        == "15001.00 is over the available limit of 15000.00"
    )
    line.frozen = True
    assert "frozen" in str(line.refusal(Money.of("1"), OPENED))


@pytest.mark.parametrize(
    ("days", "bucket"),
    [(0, None), (1, "dpd_1_30"), (30, "dpd_1_30"), (31, "dpd_31_60"), (90, "dpd_61_90"), (91, "dpd_90_plus")],
)
def test_days_past_due_fall_in_the_catalogue_buckets(days: int, bucket: str | None) -> None:
    assert bucket_for(days, CATALOGUE.delinquency_buckets) == bucket


def test_a_late_arriving_earlier_payment_takes_back_the_penalty_it_prevented() -> None:
    terms = _loan_terms()
    first_due = terms.schedule.instalments[0].due_date if terms.schedule else OPENED
    instalment = terms.schedule.instalments[0].total if terms.schedule else Money.ZERO
    on_time = _event("on-time", EventKind.REPAYMENT, first_due, str(instalment))
    # Aged 10 days past the due date before the on-time payment's notice arrived: penalty was charged.
    aged = first_due + timedelta(days=10)
    before = replay(terms, [], aged)
    assert before.penalty_accrued > Money.ZERO
    after = replay(terms, [on_time], aged)
    assert after.penalty_accrued == Money.ZERO
    transaction = difference("L-1/on-time", "repayment", on_time.on, before.booked, after.booked, "late notice")
    assert transaction is not None
    by_account = {p.account: p.amount for p in transaction.postings}
    assert by_account[Account(AccountCode.PENALTY_INCOME)] == before.penalty_accrued  # income reversed (a debit)
    assert by_account[Account(AccountCode.SETTLEMENT_CASH)] == instalment


def test_paying_the_payoff_closes_the_loan_and_any_more_is_credit() -> None:
    terms = _loan_terms()
    day = OPENED + timedelta(days=40)
    quote = replay(terms, [], day)
    paid = replay(terms, [_event("payoff", EventKind.REPAYMENT, day, str(quote.payoff + Money.of("1.00")))], day)
    assert paid.status == "CLOSED"
    assert paid.principal_outstanding == Money.ZERO
    assert paid.credit_balance == Money.of("1.00")
    assert paid.next_due_on is None


def test_a_payment_dated_before_the_loan_opened_cannot_be_placed() -> None:
    with pytest.raises(UnplaceablePayment):
        replay(_loan_terms(), [_event("early", EventKind.REPAYMENT, OPENED - timedelta(days=1), "10.00")], OPENED)
