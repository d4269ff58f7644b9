"""A loan's payments follow its own product's waterfall, not the default one (mutation testing found it unpinned)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from lending.catalogue import DEFAULT_WATERFALL, Component, Method
from lending.loan import InstalmentLoan
from lending.money import Money
from lending.schedule import build_schedule

#: Overdue interest first and the penalty last: a product may order its waterfall so.
INTEREST_FIRST = (
    Component.OVERDUE_INTEREST,
    Component.OVERDUE_PRINCIPAL,
    Component.OVERDUE_FEE,
    Component.CURRENT_FEE,
    Component.CURRENT_INTEREST,
    Component.CURRENT_PRINCIPAL,
    Component.OVERDUE_PENALTY,
)


def test_a_late_payment_runs_down_the_loans_own_waterfall() -> None:
    # Given the 120,000.00 loan at 12% whose first instalment (1,200.00 interest) is 10 days overdue on 25 February,
    # with 47.30 of penalty, under a waterfall that pays overdue interest before the penalty
    schedule = build_schedule(Money.of("120000"), Decimal("0.12"), 12, Method.EQUAL_INSTALMENT, date(2026, 1, 15))
    loan = InstalmentLoan("L-waterfall", schedule, Decimal("0.18"), waterfall=INTEREST_FIRST)
    assert INTEREST_FIRST != DEFAULT_WATERFALL
    loan.advance_to(date(2026, 2, 25))
    assert loan.penalty_receivable == Money.of("47.30")

    # When 30.00 is paid that day
    _, applied = loan.apply_payment(Money.of("30.00"), date(2026, 2, 25))

    # Then it goes to the overdue interest, and the penalty is still owed in full
    assert applied.allocation.applied == ((Component.OVERDUE_INTEREST, Money.of("30.00")),)
    assert (applied.interest_receivable, applied.penalty) == (Money.of("30.00"), Money.ZERO)
    assert loan.penalty_receivable == Money.of("47.30")
    assert loan.interest_receivable == Money.of("1170.00")
