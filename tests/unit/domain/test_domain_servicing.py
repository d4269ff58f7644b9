"""Repayment allocation, instalment-loan servicing and the revolving line: no fen is ever unaccounted for."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lending import bookkeeping
from lending.allocation import allocate
from lending.catalogue import DEFAULT_WATERFALL, Component, EarlyRepayment, Method
from lending.credit_line import CreditLine, DrawdownRefused
from lending.ledger import Ledger
from lending.loan import InstalmentLoan
from lending.money import Money, total
from lending.schedule import build_schedule

fen = st.integers(0, 10_000_000).map(Money)


@settings(max_examples=300)
@given(fen, st.dictionaries(st.sampled_from(list(Component)), fen), fen, st.permutations(list(Component)))
def test_any_payment_over_any_dues_conserves_every_fen_in_waterfall_order(
    payment: Money, dues: dict[Component, Money], not_due: Money, waterfall: list[Component]
) -> None:
    allocation = allocate(payment, dues, not_due, waterfall)
    applied = dict(allocation.applied)
    # every fen lands somewhere, exactly once
    assert total(applied.values()) + allocation.prepaid_principal + allocation.credit == payment
    # nothing is paid beyond what is due
    assert all(applied[c] <= dues[c] for c in applied)
    # a component gets money only when every earlier one is paid in full
    for position, component in enumerate(waterfall):
        if applied.get(component, Money.ZERO).is_positive:
            assert all(applied.get(e, Money.ZERO) == dues.get(e, Money.ZERO) for e in waterfall[:position])
    # credit only when everything, principal not yet due included, is covered
    if allocation.credit.is_positive:
        assert total(dues.values()) + not_due == payment - allocation.credit


def test_the_default_waterfall_pays_penalty_then_interest_then_principal() -> None:
    dues = {
        Component.OVERDUE_PENALTY: Money(100),
        Component.OVERDUE_INTEREST: Money(200),
        Component.CURRENT_PRINCIPAL: Money(500),
    }
    allocation = allocate(Money(250), dues, Money.ZERO, DEFAULT_WATERFALL)
    assert allocation.applied == ((Component.OVERDUE_PENALTY, Money(100)), (Component.OVERDUE_INTEREST, Money(150)))


def _loan(
    method: Method = Method.EQUAL_INSTALMENT, early: EarlyRepayment = EarlyRepayment.SHORTEN_TERM
) -> InstalmentLoan:
    schedule = build_schedule(Money.of("12000"), Decimal("0.12"), 12, method, date(2026, 1, 15))
    return InstalmentLoan("L-1", schedule, Decimal("0.18"), early_repayment=early)


def test_a_loan_paid_on_every_due_date_closes_with_no_penalty() -> None:
    loan = _loan()
    for instalment in loan.schedule.instalments:
        loan.apply_payment(instalment.total, instalment.due_date)
    assert loan.is_closed
    assert loan.principal_outstanding == Money.ZERO
    assert loan.penalty_receivable == Money.ZERO
    assert loan.credit_balance == Money.ZERO


def test_a_late_payment_pays_the_penalty_first() -> None:
    # Given the first instalment (principal 946.19 of 1,066.19) paid 10 days late
    loan = _loan()
    first = loan.schedule.instalments[0]
    paid_on = first.due_date + timedelta(days=10)
    # When the borrower pays exactly the instalment
    recognised, applied = loan.apply_payment(first.total, paid_on)
    # Then 10 days of penalty accrued on the overdue principal: 946.19 × 0.18 / 360 = 0.473… → 0.47 a day, 4.70
    assert str(first.principal) == "946.19"
    assert recognised.penalty == Money.of("4.70")
    assert applied.penalty == Money.of("4.70")
    # and was paid first, so 4.70 of the instalment's principal is still overdue
    assert loan.days_past_due(paid_on) == 10
    assert loan.dues(paid_on)[Component.OVERDUE_PRINCIPAL] == Money.of("4.70")


def test_prepayment_with_shorten_term_drops_instalments() -> None:
    loan = _loan(early=EarlyRepayment.SHORTEN_TERM)
    first = loan.schedule.instalments[0]
    loan.apply_payment(first.total + Money.of("5000"), first.due_date)
    assert len(loan.rows) < 12
    assert loan.rows[1].plan.total == first.total  # the same instalment, fewer of them
    assert loan.principal_outstanding == Money.of("12000") - first.principal - Money.of("5000")


def test_prepayment_with_reduce_instalment_keeps_the_term_and_lowers_the_instalment() -> None:
    loan = _loan(early=EarlyRepayment.REDUCE_INSTALMENT)
    first = loan.schedule.instalments[0]
    loan.apply_payment(first.total + Money.of("5000"), first.due_date)
    assert len(loan.rows) == 12
    assert loan.rows[1].plan.total < first.total


def test_paying_more_than_everything_leaves_a_credit_balance() -> None:
    loan = _loan()
    _, applied = loan.apply_payment(Money.of("20000"), date(2026, 2, 15))
    assert loan.is_closed
    assert applied.credit.is_positive
    assert loan.credit_balance == applied.credit


@settings(max_examples=120, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 40), st.integers(1, 400_000)), min_size=1, max_size=25),
    st.sampled_from([Method.EQUAL_INSTALMENT, Method.EQUAL_PRINCIPAL]),
    st.sampled_from(list(EarlyRepayment)),
)
def test_random_payments_conserve_money_and_keep_the_books_balanced(
    payments: list[tuple[int, int]], method: Method, early: EarlyRepayment
) -> None:
    # Given a loan booked in a ledger, and payments on non-decreasing dates
    loan = _loan(method, early)
    ledger = Ledger()
    ledger.record(bookkeeping.disbursement("d", "L-1", Money.of("12000"), Money.ZERO, loan.schedule.start))
    day, paid_in = loan.schedule.start, Money.ZERO
    principal = interest = penalty = fees = credit = Money.ZERO
    for n, (gap, fen_amount) in enumerate(payments):
        day += timedelta(days=gap)
        recognised, applied = loan.apply_payment(Money(fen_amount), day)
        tx = bookkeeping.recognition(f"r{n}", "L-1", recognised, day)
        if tx is not None:
            ledger.record(tx)
        ledger.record(bookkeeping.repayment(f"p{n}", "L-1", applied, day))
        paid_in += Money(fen_amount)
        principal += applied.principal
        interest += applied.interest_receivable + applied.interest_earned
        fees += applied.fee_receivable + applied.fee_earned
        penalty += applied.penalty
        credit += applied.credit
    # Then every fen paid in is accounted for
    assert paid_in == principal + interest + fees + penalty + credit
    assert principal + loan.principal_outstanding == Money.of("12000")
    assert loan.credit_balance == credit
    # and the books balance, and rebuild to the running balances
    assert ledger.trial_balance() == Money.ZERO
    assert ledger.rebuild() == ledger.balances()


def test_a_line_counts_the_drawdown_day_and_not_the_repayment_day() -> None:
    # Given 100,000 drawn on 1 March at 18% a year on a 360-day basis: 50.00 a day
    line = CreditLine("C-1", Money.of("200000"), Decimal("0.18"), date(2026, 3, 1))
    line.draw(Money.of("100000"), date(2026, 3, 1))
    assert line.available_limit == Money.of("100000")
    # When it is all repaid on 11 March (10 days: 1–10 March)
    repayment = line.repay(Money.of("100500"), date(2026, 3, 11))
    # Then interest is 10 × 50.00, paid first, and the principal is cleared
    assert repayment.interest == Money.of("500.00")
    assert repayment.principal == Money.of("100000")
    assert line.principal_outstanding == Money.ZERO
    assert line.available_limit == Money.of("200000")


def test_a_line_refuses_overdraws_and_frozen_drawdowns() -> None:
    line = CreditLine("C-1", Money.of("1000"), Decimal("0.18"), date(2026, 3, 1))
    with pytest.raises(DrawdownRefused):
        line.draw(Money.of("1000.01"), date(2026, 3, 1))
    line.frozen = True
    with pytest.raises(DrawdownRefused):
        line.draw(Money.of("1"), date(2026, 3, 2))


def test_a_line_repayment_beyond_the_balance_becomes_credit() -> None:
    line = CreditLine("C-1", Money.of("1000"), Decimal("0"), date(2026, 3, 1))
    line.draw(Money.of("400"), date(2026, 3, 1))
    repayment = line.repay(Money.of("450"), date(2026, 3, 5))
    assert (repayment.interest, repayment.principal, repayment.credit) == (Money.ZERO, Money.of("400"), Money.of("50"))
