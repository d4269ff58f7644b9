"""The APR: the internal rate of return of what the borrower actually receives and pays, fees included.

Chinese disclosure rules quote the APR as 12 × the monthly IRR of the cash flows; the effective annual rate
``(1 + monthly IRR)^12 − 1`` is reported beside it. Time is measured in months from the disbursement date (a broken
first period counts as a fraction of a month), so a regular schedule's flows sit on whole months.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from lending.money import CONTEXT

_ONE = Decimal(1)
_TOLERANCE = Decimal("1e-24")
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


def _discount(rate: Decimal, months: Decimal) -> Decimal:
    base = CONTEXT.add(_ONE, rate)
    if months == months.to_integral_value():
        return CONTEXT.power(base, -int(months))
    return CONTEXT.power(base, CONTEXT.minus(months))


def net_present_value(flows: Sequence[CashFlow], monthly_rate: Decimal) -> Decimal:
    """Σ amount × (1 + r)^−months."""
    result = Decimal(0)
    for flow in flows:
        result = CONTEXT.add(result, CONTEXT.multiply(flow.amount, _discount(monthly_rate, flow.months)))
    return result


def _npv_derivative(flows: Sequence[CashFlow], monthly_rate: Decimal) -> Decimal:
    base = CONTEXT.add(_ONE, monthly_rate)
    result = Decimal(0)
    for flow in flows:
        term = CONTEXT.multiply(CONTEXT.multiply(flow.amount, flow.months), _discount(monthly_rate, flow.months))
        result = CONTEXT.subtract(result, CONTEXT.divide(term, base))
    return result


def monthly_irr(flows: Sequence[CashFlow], guess: Decimal = Decimal("0.01")) -> Decimal:
    """The monthly rate at which the flows' present value is zero.

    A loan's flows change sign once (money in, then payments out), so the present value is monotonic in the rate
    and the root is unique. Newton's method converges in a handful of steps; bisection takes over if a step would
    leave the bracket.
    """
    if not flows or all(f.amount >= 0 for f in flows) or all(f.amount <= 0 for f in flows):
        raise ValueError("an IRR needs money in both directions")
    low, high = Decimal("-0.99"), Decimal(10)
    f_low = net_present_value(flows, low)
    if f_low * net_present_value(flows, high) > 0:
        raise ValueError("no IRR between -99% and 1000% a month")
    rate = guess
    for _ in range(_MAX_ITERATIONS):
        value = net_present_value(flows, rate)
        if value == 0:
            return rate
        if (value < 0) == (f_low < 0):
            low, f_low = rate, value
        else:
            high = rate
        slope = _npv_derivative(flows, rate)
        step = CONTEXT.divide(value, slope) if slope != 0 else Decimal(0)
        candidate = CONTEXT.subtract(rate, step)
        if slope == 0 or not low < candidate < high:
            candidate = CONTEXT.divide(CONTEXT.add(low, high), Decimal(2))
        if abs(CONTEXT.subtract(candidate, rate)) < _TOLERANCE:
            return candidate
        rate = candidate
    return rate


def annualise(flows: Sequence[CashFlow]) -> AnnualisedRate:
    """APR (12 × monthly IRR) and effective annual rate of a borrower's cash flows."""
    monthly = monthly_irr(flows)
    apr = CONTEXT.multiply(monthly, Decimal(12))
    effective = CONTEXT.subtract(CONTEXT.power(CONTEXT.add(_ONE, monthly), 12), _ONE)
    return AnnualisedRate(monthly, apr, effective)
