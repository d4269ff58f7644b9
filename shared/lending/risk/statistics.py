"""Statistics on exact decimals, and ratios as they are kept and shown.

Each runs in a copy of the domain context so that nothing depends on whatever context the calling thread happens
to have.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, localcontext

from lending.money import CONTEXT, Rounding

#: Ratios (coefficient of variation, trend, tax ratio, coverage) are kept and shown to four places.
FIGURE_PLACES = Decimal("0.0001")
_ZERO = Decimal(0)


def mean(values: Sequence[Decimal]) -> Decimal:
    """Arithmetic mean of a non-empty sequence."""
    if not values:
        raise ValueError("the mean of nothing is undefined")
    with localcontext(CONTEXT):
        return sum(values, _ZERO) / len(values)


def median(values: Sequence[Decimal]) -> Decimal:
    """Median of a non-empty sequence (the mean of the middle two for an even count)."""
    if not values:
        raise ValueError("the median of nothing is undefined")
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return mean([ordered[middle - 1], ordered[middle]])


def population_std(values: Sequence[Decimal]) -> Decimal:
    """Population standard deviation: these months are the whole population described, not a sample."""
    centre = mean(values)
    with localcontext(CONTEXT):
        variance = mean([(value - centre) ** 2 for value in values])
    return variance.sqrt(CONTEXT)


def least_squares_slope(values: Sequence[Decimal]) -> Decimal | None:
    """Slope of the least-squares line through (0, v0), (1, v1), …; None for fewer than two points."""
    count = len(values)
    if count < 2:
        return None
    centre_x = Decimal(count - 1) / 2
    centre_y = mean(values)
    with localcontext(CONTEXT):
        spread = sum(((index - centre_x) ** 2 for index in range(count)), _ZERO)
        covariation = sum(((index - centre_x) * (v - centre_y) for index, v in enumerate(values)), _ZERO)
        return covariation / spread


def pearson_correlation(xs: Sequence[Decimal], ys: Sequence[Decimal]) -> Decimal | None:
    """Pearson's r of paired values; None when fewer than two pairs or either side does not vary."""
    if len(xs) != len(ys):
        raise ValueError("correlation needs pairs")
    if len(xs) < 2:
        return None
    centre_x, centre_y = mean(xs), mean(ys)
    with localcontext(CONTEXT):
        covariation = sum(((x - centre_x) * (y - centre_y) for x, y in zip(xs, ys, strict=True)), _ZERO)
        spread_x = sum(((x - centre_x) ** 2 for x in xs), _ZERO)
        spread_y = sum(((y - centre_y) ** 2 for y in ys), _ZERO)
        if spread_x == 0 or spread_y == 0:
            return None
        return covariation / (spread_x * spread_y).sqrt(CONTEXT)


def figure(value: Decimal) -> Decimal:
    """A ratio as it is kept and shown: four places, half up."""
    return value.quantize(FIGURE_PLACES, rounding=Rounding.HALF_UP.value)


def percent(value: Decimal) -> str:
    """A share as people read it: ``Decimal("0.085")`` → ``"8.50%"``."""
    hundredths = CONTEXT.multiply(value, Decimal(100)).quantize(Decimal("0.01"), rounding=Rounding.HALF_UP.value)
    return f"{hundredths}%"
