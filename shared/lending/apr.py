"""The APR: the internal rate of return of what the borrower actually receives and pays, fees included.

Chinese disclosure rules quote the APR as 12 × the monthly IRR of the cash flows; the effective annual rate
``(1 + monthly IRR)^12 − 1`` is reported beside it. Time is measured in months from the disbursement date (a broken
first period counts as a fraction of a month), so a regular schedule's flows sit on whole months.
"""

from __future__ import annotations

import decimal
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from lending.money import CONTEXT

_ONE = Decimal(1)
_TWELVE = Decimal(12)
#: (1 + r)^12 − 1 cancels the leading 1: a tiny rate keeps its digits only with room beyond the money context's 34.
_COMPOUNDING = decimal.Context(prec=80, rounding=decimal.ROUND_HALF_EVEN, traps=[decimal.InvalidOperation])
_TOLERANCE = 1e-16
_MAX_ITERATIONS = 200


@dataclass(frozen=True, slots=True)
class CashFlow:
    """An amount at a time in months from disbursement: positive to the borrower, negative from them."""

    months: Decimal
    amount: Decimal


@dataclass(frozen=True, slots=True)
class AnnualisedRate:
    """The monthly IRR of a loan's cash flows and its two annual forms."""

    monthly_irr: Decimal
    apr: Decimal
    effective_annual_rate: Decimal


def monthly_irr(flows: Sequence[CashFlow], guess: float = 0.01) -> Decimal:
    """The monthly rate at which the flows' present value is zero.

    The amounts are exact; the root is found in binary floating point, which resolves a rate to about 1e-15, far
    finer than the four places an APR is disclosed and capped at (a Decimal search cost ~50x more for nothing).
    A loan's flows change sign once (money in, then payments out), so the present value is monotonic in the rate
    and the root is unique: Newton's method converges in a handful of steps, and bisection takes over if a step
    would leave the bracket.
    """
    if not flows or all(f.amount >= 0 for f in flows) or all(f.amount <= 0 for f in flows):
        raise ValueError("an IRR needs money in both directions")
    return irr_of_floats([float(f.amount) for f in flows], [float(f.months) for f in flows], guess)


def irr_of_floats(amounts: list[float], times: list[float], guess: float = 0.01) -> Decimal:
    """:func:`monthly_irr` of flows already in floats (``float`` of each exact amount and time), once the caller
    has checked that money moves in both directions: the same search, step for step, so the same root."""
    flows = list(zip(amounts, times, [-months for months in times], strict=True))

    def value_of(rate: float) -> float:
        base = 1.0 + rate
        value = 0.0
        for amount, _, negative in flows:
            value += amount * base**negative
        return value

    def value_and_slope(rate: float) -> tuple[float, float]:
        base = 1.0 + rate
        value = slope = 0.0
        for amount, months, negative in flows:
            discounted = amount * base**negative
            value += discounted
            slope -= months * discounted / base
        return value, slope

    low, high = -0.99, 10.0
    f_low = value_of(low)
    if f_low * value_of(high) > 0:
        raise ValueError("no IRR between -99% and 1000% a month")
    low_negative = f_low < 0
    rate = guess
    for _ in range(_MAX_ITERATIONS):
        value, slope = value_and_slope(rate)
        if value == 0:
            break
        if (value < 0) == low_negative:
            low = rate
        else:
            high = rate
        candidate = rate - value / slope if slope else (low + high) / 2
        if not low < candidate < high:
            candidate = (low + high) / 2
        if abs(candidate - rate) < _TOLERANCE:
            rate = candidate
            break
        rate = candidate
    return Decimal(repr(rate))


def annualise(flows: Sequence[CashFlow]) -> AnnualisedRate:
    """APR (12 × monthly IRR) and effective annual rate of a borrower's cash flows."""
    return annualise_monthly(monthly_irr(flows))


def annualise_monthly(monthly: Decimal) -> AnnualisedRate:
    """A monthly IRR with its APR (12 × it) and effective annual rate."""
    apr = CONTEXT.multiply(monthly, _TWELVE)
    effective = _COMPOUNDING.subtract(_COMPOUNDING.power(_COMPOUNDING.add(_ONE, monthly), 12), _ONE)
    return AnnualisedRate(monthly, apr, effective)
