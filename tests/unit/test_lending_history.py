"""A loan's history (lending.history): its movements and a line's statements, derived from the servicing replay and
the ledger transactions it books; known answers, and the walk ends where the replay ends."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lending.catalogue import Method, load_catalogue
from lending.history import MovementKind, movements, statements
from lending.ledger import AccountCode
from lending.money import Money
from lending.pricing import make_offer
from lending.servicing import EventKind, LoanTerms, ServicingEvent, replay, schedule_record

CATALOGUE = load_catalogue()
OPENED = date(2026, 1, 10)
CST = timedelta(hours=8)


def _at(day: date, minute: int = 0) -> datetime:
    return datetime.combine(day, time(10, minute), tzinfo=UTC) - CST


def _event(event_id: str, kind: EventKind, day: date, amount: str) -> ServicingEvent:
    return ServicingEvent(event_id, kind, _at(day), Money.of(amount))


def _loan_record(months: int = 3, principal: str = "12000.00", product: str = "business_instalment") -> dict[str, Any]:
    offer = make_offer(
        CATALOGUE, product, Money.of(principal), months, Method.EQUAL_INSTALMENT, OPENED, Decimal("0.12")
    )
    return {
        "loan_id": "L-1",
        "product": product,
        "opened_on": OPENED.isoformat(),
        "annual_rate": "0.1200",
        "term_months": months,
        "principal": principal,
        "method": "equal_instalment",
        "upfront_fee": str(offer.upfront_fee),
        "schedule": schedule_record(offer.schedule),
    }


def _line_record(months: int = 3) -> dict[str, Any]:
    return {
        "loan_id": "CL-1",
        "product": "credit_line",
        "opened_on": OPENED.isoformat(),
        "annual_rate": "0.1800",
        "term_months": months,
        "limit": "50000.00",
    }


def _terms(record: dict[str, Any]) -> LoanTerms:
    return LoanTerms.from_record(record, CATALOGUE)


def test_a_loan_shows_its_disbursement_then_interest_falling_due_then_a_repayment_with_its_split() -> None:
    # Given a 12,000.00 loan over 3 months at 12%, its first instalment paid on its due date
    record = _loan_record()
    terms = _terms(record)
    assert terms.schedule is not None
    first = terms.schedule.instalments[0]
    paid = _event("p-1", EventKind.REPAYMENT, first.due_date, str(first.total))
    # When its history is walked to that day
    history = movements(terms, record, [paid], first.due_date)
    # Then: the disbursement, the first interest falling due, the repayment split into interest and principal
    kinds = [m.kind for m in history if m.kind is not MovementKind.FEE]
    assert kinds == [MovementKind.DISBURSEMENT, MovementKind.INTEREST, MovementKind.REPAYMENT]
    disbursement, interest, repayment = (m for m in history if m.kind is not MovementKind.FEE)
    assert disbursement.id == "L-1/disbursement"
    assert disbursement.balances.principal == Money.of("12000.00")
    assert (interest.effective_on, interest.amount) == (first.due_date, first.interest)
    assert interest.balances.interest == first.interest
    assert repayment.id == "payment/p-1"
    assert repayment.split is not None
    assert (repayment.split.interest, repayment.split.principal) == (first.interest, first.principal)
    assert (repayment.split.penalty, repayment.split.fees, repayment.split.credit) == (Money.ZERO,) * 3
    assert repayment.balances.principal == Money.of("12000.00") - first.principal
    assert repayment.balances.interest == Money.ZERO


def test_every_movement_is_the_ledger_transaction_behind_it_and_balanced() -> None:
    record = _loan_record()
    terms = _terms(record)
    assert terms.schedule is not None
    late = terms.schedule.instalments[0].due_date + timedelta(days=12)
    history = movements(terms, record, [_event("p-1", EventKind.REPAYMENT, late, "5000.00")], late + timedelta(40))
    assert any(m.kind is MovementKind.PENALTY for m in history)
    for movement in history:
        if movement.transaction is not None:
            assert sum(p.amount.fen for p in movement.transaction.postings) == 0
            assert movement.transaction.effective_on == movement.effective_on
    ids = [m.id for m in history]
    assert len(ids) == len(set(ids))
    assert [m.effective_on for m in history] == sorted(m.effective_on for m in history)


def _booked_by_history(history: list[Any], loan_id: str) -> dict[AccountCode, int]:
    booked: dict[AccountCode, int] = {}
    for movement in history:
        if movement.transaction is None or movement.kind is MovementKind.DISBURSEMENT:
            continue
        for posting in movement.transaction.postings:
            if posting.account.key == loan_id:
                booked[posting.account.code] = booked.get(posting.account.code, 0) + posting.amount.fen
    return {code: fen for code, fen in booked.items() if fen}


@settings(max_examples=40, deadline=None)
@given(
    payments=st.lists(
        st.tuples(st.integers(min_value=0, max_value=120), st.integers(min_value=1, max_value=600_000)),
        max_size=5,
    ),
    extra_days=st.integers(min_value=0, max_value=60),
)
def test_the_walk_ends_where_the_replay_ends(payments: list[tuple[int, int]], extra_days: int) -> None:
    # Given any payments on any days, a loan's history walked to a day
    record = _loan_record()
    terms = _terms(record)
    events = [
        ServicingEvent(f"p-{n}", EventKind.REPAYMENT, _at(OPENED + timedelta(days), n), Money(fen))
        for n, (days, fen) in enumerate(payments)
    ]
    through = OPENED + timedelta(days=max([0, *(d for d, _ in payments)]) + extra_days)
    history = movements(terms, record, events, through)
    position = replay(terms, events, through)
    # Then its last balances are the replay's, and its loan postings are what the replay booked on the loan
    last = history[-1].balances
    assert last.principal == position.principal_outstanding
    assert last.interest == position.interest_accrued
    assert last.fees == position.fee_accrued
    assert last.penalty == position.penalty_accrued
    assert last.credit == position.credit_balance
    # (the loss allowance is the lender's estimate, not a movement on the borrower's account)
    replayed = {
        a.code: f
        for a, f in position.booked.items()
        if a.key == "L-1" and f and a.code is not AccountCode.LOAN_LOSS_ALLOWANCE
    }
    assert _booked_by_history(history, "L-1") == replayed
    # And each repayment's split adds up to the payment
    for movement in history:
        if movement.kind is MovementKind.REPAYMENT:
            assert movement.split is not None
            s = movement.split
            assert s.penalty + s.fees + s.interest + s.principal + s.credit == movement.amount


def test_a_line_shows_drawdowns_interest_on_statement_dates_and_repayments() -> None:
    record = _line_record()
    terms = _terms(record)
    drawn = _event("dd-1", EventKind.DRAWDOWN, date(2026, 1, 12), "10000.00")
    repaid = _event("p-1", EventKind.REPAYMENT, date(2026, 2, 20), "3000.00")
    history = movements(terms, record, [drawn, repaid], date(2026, 3, 15))
    assert [m.kind for m in history] == [
        MovementKind.DRAWDOWN,
        MovementKind.INTEREST,  # 12 Jan … 9 Feb, stated on 10 Feb
        MovementKind.INTEREST,  # 10 Feb … 19 Feb, accrued to the repayment's day
        MovementKind.PENALTY,  # 11 Feb … 20 Feb: the stated interest unpaid after its due date
        MovementKind.REPAYMENT,
        MovementKind.INTEREST,  # 20 Feb … 9 Mar, stated on 10 Mar
        MovementKind.INTEREST,  # 10 Mar … 14 Mar, accrued to the day
        MovementKind.PENALTY,  # 11 Mar … 15 Mar: the 10 Mar statement unpaid
    ]
    assert history[0].id == "CL-1/dd-1"
    assert history[1].amount == Money.of("145.00")  # 29 days × 10,000 × 0.18 / 360 = 5.00
    assert (history[2].amount, history[3].amount) == (Money.of("50.00"), Money.of("1.00"))  # 145.00 × 0.24 / 360
    repayment = history[4]
    assert repayment.split is not None
    assert (repayment.split.penalty, repayment.split.interest, repayment.split.principal) == (
        Money.of("1.00"),
        Money.of("195.00"),
        Money.of("2804.00"),
    )
    assert repayment.balances.principal == Money.of("7196.00")
    position = replay(terms, [drawn, repaid], date(2026, 3, 15))
    last = history[-1].balances
    assert (last.principal, last.interest, last.penalty) == (
        position.principal_outstanding,
        position.interest_accrued,
        position.penalty_accrued,
    )


def test_a_line_statement_closes_a_month_with_its_balances_interest_and_minimum_due() -> None:
    # Given 10,000.00 drawn on 12 Jan at 18% / 360 (5.00 a day), 3,000.00 repaid on 20 Feb
    terms = _terms(_line_record())
    events = [
        _event("dd-1", EventKind.DRAWDOWN, date(2026, 1, 12), "10000.00"),
        _event("p-1", EventKind.REPAYMENT, date(2026, 2, 20), "3000.00"),
    ]
    # When the statements are made through 15 Mar
    made = statements(terms, events, date(2026, 3, 15))
    # Then two: 10 Feb (29 days of interest) and 10 Mar
    assert [s.period_end for s in made] == [date(2026, 2, 10), date(2026, 3, 10)]
    first, second = made
    assert (first.period_start, first.opening_balance, first.drawn) == (OPENED, Money.ZERO, Money.of("10000.00"))
    assert (first.interest, first.minimum_due, first.due_date) == (Money.of("145.00"),) * 2 + (date(2026, 2, 10),)
    assert first.closing_balance == Money.of("10145.00")
    assert first.paid  # the 20 Feb repayment paid it (late)
    assert second.period_start == date(2026, 2, 11)
    assert second.opening_balance == first.closing_balance
    assert second.repaid == Money.of("3000.00")
    assert second.closing_balance == (
        second.opening_balance + second.drawn - second.repaid + second.interest + second.penalty
    )
    # What it makes due: the interest not paid by 20 Feb (20 Feb … 9 Mar, 18 days × 3.60); principal only at maturity
    assert second.minimum_due == Money.of("64.80")
    assert not second.paid


def test_an_instalment_loan_has_no_statements() -> None:
    with pytest.raises(ValueError, match="not a line"):
        statements(_terms(_loan_record()), [], OPENED)


@settings(max_examples=40, deadline=None)
@given(
    facts=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=100),
            st.sampled_from([EventKind.DRAWDOWN, EventKind.REPAYMENT]),
            st.integers(min_value=1, max_value=1_000_000),
        ),
        max_size=6,
    ),
    extra_days=st.integers(min_value=0, max_value=40),
)
def test_a_lines_walk_ends_where_its_replay_ends_and_each_statement_adds_up(
    facts: list[tuple[int, EventKind, int]], extra_days: int
) -> None:
    # Given drawdowns (within the limit) and repayments on any days of a 3-month line, walked to a day
    record = _line_record()
    terms = _terms(record)
    events, drawn = [], 0
    for n, (days, kind, fen) in enumerate(facts):
        if kind is EventKind.DRAWDOWN and drawn + fen > 5_000_000:
            continue
        drawn += fen if kind is EventKind.DRAWDOWN else 0
        events.append(ServicingEvent(f"e-{n}", kind, _at(OPENED + timedelta(days), n), Money(fen)))
    through = OPENED + timedelta(days=max([0, *(d for d, _, _ in facts)]) + extra_days)
    history = movements(terms, record, events, through)
    position = replay(terms, events, through)
    # Then the last balances are the replay's
    last = history[-1].balances if history else None
    if last is not None:
        assert (last.principal, last.interest, last.penalty, last.credit) == (
            position.principal_outstanding,
            position.interest_accrued,
            position.penalty_accrued,
            position.credit_balance,
        )
    # And each statement closes at what opened it, plus what was drawn and charged, less what was repaid
    made = statements(terms, events, through)
    for before, after in pairwise(made):
        assert after.opening_balance == before.closing_balance
    for statement in made:
        assert statement.closing_balance == (
            statement.opening_balance + statement.drawn - statement.repaid + statement.interest + statement.penalty
        )
        assert Money.ZERO <= statement.unpaid <= statement.minimum_due
