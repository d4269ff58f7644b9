"""Due dates: the disbursement day each month with end-of-month clamping, or a fixed day with a broken first period."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lending.calendar import (
    MIN_FIRST_PERIOD_DAYS,
    add_months,
    business_date,
    first_fixed_due_date,
    fixed_day_due_dates,
    monthly_due_dates,
    months_between,
)


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


DATES = st.dates(min_value=date(2000, 1, 1), max_value=date(2060, 12, 31))
MONTH_ENDS = st.builds(_month_end, st.integers(2000, 2060), st.integers(1, 12))
STARTS = st.one_of(DATES, MONTH_ENDS)


def _month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def test_31_january_falls_due_on_28_february_then_31_march_in_a_common_year() -> None:
    # Given a loan disbursed on 31 January 2026 (2026 is not a leap year)
    # When its monthly due dates are built
    dates = monthly_due_dates(date(2026, 1, 31), 4)
    # Then February clamps to the 28th and later months go back to the start day, clamped again in April
    assert dates == [date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30), date(2026, 5, 31)]


def test_31_january_falls_due_on_29_february_then_31_march_in_a_leap_year() -> None:
    # Given a loan disbursed on 31 January 2028 (a leap year)
    # When its monthly due dates are built
    dates = monthly_due_dates(date(2028, 1, 31), 2)
    # Then February clamps to the 29th and March is back on the 31st
    assert dates == [date(2028, 2, 29), date(2028, 3, 31)]


def test_due_dates_cross_the_year_end() -> None:
    # Given a loan disbursed on 15 November 2026
    # When three due dates are built
    # Then they run into the next year
    assert monthly_due_dates(date(2026, 11, 15), 3) == [date(2026, 12, 15), date(2027, 1, 15), date(2027, 2, 15)]


@settings(max_examples=200)
@given(start=STARTS, count=st.integers(1, 36))
def test_monthly_due_dates_fall_on_the_start_day_clamped_in_consecutive_months(start: date, count: int) -> None:
    # Given any disbursement date, month ends included
    # When its due dates are built
    dates = monthly_due_dates(start, count)

    # Then there is one per month after the start, each on the start day or the month's last day if shorter
    assert len(dates) == count
    for k, due in enumerate(dates, start=1):
        assert _month_index(due) == _month_index(start) + k
        assert due.day == min(start.day, calendar.monthrange(due.year, due.month)[1])


@pytest.mark.parametrize(
    ("start", "day", "first"),
    [
        (date(2026, 1, 20), 10, date(2026, 2, 10)),  # the 10th of January is past: next month, 21 days
        (date(2026, 1, 5), 25, date(2026, 1, 25)),  # 20 days away in the same month
        (date(2026, 1, 15), 25, date(2026, 2, 25)),  # only 10 days away: a month on, 41 days
        (date(2026, 1, 10), 25, date(2026, 1, 25)),  # exactly 15 days: allowed
        (date(2026, 1, 11), 25, date(2026, 2, 25)),  # 14 days: too short
        (date(2026, 1, 20), 31, date(2026, 2, 28)),  # the 31st clamps to February's end
        (date(2028, 1, 20), 30, date(2028, 2, 29)),  # and to the 29th in a leap year
    ],
)
def test_first_fixed_due_date_is_the_next_repayment_day_at_least_15_days_away(
    start: date, day: int, first: date
) -> None:
    # Given a disbursement date and a fixed repayment day
    # When the first due date is chosen
    # Then it is the first such day at least 15 days after disbursement
    assert first_fixed_due_date(start, day) == first


@settings(max_examples=200)
@given(start=STARTS, day=st.integers(1, 31), count=st.integers(1, 36))
def test_fixed_day_schedules_have_a_first_period_of_at_least_15_days_and_no_later_than_needed(
    start: date, day: int, count: int
) -> None:
    # Given any disbursement date and repayment day
    # When the fixed-day due dates are built
    dates = fixed_day_due_dates(start, count, day)

    # Then the first period is at least 15 days, the same day a month earlier would have been too close,
    # and every date is on the repayment day (clamped) in consecutive months
    first = dates[0]
    assert (first - start).days >= MIN_FIRST_PERIOD_DAYS
    assert (add_months(first, -1, day) - start).days < MIN_FIRST_PERIOD_DAYS
    for k, due in enumerate(dates):
        assert _month_index(due) == _month_index(first) + k
        assert due.day == min(day, calendar.monthrange(due.year, due.month)[1])


@pytest.mark.parametrize("day", [0, 32, -1])
def test_a_repayment_day_outside_1_to_31_is_refused(day: int) -> None:
    with pytest.raises(ValueError, match="repayment day"):
        first_fixed_due_date(date(2026, 1, 1), day)


@pytest.mark.parametrize(
    ("start", "end", "months"),
    [
        (date(2026, 1, 15), date(2026, 1, 15), Fraction(0)),
        (date(2026, 1, 15), date(2026, 2, 15), Fraction(1)),
        (date(2026, 1, 31), date(2026, 2, 28), Fraction(1)),  # a clamped due date is a whole month
        (date(2026, 1, 31), date(2026, 3, 31), Fraction(2)),
        (date(2026, 1, 15), date(2027, 1, 15), Fraction(12)),
        (date(2026, 1, 20), date(2026, 2, 10), Fraction(21, 31)),  # 21 of the 31 days to 20 February
        (date(2026, 1, 31), date(2026, 3, 15), 1 + Fraction(15, 31)),  # 28 Feb + 15 of the 31 days to 31 March
        (date(2026, 2, 10), date(2026, 3, 1), Fraction(19, 28)),  # 19 of February's 28 days
    ],
)
def test_months_between_counts_whole_months_and_a_share_of_the_next(start: date, end: date, months: Fraction) -> None:
    # Given two dates
    # When the time between them is measured in months
    measured = months_between(start, end)
    # Then it is the whole months plus the rest as a share of the following month (to 30 significant digits)
    assert abs(Fraction(measured) - months) < Fraction(1, 10**30)


@settings(max_examples=200)
@given(start=STARTS, months=st.integers(0, 48))
def test_months_between_a_start_and_its_nth_due_date_is_n(start: date, months: int) -> None:
    # Given any start and the date n months later on the same (clamped) day
    # When the time between them is measured
    # Then it is exactly n months
    assert months_between(start, add_months(start, months)) == months


def test_months_between_refuses_an_end_before_the_start() -> None:
    with pytest.raises(ValueError, match="end before start"):
        months_between(date(2026, 2, 1), date(2026, 1, 31))


def test_the_business_date_is_the_calendar_date_in_china() -> None:
    # Given 16:30 UTC on 14 January, which is 00:30 on 15 January in Beijing
    moment = datetime(2026, 1, 14, 16, 30, tzinfo=UTC)
    # When its business date is taken
    # Then it is the 15th
    assert business_date(moment) == date(2026, 1, 15)
    assert business_date(moment - timedelta(hours=1)) == date(2026, 1, 14)
