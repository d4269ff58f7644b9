"""Due dates: the disbursement day each month with end-of-month clamping, or a fixed day with a broken period."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from lending.calendar import MIN_FIRST_PERIOD_DAYS, fixed_day_due_dates, monthly_due_dates, months_between


def test_a_loan_disbursed_on_the_31st_falls_due_on_each_month_end() -> None:
    # Given a loan disbursed on 31 January
    # Then it falls due on 28 Feb (2026), 31 Mar and 30 Apr: always counted from the 31st, never drifting
    assert monthly_due_dates(date(2026, 1, 31), 3) == [date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30)]


def test_a_leap_february_clamps_to_the_29th() -> None:
    assert monthly_due_dates(date(2028, 1, 31), 1) == [date(2028, 2, 29)]


@pytest.mark.parametrize("start", [date(2026, 1, 1), date(2026, 1, 10), date(2026, 1, 20), date(2026, 2, 28)])
def test_a_fixed_repayment_day_gives_a_broken_first_period_of_at_least_fifteen_days(start: date) -> None:
    dates = fixed_day_due_dates(start, 3, 15)
    assert all(d.day == 15 for d in dates)
    assert (dates[0] - start).days >= MIN_FIRST_PERIOD_DAYS
    assert (dates[0] - start).days < 31 + MIN_FIRST_PERIOD_DAYS


@pytest.mark.parametrize(
    ("start", "end", "months"),
    [
        (date(2026, 1, 15), date(2026, 2, 15), Decimal(1)),
        (date(2026, 1, 31), date(2026, 2, 28), Decimal(1)),
        (date(2026, 1, 15), date(2026, 1, 15), Decimal(0)),
        # 15 Jan → 15 Feb is one month; 15 Feb → 1 Mar is 14 of February's 28 days
        (date(2026, 1, 15), date(2026, 3, 1), Decimal(1) + Decimal(14) / Decimal(28)),
    ],
)
def test_months_between_counts_whole_months_and_a_share_of_the_next(start: date, end: date, months: Decimal) -> None:
    assert months_between(start, end) == months
