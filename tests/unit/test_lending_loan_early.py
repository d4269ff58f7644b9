"""Repaying any time: a payment before a due date pays only the interest earned to its day; the rest is principal."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from lending.catalogue import EarlyRepayment, InterestMethod, Method
from lending.loan import InstalmentLoan
from lending.money import Money, Rounding, total
from lending.schedule import build_schedule

PAYOUT = date(2026, 1, 15)


def _loan(
    amount: str = "60000",
    *,
    early: EarlyRepayment = EarlyRepayment.SHORTEN_TERM,
    method: Method = Method.EQUAL_INSTALMENT,
    fee: str = "0",
) -> InstalmentLoan:
    """A monthly-interest loan at 18% over 12 months, paid out on 15 January 2026."""
    schedule = build_schedule(Money.of(amount), Decimal("0.18"), 12, method, PAYOUT, per_instalment_fee=Money.of(fee))
    return InstalmentLoan("L-early", schedule, Decimal("0.24"), early_repayment=early)


def _daily_loan() -> InstalmentLoan:
    """The known answer's loan: 500,000 at 25% by the day (365), 12 months, paid out 2024-03-06, due on the 5th."""
    schedule = build_schedule(
        Money.of("500000"),
        Decimal("0.25"),
        12,
        Method.EQUAL_INSTALMENT,
        date(2024, 3, 6),
        repayment_day=5,
        day_count_basis=365,
        interest_method=InterestMethod.DAILY,
    )
    return InstalmentLoan(
        "L-daily", schedule, Decimal("0.24"), day_count_basis=365, interest_method=InterestMethod.DAILY
    )


def test_a_payment_on_the_payout_day_is_all_principal_and_the_loan_shows_it() -> None:
    # Given a 60,000.00 loan on the day it was paid out (the defect: 360.00 of this went to interest)
    loan = _loan()

    # When 3,000.00 is paid that day
    _, applied = loan.apply_payment(Money.of("3000.00"), PAYOUT)

    # Then no interest was earned yet, so all 3,000.00 reduces principal, and the loan owes 57,000.00
    assert applied.interest_earned == Money.ZERO
    assert applied.principal == Money.of("3000.00")
    assert loan.principal_outstanding == Money.of("57000.00")
    # And the first instalment charges the month's interest on the new balance: 57,000 × 1.5%
    assert loan.rows[0].plan.interest == Money.of("855.00")
    # And the term is shortened, the instalment kept (the product's rule): principal still sums to the balance
    assert loan.rows[0].plan.total == _loan().rows[0].plan.total
    assert total(r.unpaid_principal for r in loan.rows) == Money.of("57000.00")


def test_a_payment_within_a_period_pays_the_interest_earned_to_its_day_only() -> None:
    # Given the loan, its first period of 31 days earning 900.00 (60,000 × 1.5%)
    loan = _loan()
    assert loan.rows[0].plan.interest == Money.of("900.00")

    # When 5,000.00 is paid on day 17 of the period
    _, applied = loan.apply_payment(Money.of("5000.00"), date(2026, 2, 1))

    # Then it pays 17/31 of the period's interest (493.55), and the rest is principal
    earned = Money.of("900.00").times(Decimal(17) / Decimal(31), Rounding.HALF_UP)
    assert applied.interest_earned == earned == Money.of("493.55")
    assert applied.principal == Money.of("5000.00") - earned
    # And the first instalment's interest is what was earned plus the new balance's share of the other 14 days
    balance = Money.of("60000.00") - applied.principal
    rest = Money.of("900.00").times(
        Decimal(14) * Decimal(balance.fen) / (Decimal(31) * Decimal(6_000_000)), Rounding.HALF_UP
    )
    first = loan.rows[0]
    assert first.plan.interest == earned + rest
    assert first.interest_paid == earned
    assert first.unpaid_interest == rest
    # And on its due date the instalment owes only that rest of the interest, with its principal
    loan.advance_to(first.due_date)
    assert loan.interest_receivable == rest


def test_the_payoff_within_a_period_repays_everything_and_closes_the_loan() -> None:
    # Given a loan with a per-instalment fee, ten days into its second period
    loan = _loan(fee="10.00")
    first = loan.rows[0].plan
    loan.apply_payment(first.total, first.due_date)
    day = first.due_date + timedelta(days=10)
    loan.advance_to(day)

    # When the payoff for that day is paid
    payoff = loan.payoff(day)
    balance = loan.principal_outstanding
    _, applied = loan.apply_payment(payoff, day)

    # Then it was the principal plus ten of the period's 28 days' interest (no fee: the period's fee is not due)
    second_interest = balance.times(Decimal("0.015"), Rounding.HALF_UP)
    assert payoff == balance + second_interest.times(Decimal(10) / Decimal(28), Rounding.HALF_UP)
    assert applied.credit == Money.ZERO
    # And nothing more is owed: the loan is closed, even after its due date passes
    assert loan.is_closed
    loan.advance_to(date(2027, 6, 1))
    assert loan.is_closed
    assert (loan.interest_receivable, loan.fee_receivable) == (Money.ZERO, Money.ZERO)


def test_reducing_the_instalment_keeps_the_months() -> None:
    # Given a product whose prepayments lower the instalment
    loan = _loan(early=EarlyRepayment.REDUCE_INSTALMENT)
    before = loan.rows[1].plan.total

    # When 12,000.00 is paid ten days after payout
    loan.apply_payment(Money.of("12000.00"), PAYOUT + timedelta(days=10))

    # Then all twelve due dates remain, each later instalment smaller, and principal sums to the balance
    assert len(loan.rows) == 12
    assert loan.rows[1].plan.total < before
    assert total(r.unpaid_principal for r in loan.rows) == loan.principal_outstanding


def test_the_known_answer_of_a_daily_product() -> None:
    # Given 500,000 at 25% by the day, paid out 2024-03-06, first due 2024-04-05 (30 days)
    loan = _daily_loan()
    first = loan.rows[0].plan
    assert first.due_date == date(2024, 4, 5)
    assert first.interest == Money.of("10273.97")  # 500,000 × 25% × 30 / 365

    # When 60,000 is paid on that first due date
    _, applied = loan.apply_payment(Money.of("60000.00"), date(2024, 4, 5))

    # Then it pays 10,273.97 interest and 49,726.03 principal
    assert applied.interest_receivable + applied.interest_earned == Money.of("10273.97")
    assert applied.principal == Money.of("49726.03")
    # And each later instalment is still level, its interest the balance × 25% × its days / 365
    balance = loan.principal_outstanding
    second = loan.rows[1].plan
    assert second.interest == balance.times(Decimal("0.25") * 30 / 365, Rounding.HALF_UP)  # 5 April to 5 May


def test_a_daily_product_charges_an_early_payment_by_the_day() -> None:
    # Given the daily loan after its first instalment
    loan = _daily_loan()
    loan.apply_payment(loan.rows[0].plan.total, date(2024, 4, 5))
    balance = loan.principal_outstanding

    # When 10,000 is paid ten days later
    _, applied = loan.apply_payment(Money.of("10000.00"), date(2024, 4, 15))

    # Then the interest is the balance × 25% × 10 / 365, and the rest is principal
    interest = balance.times(Decimal("0.25") * 10 / 365, Rounding.HALF_UP)
    assert applied.interest_earned == interest
    assert applied.principal == Money.of("10000.00") - interest


@st.composite
def _payments(draw: st.DrawFn) -> list[tuple[int, Money]]:
    days = sorted(draw(st.lists(st.integers(0, 400), min_size=1, max_size=6)))
    return [(day, Money(draw(st.integers(1, 3_000_000)))) for day in days]


@settings(max_examples=150, deadline=None)
@given(
    payments=_payments(),
    early=st.sampled_from(list(EarlyRepayment)),
    method=st.sampled_from([Method.EQUAL_INSTALMENT, Method.EQUAL_PRINCIPAL]),
    payoff_after=st.integers(0, 60),
)
def test_money_is_conserved_and_a_payoff_always_closes_the_loan(
    payments: list[tuple[int, Money]], early: EarlyRepayment, method: Method, payoff_after: int
) -> None:
    # Given any loan and any payments on any days (early, on time, late)
    loan = _loan("30000", early=early, method=method, fee="5.00")
    paid = interest = fees = penalty = credit = principal = Money.ZERO
    for day, amount in payments:
        _, applied = loan.apply_payment(amount, PAYOUT + timedelta(days=day))
        paid += amount
        principal += applied.principal
        interest += applied.interest_receivable + applied.interest_earned
        fees += applied.fee_receivable + applied.fee_earned
        penalty += applied.penalty
        credit += applied.credit
        # Then every payment is accounted for, and the schedule's principal is the loan's principal
        assert paid == principal + interest + fees + penalty + credit
        assert total(r.unpaid_principal for r in loan.rows) == loan.principal_outstanding
        assert principal + loan.principal_outstanding == Money.of("30000.00")

    # And paying the payoff of any later day leaves nothing owed and nothing as credit
    day = PAYOUT + timedelta(days=payments[-1][0] + payoff_after)
    loan.advance_to(day)
    owed = loan.payoff(day)
    if owed.is_positive:
        _, applied = loan.apply_payment(owed, day)
        assert applied.credit == Money.ZERO
    assert loan.is_closed
    assert loan.credit_balance == credit
