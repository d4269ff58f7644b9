"""Money: exact CNY in fen; floats refused; every rounding named."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from lending.errors import InvalidAmount
from lending.money import Money, Rounding, total


@pytest.mark.parametrize("value", [1.5, 0.1, True, float("nan"), "NaN", "Infinity", "1.234", "abc", None, [1]])
def test_money_refuses_floats_bools_non_finite_and_a_third_decimal_place(value: object) -> None:
    with pytest.raises(InvalidAmount):
        Money.of(value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "fen"),
    [("120000.00", 12_000_000), ("12.3", 1230), (12, 1200), (Decimal("0.01"), 1), ("-0.50", -50), (" 7 ", 700)],
)
def test_money_parses_exact_strings_ints_and_decimals(value: str | int | Decimal, fen: int) -> None:
    assert Money.of(value).fen == fen


@pytest.mark.parametrize(("fen", "text"), [(12_000_000, "120000.00"), (-50, "-0.50"), (5, "0.05"), (0, "0.00")])
def test_money_serialises_as_a_two_place_string(fen: int, text: str) -> None:
    assert str(Money(fen)) == text


@pytest.mark.parametrize(
    ("rounding", "expected"),
    [
        (Rounding.HALF_UP, 3),
        (Rounding.HALF_EVEN, 2),
        (Rounding.DOWN, 2),
        (Rounding.UP, 3),
        (Rounding.FLOOR, 2),
        (Rounding.CEILING, 3),
    ],
)
def test_times_rounds_a_half_fen_by_the_mode_it_names(rounding: Rounding, expected: int) -> None:
    # Given 5 fen times one half: 2.5 fen, exactly half-way
    # Then each mode lands where its name says
    assert Money(5).times(Decimal("0.5"), rounding).fen == expected


def test_money_is_immutable_and_hashable() -> None:
    amount = Money.of("1.00")
    with pytest.raises(AttributeError):
        amount.fen = 5  # type: ignore[misc]
    assert {amount, Money(100)} == {Money(100)}


@given(st.integers(-(10**12), 10**12), st.integers(1, 360))
def test_split_sums_exactly_and_puts_the_remainder_last(fen: int, parts: int) -> None:
    pieces = Money(fen).split(parts)
    assert total(pieces) == Money(fen)
    assert len(pieces) == parts
    assert len({p.fen for p in pieces[:-1]}) <= 1


class _Priced(BaseModel):
    amount: Money


def test_pydantic_reads_a_string_and_writes_the_two_place_string_back() -> None:
    model = _Priced.model_validate({"amount": "120000"})
    assert model.model_dump(mode="json") == {"amount": "120000.00"}
    assert _Priced.model_validate_json('{"amount": "0.5"}').amount == Money(50)


def test_pydantic_refuses_a_float_amount() -> None:
    with pytest.raises(ValidationError):
        _Priced.model_validate({"amount": 1.5})


def test_money_never_compares_with_a_bare_number() -> None:
    with pytest.raises(TypeError):
        _ = Money(1) < 2  # type: ignore[operator]
    assert Money(1) != 1
