"""The APR's fast paths against the reference: the same IRR search step for step, and the same offer figures."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lending.apr import CashFlow, annualise, irr_of_floats, monthly_irr
from lending.catalogue import Method
from lending.money import Money
from lending.pricing import borrower_apr, borrower_cash_flows
from lending.schedule import Instalment, Schedule, build_schedule

pytestmark = pytest.mark.slow  # hundreds of examples a property: make test runs it, make unit leaves it out

PROPERTY = settings(max_examples=300, deadline=None)


def _outcome(function: Callable[[], Any]) -> tuple[str, Any]:
    """What a call returns (as printed, so that NaN equals NaN), or the type and words of what it raises."""
    try:
        return ("value", repr(function()))
    except Exception as exc:
        return ("raised", (type(exc), str(exc)))


def _reference_monthly_irr(flows: Sequence[CashFlow], guess: float = 0.01) -> Decimal:
    """The monthly IRR as first written: Newton's method from ``guess``, bisection when a step leaves the bracket."""
    if not flows or all(f.amount >= 0 for f in flows) or all(f.amount <= 0 for f in flows):
        raise ValueError("an IRR needs money in both directions")
    amounts = [float(f.amount) for f in flows]
    times = [float(f.months) for f in flows]

    def value_and_slope(rate: float) -> tuple[float, float]:
        base = 1.0 + rate
        value = slope = 0.0
        for amount, months in zip(amounts, times, strict=True):
            discounted = amount * base**-months
            value += discounted
            slope -= months * discounted / base
        return value, slope

    low, high = -0.99, 10.0
    f_low = value_and_slope(low)[0]
    if f_low * value_and_slope(high)[0] > 0:
        raise ValueError("no IRR between -99% and 1000% a month")
    rate = guess
    for _ in range(200):
        value, slope = value_and_slope(rate)
        if value == 0:
            break
        if (value < 0) == (f_low < 0):
            low, f_low = rate, value
        else:
            high = rate
        candidate = rate - value / slope if slope else (low + high) / 2
        if not low < candidate < high:
            candidate = (low + high) / 2
        if abs(candidate - rate) < 1e-16:
            rate = candidate
            break
        rate = candidate
    return Decimal(repr(rate))


FLOWS = st.lists(
    st.builds(
        CashFlow,
        st.decimals(min_value=0, max_value=40, places=3, allow_nan=False, allow_infinity=False),
        st.decimals(min_value=-(10**7), max_value=10**7, places=2, allow_nan=False, allow_infinity=False),
    ),
    min_size=0,
    max_size=40,
)
GUESSES = st.one_of(
    st.just(0.01),
    st.floats(min_value=-3, max_value=12, allow_nan=False),
    st.sampled_from([-1.0, -0.99, 0.0, 10.0, float("nan"), float("inf")]),
)


@PROPERTY
@given(received=st.integers(1, 10**8), flows=FLOWS, guess=GUESSES)
def test_monthly_irr_is_the_reference_search(received: int, flows: list[CashFlow], guess: float) -> None:
    # Given money received at the start and any flows after it, and any first guess (absurd ones included)
    everything = [CashFlow(Decimal(0), Decimal(received).scaleb(-2)), *flows]
    # When the IRR is searched for by the fast path and by the reference
    # Then the root is the same float, or the refusal is the same
    assert _outcome(lambda: monthly_irr(everything, guess)) == _outcome(
        lambda: _reference_monthly_irr(everything, guess)
    )


@PROPERTY
@given(flows=FLOWS, guess=GUESSES)
def test_monthly_irr_of_any_flows_is_the_reference(flows: list[CashFlow], guess: float) -> None:
    # Given any flows at all, however they are signed
    # Then the fast path finds what the reference finds, or refuses alike
    assert _outcome(lambda: monthly_irr(flows, guess)) == _outcome(lambda: _reference_monthly_irr(flows, guess))


def test_irr_of_floats_needs_a_time_for_every_amount() -> None:
    assert _outcome(lambda: irr_of_floats([100.0, -101.0], [0.0]))[0] == "raised"


@st.composite
def schedules(draw: st.DrawFn) -> Schedule:
    """Schedules of every method and both kinds of due date, including hand-made ones no product would make."""
    method = draw(st.sampled_from(list(Method)))
    months = draw(st.integers(2 if method is Method.INTEREST_ONLY_GRACE else 1, 36))
    start = draw(
        st.one_of(
            st.dates(min_value=date(2020, 1, 1), max_value=date(2040, 12, 31)),
            st.sampled_from([date(2024, 1, 31), date(2025, 1, 29), date(2024, 8, 31), date(2023, 12, 30)]),
        )
    )
    schedule = build_schedule(
        draw(st.integers(100, 60_000_000).map(Money)),
        draw(st.integers(0, 3600).map(lambda bp: Decimal(bp).scaleb(-4))),
        months,
        method,
        start,
        grace_months=draw(st.integers(1, months - 1)) if method is Method.INTEREST_ONLY_GRACE else 0,
        repayment_day=draw(st.none() | st.integers(1, 31)),
        day_count_basis=draw(st.sampled_from([360, 365])),
        per_instalment_fee=draw(st.integers(0, 20_000).map(Money)),
    )
    if draw(st.booleans()):
        return schedule
    # Hand-made: due dates moved about (before the start too), amounts of either sign and beyond any loan.
    instalments = tuple(
        Instalment(
            i.number,
            draw(st.dates(min_value=date(2019, 1, 1), max_value=date(2045, 12, 31))),
            Money(draw(st.integers(-(10**6), 10**6) | st.just(i.principal.fen) | st.integers(10**31, 10**34))),
            i.interest,
            i.fee,
        )
        for i in schedule.instalments
    )
    return Schedule(schedule.principal, schedule.annual_rate, method, start, instalments)


@PROPERTY
@given(schedule=schedules(), upfront=st.integers(-(10**4), 10**6).map(Money))
def test_borrower_apr_is_the_annualised_cash_flows(schedule: Schedule, upfront: Money) -> None:
    # Given any schedule and upfront fee
    # When the APR is worked out from the fen and from the Decimal cash flows
    fast = _outcome(lambda: borrower_apr(schedule, upfront))
    reference = _outcome(lambda: annualise(borrower_cash_flows(schedule, upfront)))
    # Then the monthly IRR, APR and effective rate are the same Decimals, or the refusal is the same
    assert fast == reference
