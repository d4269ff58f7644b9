"""Money.of at its exact limits: the largest amount, the most places of trailing zeros, and exponents far out.

An amount holds at most 10^20 fen (10^18 yuan) either side of zero. A decimal's places beyond the fen must be
zeros, and Money.of reads up to 42 of them (a shift of 40 digits); past that it refuses the amount rather than build
a power of ten as long as the exponent, which for ``1E-100000000`` would take seconds and hundreds of megabytes.
Mutation testing found every one of these edges movable without a test noticing.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from lending.errors import InvalidAmount
from lending.money import Money

LIMIT_FEN = 10**20


@pytest.mark.parametrize(
    "value",
    [
        "1000000000000000000",  # 10^18 yuan: 19 digits, past the plain-string fast path
        "1000000000000000000.00",
        "1E18",
        Decimal("1E18"),
        10**18,
        "1" + "0" * 20 + "E-2",
    ],
)
def test_the_largest_amount_is_ten_to_the_eighteen_yuan(value: str | int | Decimal) -> None:
    assert Money.of(value) == Money(LIMIT_FEN)
    assert Money.of(f"-{value}" if isinstance(value, str) else -value) == Money(-LIMIT_FEN)


@pytest.mark.parametrize(
    "value",
    ["1000000000000000000.01", "-1000000000000000000.01", "1E19", "1.00000000000000000001E18", 10**18 + 1, "1E20"],
)
def test_one_fen_past_the_largest_amount_is_refused(value: str | int) -> None:
    with pytest.raises(InvalidAmount, match="too large"):
        Money.of(value)


def test_trailing_zeros_are_read_up_to_forty_two_places() -> None:
    # Given 100 yuan written with 3, 42 places of zeros: exact, so the amount is 100.00
    assert Money.of("100.000") == Money(10_000)
    assert Money.of("100." + "0" * 42) == Money(10_000)
    assert Money.of(Decimal("100." + "0" * 42)) == Money(10_000)
    assert Money.of("-100." + "0" * 42) == Money(-10_000)


@pytest.mark.parametrize("zeros", [43, 60, 1_000])
def test_more_than_forty_two_places_are_refused_even_when_they_are_zeros(zeros: int) -> None:
    with pytest.raises(InvalidAmount, match="more than two decimal places"):
        Money.of("100." + "0" * zeros)


@pytest.mark.parametrize("value", ["1E-100000", "-7E-100000", Decimal("1E-100000")])
def test_a_huge_negative_exponent_is_refused_as_too_many_places(value: str | Decimal) -> None:
    with pytest.raises(InvalidAmount, match="more than two decimal places"):
        Money.of(value)


@pytest.mark.parametrize("value", ["0E-100000", "0E+18", "-0E-50"])
def test_zero_with_any_exponent_is_zero(value: str) -> None:
    assert Money.of(value) == Money.ZERO


@pytest.mark.parametrize("value", ["1E+100000", "-1E+999999999"])
def test_a_huge_positive_exponent_is_refused_as_too_large(value: str) -> None:
    with pytest.raises(InvalidAmount, match="too large"):
        Money.of(value)
