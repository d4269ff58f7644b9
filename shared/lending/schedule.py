"""Repayment schedules of instalment loans: equal instalments, equal principal, interest-only grace.

Conventions (how Chinese lenders quote instalment loans):
- A regular monthly period charges ``balance × annual / 12``; a broken first period (fixed repayment day) charges
  ``balance × annual / basis × days``. Interest is rounded half up to the fen in each period.
- A product charging interest by the day (``InterestMethod.DAILY``, 按日计息) charges every period
  ``balance × annual / basis × days``; its instalment is still the level annuity at ``annual / 12``, each period's
  principal being the instalment less that period's own interest.
- Equal instalments: the instalment is the annuity ``B·r / (1 − (1 + r)^−n)`` rounded half up; each period's principal
  is the instalment less the period's regular interest. Equal principal: ``B / n`` rounded down.
- The last instalment takes whatever principal is left, so principal always sums exactly to the amount: the rounding
  remainder lands there.
"""

from __future__ import annotations

import decimal
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from lending.calendar import fixed_day_due_dates, monthly_due_dates, months_between
from lending.catalogue import EarlyRepayment, InterestMethod, Method
from lending.errors import ProductRuleViolation
from lending.money import CONTEXT, Money, Rounding, _set_fen
from lending.rates import daily_rate, monthly_rate

_ONE = Decimal(1)
_WHOLE = Decimal(1)
#: The money context rounding half up: ``x.quantize(_WHOLE, rounding=HALF_UP, context=CONTEXT)`` as one call.
_HALF_UP = CONTEXT.copy()
_HALF_UP.rounding = decimal.ROUND_HALF_UP
#: Days of each month of a common year; February gains a day in a leap year.
_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
#: The last month index (year × 12 + month − 1) a ``date`` can hold.
_LAST_MONTH_INDEX = 9999 * 12 + 11


def _days_in_month(year: int, month: int) -> int:
    if month == 2 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0):
        return 29
    return _MONTH_DAYS[month - 1]


def regular_due_dates(start: date, count: int) -> list[date]:
    """:func:`lending.calendar.monthly_due_dates`, without its per-date calendar look-ups (a hot path)."""
    first = start.year * 12 + start.month - 1
    if first + count > _LAST_MONTH_INDEX:  # past year 9999: let the calendar raise what it raises
        return monthly_due_dates(start, count)
    day = start.day
    dates: list[date] = []
    append = dates.append
    for index in range(first + 1, first + count + 1):
        year, month = divmod(index, 12)
        month += 1
        if day <= 28:
            append(date(year, month, day))
        else:
            last = _days_in_month(year, month)
            append(date(year, month, day if day < last else last))
    return dates


def elapsed_months(start: date, end: date) -> Decimal:
    """:func:`lending.calendar.months_between`, answered without the calendar when ``end`` falls on ``start``'s day
    (clamped to the month's end) some whole number of months later: every regular due date does."""
    if end >= start:
        whole = (end.year - start.year) * 12 + end.month - start.month
        day = start.day
        if end.day == day or (day > 28 and end.day == _days_in_month(end.year, end.month) and end.day < day):
            return Decimal(whole)
    return months_between(start, end)


@dataclass(frozen=True, slots=True)
class Instalment:
    """One due date of a schedule: principal, interest and any per-instalment fee."""

    number: int
    due_date: date
    principal: Money
    interest: Money
    fee: Money = Money.ZERO

    @property
    def total(self) -> Money:
        return Money(self.principal.fen + self.interest.fen + self.fee.fen)


_new_object = object.__new__
_set_number, _set_due_date, _set_principal, _set_interest, _set_fee = (
    getattr(Instalment, name).__set__ for name in ("number", "due_date", "principal", "interest", "fee")
)


@dataclass(frozen=True, slots=True)
class Schedule:
    """A loan's instalments from a start date (disbursement, or the last settled due date)."""

    principal: Money
    annual_rate: Decimal
    method: Method
    start: date
    instalments: tuple[Instalment, ...]

    @property
    def total_interest(self) -> Money:
        return Money(sum([i.interest.fen for i in self.instalments]))

    @property
    def total_fees(self) -> Money:
        return Money(sum([i.fee.fen for i in self.instalments]))

    @property
    def total_repayable(self) -> Money:
        return Money(sum([i.principal.fen + i.interest.fen + i.fee.fen for i in self.instalments]))


def annuity_instalment(balance: Money, periodic_rate: Decimal, periods: int) -> Money:
    """The level instalment that repays ``balance`` over ``periods`` at ``periodic_rate``, rounded half up."""
    if periods < 1:
        raise ValueError("an annuity needs at least one period")
    if periodic_rate == 0:
        return Money.from_decimal(CONTEXT.divide(balance.to_decimal(), Decimal(periods)), Rounding.HALF_UP)
    growth = CONTEXT.power(CONTEXT.add(_ONE, periodic_rate), periods)
    numerator = CONTEXT.multiply(CONTEXT.multiply(balance.to_decimal(), periodic_rate), growth)
    return Money.from_decimal(CONTEXT.divide(numerator, CONTEXT.subtract(growth, _ONE)), Rounding.HALF_UP)


def _check_terms(principal: Money, months: int, method: Method, grace_months: int) -> None:
    """Refuse a principal, term or grace period no schedule can have."""
    if not principal.is_positive:
        raise ProductRuleViolation("the principal must be positive")
    if months < 1:
        raise ProductRuleViolation("the term must be at least one month")
    if method is Method.INTEREST_ONLY_GRACE:
        if not 1 <= grace_months < months:
            raise ProductRuleViolation("the grace period must be at least one month and shorter than the term")
    elif grace_months:
        raise ProductRuleViolation(f"{method} has no grace period")


def build_schedule(
    principal: Money,
    annual_rate: Decimal,
    months: int,
    method: Method,
    start: date,
    *,
    grace_months: int = 0,
    repayment_day: int | None = None,
    day_count_basis: int = 360,
    per_instalment_fee: Money = Money.ZERO,
    interest_method: InterestMethod = InterestMethod.MONTHLY,
) -> Schedule:
    """The schedule of a new loan disbursed on ``start``; due on its day each month, or on ``repayment_day``."""
    _check_terms(principal, months, method, grace_months)
    if repayment_day is None:
        due_dates = regular_due_dates(start, months)
        first_period_days = None
    else:
        due_dates = fixed_day_due_dates(start, months, repayment_day)
        first_period_days = (due_dates[0] - start).days
    instalments = amortise(
        principal,
        annual_rate,
        due_dates,
        method,
        grace_periods=grace_months,
        first_period_days=first_period_days,
        day_count_basis=day_count_basis,
        per_instalment_fee=per_instalment_fee,
        interest_method=interest_method,
        period_start=start,
    )
    return Schedule(principal, annual_rate, method, start, tuple(instalments))


def period_days(period_start: date, due_dates: Sequence[date]) -> list[int]:
    """The days of each period: from ``period_start`` to the first due date, then from one due date to the next."""
    days: list[int] = []
    previous = period_start
    for due_date in due_dates:
        days.append((due_date - previous).days)
        previous = due_date
    return days


def amortise(
    balance: Money,
    annual_rate: Decimal,
    due_dates: Sequence[date],
    method: Method,
    *,
    grace_periods: int = 0,
    first_period_days: int | None = None,
    day_count_basis: int = 360,
    per_instalment_fee: Money = Money.ZERO,
    level_amount: Money | None = None,
    first_number: int = 1,
    interest_method: InterestMethod = InterestMethod.MONTHLY,
    period_start: date | None = None,
) -> list[Instalment]:
    """Instalments that repay ``balance`` on ``due_dates``.

    ``grace_periods`` leading periods pay interest only. ``first_period_days`` makes the first period broken
    (charged at the daily rate). ``level_amount`` fixes the instalment (equal instalments) or the principal part
    (equal principal) instead of deriving it from the dates: used after a prepayment to shorten the term, in which
    case the schedule stops as soon as the balance is repaid. Interest by the day needs ``period_start``, the day
    the first period's interest runs from.
    """
    days = _daily_periods(interest_method, period_start, due_dates)
    parts = amortise_fen(
        balance,
        annual_rate,
        len(due_dates),
        method,
        grace_periods=grace_periods,
        first_period_days=first_period_days,
        day_count_basis=day_count_basis,
        level_amount=level_amount,
        period_days=days,
    )
    if parts is None:  # a rate that is not a finite number: the reference path says what is wrong with it
        return _amortise_reference(
            balance,
            annual_rate,
            due_dates,
            method,
            grace_periods=grace_periods,
            first_period_days=first_period_days,
            day_count_basis=day_count_basis,
            per_instalment_fee=per_instalment_fee,
            level_amount=level_amount,
            first_number=first_number,
            period_days=days,
        )
    principals, interests = parts
    # Instalment(...) and Money(fen) without their __init__: the frozen slots filled directly (the fen are ints by
    # construction), no frame per object; a schedule is built on every offer and every decision.
    instalments: list[Instalment] = []
    append, new = instalments.append, _new_object
    number = first_number
    for due_date, principal, interest in zip(due_dates, principals, interests, strict=False):
        instalment: Instalment = new(Instalment)
        _set_number(instalment, number)
        _set_due_date(instalment, due_date)
        amount: Money = new(Money)
        _set_fen(amount, principal)
        _set_principal(instalment, amount)
        amount = new(Money)
        _set_fen(amount, interest)
        _set_interest(instalment, amount)
        _set_fee(instalment, per_instalment_fee)
        append(instalment)
        number += 1
    return instalments


def _daily_periods(
    interest_method: InterestMethod, period_start: date | None, due_dates: Sequence[date]
) -> list[int] | None:
    """Each period's days when interest is charged by the day; None for monthly periods."""
    if interest_method is InterestMethod.MONTHLY:
        return None
    if period_start is None:
        raise ValueError("interest by the day needs the day the first period starts")
    return period_days(period_start, due_dates)


def amortise_fen(
    balance: Money,
    annual_rate: Decimal,
    periods: int,
    method: Method,
    *,
    grace_periods: int = 0,
    first_period_days: int | None = None,
    day_count_basis: int = 360,
    level_amount: Money | None = None,
    period_days: Sequence[int] | None = None,
) -> tuple[list[int], list[int]] | None:
    """The principal and interest parts, in fen, of :func:`amortise` over ``periods`` due dates.

    The same arithmetic on integer fen, with the same decimal operations in the same context for each period's
    interest, and no Money or Instalment built on the way: for a hot path that needs the figures only (the largest
    payment of a limit search) or builds the instalments once. None when the periodic rate is not a finite
    number, which only the reference path reports as it always has. ``period_days`` charges every period by the
    day (its principal part then being the level less that period's own interest).
    """
    rate = monthly_rate(annual_rate)
    if not rate.is_finite():
        return None
    amortising = periods - grace_periods
    if amortising < 1:
        raise ProductRuleViolation("no period left to repay the principal")
    if level_amount is not None:
        level = level_amount.fen
    elif method is Method.EQUAL_PRINCIPAL:
        level = balance.fen // amortising  # Money.split's first part
    else:
        level = annuity_instalment(balance, rate, amortising).fen
    equal_principal = method is Method.EQUAL_PRINCIPAL
    stops_when_repaid = level_amount is not None
    multiply = CONTEXT.multiply
    to_fen = _HALF_UP.quantize
    by_day = daily_rate(annual_rate, day_count_basis) if period_days is not None else None
    principals: list[int] = []
    interests: list[int] = []
    remaining = balance.fen
    last = periods - 1
    for index in range(periods):
        if by_day is not None and period_days is not None:
            # By the day, the period's own interest is also what the level instalment's principal is net of.
            regular = interest = int(to_fen(multiply(remaining, multiply(by_day, Decimal(period_days[index]))), _WHOLE))
        else:
            regular = int(to_fen(multiply(remaining, rate), _WHOLE))
            if index == 0 and first_period_days is not None:
                factor = multiply(daily_rate(annual_rate, day_count_basis), Decimal(first_period_days))
                interest = int(to_fen(multiply(remaining, factor), _WHOLE))
            else:
                interest = regular
        if index < grace_periods:
            part = 0
        elif index == last:
            part = remaining
        elif equal_principal:
            part = level
        else:
            part = level - regular
        part = max(part, 0)
        part = min(part, remaining)
        remaining -= part
        principals.append(part)
        interests.append(interest)
        if stops_when_repaid and not remaining and index >= grace_periods:
            break
    return principals, interests


def largest_payment(
    principal: Money,
    annual_rate: Decimal,
    months: int,
    method: Method,
    start: date,
    *,
    grace_months: int = 0,
    day_count_basis: int = 360,
    per_instalment_fee: Money = Money.ZERO,
    interest_method: InterestMethod = InterestMethod.MONTHLY,
) -> Money:
    """The largest instalment (principal, interest and fee) of ``build_schedule`` with these terms, refused alike.

    A regular schedule's due dates only count its periods, so none is built unless the calendar would refuse them
    (or its interest is charged by the day, which needs the dates).
    """
    _check_terms(principal, months, method, grace_months)
    if start.year * 12 + start.month - 1 + months > _LAST_MONTH_INDEX:
        regular_due_dates(start, months)  # raises as build_schedule would
    by_day = interest_method is InterestMethod.DAILY
    parts = None if by_day else amortise_fen(principal, annual_rate, months, method, grace_periods=grace_months)
    if parts is None:
        schedule = build_schedule(
            principal,
            annual_rate,
            months,
            method,
            start,
            grace_months=grace_months,
            day_count_basis=day_count_basis,
            per_instalment_fee=per_instalment_fee,
            interest_method=interest_method,
        )
        return max(instalment.total for instalment in schedule.instalments)
    return Money(max(map(int.__add__, *parts)) + per_instalment_fee.fen)


def _amortise_reference(
    balance: Money,
    annual_rate: Decimal,
    due_dates: Sequence[date],
    method: Method,
    *,
    grace_periods: int = 0,
    first_period_days: int | None = None,
    day_count_basis: int = 360,
    per_instalment_fee: Money = Money.ZERO,
    level_amount: Money | None = None,
    first_number: int = 1,
    period_days: Sequence[int] | None = None,
) -> list[Instalment]:
    """:func:`amortise` as first written, on Money throughout: the reference its fast path is tested against.

    Instalments that repay ``balance`` on ``due_dates``.

    ``grace_periods`` leading periods pay interest only. ``first_period_days`` makes the first period broken
    (charged at the daily rate). ``level_amount`` fixes the instalment (equal instalments) or the principal part
    (equal principal) instead of deriving it from the dates: used after a prepayment to shorten the term, in which
    case the schedule stops as soon as the balance is repaid.
    """
    rate = monthly_rate(annual_rate)
    amortising = len(due_dates) - grace_periods
    if amortising < 1:
        raise ProductRuleViolation("no period left to repay the principal")
    if level_amount is not None:
        level = level_amount
    elif method is Method.EQUAL_PRINCIPAL:
        level = balance.split(amortising)[0]
    else:
        level = annuity_instalment(balance, rate, amortising)

    instalments: list[Instalment] = []
    remaining = balance
    for index, due_date in enumerate(due_dates):
        regular_interest = remaining.times(rate, Rounding.HALF_UP)
        if period_days is not None:
            regular_interest = interest = remaining.times(
                CONTEXT.multiply(daily_rate(annual_rate, day_count_basis), Decimal(period_days[index])),
                Rounding.HALF_UP,
            )
        elif index == 0 and first_period_days is not None:
            interest = remaining.times(
                CONTEXT.multiply(daily_rate(annual_rate, day_count_basis), Decimal(first_period_days)),
                Rounding.HALF_UP,
            )
        else:
            interest = regular_interest
        is_last = index == len(due_dates) - 1
        if index < grace_periods:
            part = Money.ZERO
        elif is_last:
            part = remaining
        elif method is Method.EQUAL_PRINCIPAL:
            part = level
        else:
            part = level - regular_interest
        part = min(max(part, Money.ZERO), remaining)
        remaining -= part
        instalments.append(Instalment(first_number + index, due_date, part, interest, per_instalment_fee))
        if level_amount is not None and not remaining and index >= grace_periods:
            break
    return instalments


def reschedule_after_prepayment(
    balance: Money,
    annual_rate: Decimal,
    method: Method,
    remaining: Sequence[Instalment],
    mode: EarlyRepayment,
    *,
    grace_periods: int = 0,
    interest_method: InterestMethod = InterestMethod.MONTHLY,
    day_count_basis: int = 360,
    period_start: date | None = None,
) -> list[Instalment]:
    """The instalments after a prepayment left ``balance`` of principal, keeping the remaining due dates.

    ``shorten_term`` keeps the instalment (or, for equal principal, the principal part) and drops the periods no
    longer needed; ``reduce_instalment`` keeps the number of periods and lowers each instalment. ``period_start``
    is where the first remaining period's interest runs from (needed by the day).
    """
    if not remaining or not balance.is_positive:
        return []
    due_dates = [i.due_date for i in remaining]
    fee = remaining[0].fee
    first_number = remaining[0].number
    level: Money | None = None
    if mode is EarlyRepayment.SHORTEN_TERM:
        amortising = list(remaining[grace_periods:])
        if amortising:
            sample = amortising[0]
            level = sample.principal if method is Method.EQUAL_PRINCIPAL else sample.principal + sample.interest
        if level is not None and not level.is_positive:
            level = None
    amortising_method = Method.EQUAL_INSTALMENT if method is Method.INTEREST_ONLY_GRACE else method
    return amortise(
        balance,
        annual_rate,
        due_dates,
        amortising_method,
        grace_periods=grace_periods,
        per_instalment_fee=fee,
        level_amount=level,
        first_number=first_number,
        interest_method=interest_method,
        day_count_basis=day_count_basis,
        period_start=period_start,
    )
