"""Penalty interest by the day, however the loan is advanced: the figures mutation testing found unpinned.

The loan is the shipped catalogue's business instalment at 12% (its penalty rate is 1.5 × that, 18%): 120,000.00
over 12 months from 15 January 2026, whose first instalment of 9,461.85 principal falls due on 15 February.
9,461.85 × 0.18 / 360 = 4.730925 a day, rounded half up to 4.73; ten days overdue (16 – 25 February) are 47.30.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from lending.catalogue import Catalogue, Method
from lending.loan import InstalmentLoan
from lending.money import Money
from lending.pricing import penalty_annual_rate
from lending.schedule import build_schedule

START = date(2026, 1, 15)
FIRST_DUE = date(2026, 2, 15)
SECOND_DUE = date(2026, 3, 15)
DAILY = Money.of("4.73")


@pytest.fixture
def loan(shipped_catalogue: Catalogue) -> InstalmentLoan:
    product = shipped_catalogue.product("business_instalment")
    rate = penalty_annual_rate(product, Decimal("0.12"), shipped_catalogue.rate_cap.annual_rate)
    assert rate == Decimal("0.18")
    schedule = build_schedule(Money.of("120000"), Decimal("0.12"), 12, Method.EQUAL_INSTALMENT, START)
    assert (schedule.instalments[0].due_date, schedule.instalments[0].principal) == (FIRST_DUE, Money.of("9461.85"))
    return InstalmentLoan("L-penalty", schedule, rate, day_count_basis=product.day_count_basis)


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def test_a_loan_advanced_one_day_at_a_time_accrues_the_penalty_of_each_overdue_day(loan: InstalmentLoan) -> None:
    # Given the loan at its first due date, the instalment unpaid
    assert loan.advance_to(FIRST_DUE).penalty == Money.ZERO

    # When the daily close advances it one day at a time through 25 February
    accrued = [loan.advance_to(day).penalty for day in _days(FIRST_DUE + timedelta(days=1), date(2026, 2, 25))]

    # Then each of the 10 overdue days accrued 4.73, 47.30 in all, as one step to the 25th would
    assert accrued == [DAILY] * 10
    assert loan.penalty_receivable == Money.of("47.30")
    assert loan.days_past_due() == 10


def test_the_due_date_itself_is_not_a_day_overdue(loan: InstalmentLoan) -> None:
    # Given the loan advanced to the day before the first due date, then to the due date
    assert loan.advance_to(FIRST_DUE - timedelta(days=1)).penalty == Money.ZERO
    on_the_due_date = loan.advance_to(FIRST_DUE)

    # Then the due date recognises the instalment's interest and charges no penalty
    assert on_the_due_date.interest == Money.of("1200.00")
    assert on_the_due_date.penalty == Money.ZERO
    assert loan.days_past_due() == 0

    # And advancing across it from before it charges from the next day on: 47.30 through the 25th, not 52.03
    assert loan.advance_to(date(2026, 2, 25)).penalty == Money.of("47.30")


def test_a_step_from_the_eve_of_the_due_date_charges_the_days_after_it(loan: InstalmentLoan) -> None:
    # Given the loan advanced to 14 February, the day before the first instalment falls due
    loan.advance_to(FIRST_DUE - timedelta(days=1))

    # When one step takes it to 25 February (the step's first day is the due date itself)
    recognised = loan.advance_to(date(2026, 2, 25))

    # Then the 10 days after the due date are charged: 47.30, not 0.00
    assert (recognised.interest, recognised.penalty) == (Money.of("1200.00"), Money.of("47.30"))


def test_a_step_across_the_due_date_charges_only_the_days_after_it(loan: InstalmentLoan) -> None:
    # Given the loan advanced to 10 February, five days before the first due date
    loan.advance_to(date(2026, 2, 10))

    # When one step takes it across the due date to 25 February
    recognised = loan.advance_to(date(2026, 2, 25))

    # Then the step recognises the interest and 10 days of penalty (16 – 25 February), not 11
    assert (recognised.interest, recognised.penalty) == (Money.of("1200.00"), Money.of("47.30"))


def test_the_day_the_next_instalment_falls_due_still_charges_only_the_first(loan: InstalmentLoan) -> None:
    # Given the first instalment overdue since 16 February, advanced one day at a time across the second due date
    loan.advance_to(FIRST_DUE)
    accrued = {
        day: loan.advance_to(day).penalty
        for day in _days(FIRST_DUE + timedelta(days=1), SECOND_DUE + timedelta(days=2))
    }

    # Then 15 March (the second due date) is charged on the first instalment's principal alone, and from 16 March on
    # both are overdue: 9,461.85 + 9,556.47 = 19,018.32 × 0.18 / 360 = 9.50916, 9.51 a day
    assert accrued[SECOND_DUE] == DAILY
    assert accrued[SECOND_DUE + timedelta(days=1)] == accrued[SECOND_DUE + timedelta(days=2)] == Money.of("9.51")
    assert loan.penalty_receivable == Money.of("132.44") + Money.of("19.02")  # 28 days at 4.73, then 2 at 9.51
