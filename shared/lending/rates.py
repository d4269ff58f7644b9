"""Interest rates as exact decimals: parsing, the four-place disclosure format, and period rates."""

from __future__ import annotations

import decimal
from decimal import Decimal

from lending.errors import InvalidRate
from lending.money import CONTEXT, Rounding

MONTHS_PER_YEAR = 12
DISCLOSURE_PLACES = Decimal("0.0001")
_HALF_UP = Rounding.HALF_UP.value


def parse_rate(value: object) -> Decimal:
    """Parse an annual rate given as a decimal string or Decimal (``"0.1250"`` = 12.50%); floats are refused."""
    if isinstance(value, bool | float):
        raise InvalidRate(f"rates must be decimal strings, not {type(value).__name__}")
    if isinstance(value, Decimal):
        rate = value
    elif isinstance(value, int | str):
        try:
            rate = Decimal(str(value).strip())
        except decimal.InvalidOperation:
            raise InvalidRate(f"not a decimal rate: {value!r}") from None
    else:
        raise InvalidRate(f"rates must be decimal strings, not {type(value).__name__}")
    if not rate.is_finite() or rate < 0:
        raise InvalidRate(f"a rate must be a finite, non-negative decimal: {value!r}")
    if rate > 1:
        raise InvalidRate(f"a rate is a fraction per year (0.12 = 12%), not a percentage: {value!r}")
    return rate


def format_rate(rate: Decimal) -> str:
    """The contract's rate string: four places, half up (``Decimal("0.12")`` → ``"0.1200"``); never ``-0.0000``."""
    disclosed = rate.quantize(DISCLOSURE_PLACES, rounding=_HALF_UP, context=CONTEXT)
    return str(disclosed.copy_abs() if disclosed.is_zero() else disclosed)


def monthly_rate(annual_rate: Decimal) -> Decimal:
    """Periodic rate of a regular monthly period: annual / 12, as Chinese lenders quote instalment loans."""
    return CONTEXT.divide(annual_rate, Decimal(MONTHS_PER_YEAR))


def daily_rate(annual_rate: Decimal, day_count_basis: int) -> Decimal:
    """Daily rate: annual / day-count basis (360 by default), for broken periods, lines and penalties."""
    return CONTEXT.divide(annual_rate, Decimal(day_count_basis))
