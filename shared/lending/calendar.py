"""Due dates: monthly on the disbursement day with end-of-month clamping, or on a fixed repayment day."""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta
from decimal import Decimal

from lending import clock
from lending.clock import CHINA_STANDARD_TIME
from lending.money import CONTEXT

#: A fixed repayment day never makes the first period shorter than this; a closer date moves a month on.
MIN_FIRST_PERIOD_DAYS = 15


def business_date(moment: datetime | None = None) -> date:
    """The calendar date in China of an aware moment (default: now, on the platform's clock)."""
    if moment is None:
        return clock.today()
    return moment.astimezone(CHINA_STANDARD_TIME).date()


def add_months(start: date, months: int, day: int | None = None) -> date:
    """The date ``months`` after ``start`` on ``day`` (default: start's day), clamped to the month's end."""
    month_index = start.year * 12 + (start.month - 1) + months
    year, month = divmod(month_index, 12)
    last_day = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day or start.day, last_day))


def monthly_due_dates(start: date, count: int) -> list[date]:
    """Due dates on the disbursement day each month: 31 Jan → 28/29 Feb → 31 Mar (always from the start day)."""
    return [add_months(start, k) for k in range(1, count + 1)]


def first_fixed_due_date(start: date, repayment_day: int) -> date:
    """First due date on a fixed repayment day: the next such day at least ``MIN_FIRST_PERIOD_DAYS`` away."""
    if not 1 <= repayment_day <= 31:
        raise ValueError(f"repayment day must be 1–31, not {repayment_day}")
    candidate = add_months(start, 0, repayment_day)
    while candidate - start < timedelta(days=MIN_FIRST_PERIOD_DAYS):
        candidate = add_months(candidate, 1, repayment_day)
    return candidate


def fixed_day_due_dates(start: date, count: int, repayment_day: int) -> list[date]:
    """Due dates on a fixed day of the month; the first period is broken (shorter or longer than a month)."""
    first = first_fixed_due_date(start, repayment_day)
    return [add_months(first, k, repayment_day) for k in range(count)]


def months_between(start: date, end: date) -> Decimal:
    """Time from ``start`` to ``end`` in months: whole months, plus the rest as a share of the next month."""
    if end < start:
        raise ValueError("end before start")
    whole = (end.year - start.year) * 12 + (end.month - start.month)
    anchor = add_months(start, whole)
    if anchor > end:  # end falls before start's day in its month
        whole -= 1
        anchor = add_months(start, whole)
    if anchor == end:
        return Decimal(whole)
    next_anchor = add_months(start, whole + 1)
    fraction = CONTEXT.divide(Decimal((end - anchor).days), Decimal((next_anchor - anchor).days))
    return CONTEXT.add(Decimal(whole), fraction)
