"""The schedule's fast paths against the reference paths they replace: the same figures, or the same refusal."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lending.calendar import fixed_day_due_dates, monthly_due_dates, months_between
from lending.catalogue import Method
from lending.money import Money
from lending.schedule import (
    Instalment,
    _amortise_reference,
    amortise,
    build_schedule,
    elapsed_months,
    largest_payment,
    regular_due_dates,
)

pytestmark = pytest.mark.slow  # hundreds of examples a property: make test runs it, make unit leaves it out

PROPERTY = settings(max_examples=300, deadline=None)

#: Every day a date can hold, with month ends and the last years drawn often.
DATES = st.one_of(
    st.dates(),
    st.dates(min_value=date(2020, 1, 1), max_value=date(2040, 12, 31)),
    st.dates(min_value=date(9990, 1, 1)),
    st.builds(
        lambda year, month, day: date(year, month, min(day, 28 if month == 2 else 30)),
        st.integers(1, 9999),
        st.integers(1, 12),
        st.integers(27, 31),
    ),
)
#: Rates as the catalogue writes them, odd ones, and a few that are not numbers at all.
RATES = st.one_of(
    st.integers(0, 2400).map(lambda bp: Decimal(bp).scaleb(-4)),
    st.decimals(min_value=0, max_value=2, places=9, allow_nan=False),
    st.sampled_from([Decimal("NaN"), Decimal("Infinity"), Decimal("1E-30"), Decimal("0.123456789123456789")]),
)
BALANCES = st.one_of(st.integers(1, 60_000_000), st.integers(-(10**6), 10**6), st.integers(1, 10**20)).map(Money)


def _outcome(function: Callable[[], Any]) -> tuple[str, Any]:
    """What a call returns, or the type and words of what it raises."""
    try:
        return ("value", function())
    except Exception as exc:
        return ("raised", (type(exc), str(exc)))


@PROPERTY
@given(start=DATES, count=st.integers(0, 40))
def test_regular_due_dates_are_the_calendars(start: date, count: int) -> None:
    # Given any start date (month ends and the last years included) and number of months
    # When the due dates are laid out by the fast path and by the calendar
    # Then they are the same dates, or both refuse alike
    assert _outcome(lambda: regular_due_dates(start, count)) == _outcome(lambda: monthly_due_dates(start, count))


@PROPERTY
@given(start=DATES, end=DATES)
def test_elapsed_months_are_the_calendars(start: date, end: date) -> None:
    # Given any two dates, in either order
    # When the months between them are measured by the fast path and by the calendar
    # Then the Decimal is the same, digit for digit, or both refuse alike
    fast, reference = _outcome(lambda: elapsed_months(start, end)), _outcome(lambda: months_between(start, end))
    assert fast == reference
    if fast[0] == "value":
        assert str(fast[1]) == str(reference[1])


@PROPERTY
@given(start=DATES, months=st.integers(1, 40))
def test_elapsed_months_of_due_dates_are_whole(start: date, months: int) -> None:
    # Given the regular due dates of a loan
    dates = _outcome(lambda: monthly_due_dates(start, months))
    if dates[0] == "raised":
        return
    # Then each is a whole number of months from the start, as the calendar also says
    for number, due in enumerate(dates[1], start=1):
        assert elapsed_months(start, due) == months_between(start, due) == number


@st.composite
def amortisations(draw: st.DrawFn) -> dict[str, Any]:
    """Arguments of amortise, well inside and well outside what a product allows."""
    method = draw(st.sampled_from(list(Method)))
    periods = draw(st.integers(1, 40))
    start = draw(st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)))
    fixed = draw(st.booleans())
    due_dates = fixed_day_due_dates(start, periods, draw(st.integers(1, 31))) if fixed else None
    return {
        "balance": draw(BALANCES),
        "annual_rate": draw(RATES),
        "due_dates": due_dates or monthly_due_dates(start, periods),
        "method": method,
        "grace_periods": draw(st.integers(0, periods)),
        "first_period_days": (due_dates[0] - start).days if due_dates else draw(st.none() | st.integers(0, 60)),
        "day_count_basis": draw(st.sampled_from([360, 365])),
        "per_instalment_fee": draw(st.integers(0, 5000).map(Money)),
        "level_amount": draw(st.none() | st.integers(-100, 5_000_000).map(Money)),
        "first_number": draw(st.integers(1, 30)),
    }


@PROPERTY
@given(arguments=amortisations())
def test_amortise_on_integer_fen_is_the_reference(arguments: dict[str, Any]) -> None:
    # Given any balance (negative and huge ones too), rate (NaN and infinity too), dates, method, grace, broken
    # period, fee, level amount and numbering
    # When the instalments are worked out on integer fen and by the reference on Money
    fast = _outcome(lambda: amortise(**arguments))
    reference = _outcome(lambda: _amortise_reference(**arguments))
    # Then they are the same instalments, or the same refusal
    assert fast == reference
    if fast[0] == "value":
        assert repr(fast[1]) == repr(reference[1])


@PROPERTY
@given(
    principal=BALANCES,
    annual_rate=RATES,
    months=st.integers(0, 40),
    method=st.sampled_from(list(Method)),
    start=DATES,
    grace=st.integers(0, 12),
    basis=st.sampled_from([360, 365]),
    fee=st.integers(0, 5000).map(Money),
)
def test_largest_payment_is_the_schedules_largest_instalment(
    principal: Money,
    annual_rate: Decimal,
    months: int,
    method: Method,
    start: date,
    grace: int,
    basis: int,
    fee: Money,
) -> None:
    # Given any terms, including ones build_schedule refuses
    def reference() -> Money:
        schedule = build_schedule(
            principal,
            annual_rate,
            months,
            method,
            start,
            grace_months=grace,
            day_count_basis=basis,
            per_instalment_fee=fee,
        )
        return max(instalment.total for instalment in schedule.instalments)

    # When the largest payment is found without building the schedule
    fast = _outcome(
        lambda: largest_payment(
            principal,
            annual_rate,
            months,
            method,
            start,
            grace_months=grace,
            day_count_basis=basis,
            per_instalment_fee=fee,
        )
    )
    # Then it is the largest instalment of the schedule built, or the same refusal
    assert fast == _outcome(reference)


@given(
    first_number=st.integers(1, 36),
    start=st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)),
    balance=st.integers(1, 10**9).map(Money),
    annual_rate=st.integers(0, 2400).map(lambda bp: Decimal(bp) / 10000),
    fee=st.integers(0, 10**4).map(Money),
)
def test_an_instalment_made_on_the_fast_path_is_an_instalment(
    first_number: int, start: date, balance: Money, annual_rate: Decimal, fee: Money
) -> None:
    # Given instalments amortise made by filling their slots directly
    due_dates = monthly_due_dates(start, 6)
    fast = amortise(
        balance, annual_rate, due_dates, Method.EQUAL_INSTALMENT, per_instalment_fee=fee, first_number=first_number
    )
    for instalment in fast:
        # When each is made again by the constructors
        made = Instalment(
            instalment.number,
            instalment.due_date,
            Money(instalment.principal.fen),
            Money(instalment.interest.fen),
            Money(instalment.fee.fen),
        )
        # Then the two are equal, print alike, hash alike and are as frozen, their amounts too
        assert type(instalment) is Instalment
        assert type(instalment.principal) is type(instalment.interest) is Money
        assert instalment == made
        assert repr(instalment) == repr(made)
        assert hash(instalment) == hash(made)
        assert hash(instalment.principal) == hash(made.principal)
        assert instalment.total == made.principal + made.interest + made.fee
        with pytest.raises(AttributeError):
            instalment.number = 2  # type: ignore[misc]
        with pytest.raises(AttributeError):
            instalment.principal.fen = 1  # type: ignore[misc]
    assert [i.number for i in fast] == list(range(first_number, first_number + 6))
