"""Money: exact CNY in integer fen, floats refused, every rounding named, two-place strings on the wire."""

from __future__ import annotations

import contextlib
import decimal
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from lending.errors import InvalidAmount
from lending.money import Money, Rounding, total

FEN = st.integers(min_value=-(10**15), max_value=10**15)


class _Repayment(BaseModel):
    """A small API-like model with a Money field."""

    loan_id: str
    amount: Money


# Parsing


@pytest.mark.parametrize(
    "value",
    [0.5, 1.0, 120000.0, float("nan"), float("inf"), float("-inf"), True, False],
    ids=["half", "one", "whole-float", "nan", "inf", "-inf", "True", "False"],
)
def test_money_of_refuses_floats_and_bools(value: object) -> None:
    # Given a float or a bool (a bool is an int to Python, but never an amount)
    # When it is parsed as money
    # Then it is refused rather than rounded
    with pytest.raises(InvalidAmount):
        Money.of(value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "value", ["NaN", "nan", "sNaN", "Infinity", "-inf", Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity")]
)
def test_money_of_refuses_values_that_are_not_finite(value: str | Decimal) -> None:
    # Given a NaN or an infinity, as text or as a Decimal
    # When it is parsed
    # Then it is refused
    with pytest.raises(InvalidAmount):
        Money.of(value)


@pytest.mark.parametrize("value", ["0.001", "12.345", "-0.505", "1e-3", Decimal("1.999"), Decimal("0.0001")])
def test_money_of_refuses_more_than_two_decimal_places(value: str | Decimal) -> None:
    # Given an amount finer than a fen
    # When it is parsed without naming a rounding
    # Then it is refused
    with pytest.raises(InvalidAmount, match="more than two decimal places"):
        Money.of(value)


@pytest.mark.parametrize("value", ["", "abc", "1,000.00", "12.3.4", "¥12", None, [12], b"12"])
def test_money_of_refuses_what_is_not_a_decimal_amount(value: object) -> None:
    # Given text that is not a number, or a value of another type
    # When it is parsed
    # Then it is refused with the domain's error
    with pytest.raises(InvalidAmount):
        Money.of(value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "fen"),
    [
        ("120000", 12_000_000),
        ("120000.00", 12_000_000),
        ("0.01", 1),
        ("12.3", 1230),
        ("-0.50", -50),
        (" 7.05 ", 705),
        ("12.340", 1234),  # trailing zeros are not precision: still a whole number of fen
        ("1E+2", 10_000),
        (42, 4200),
        (-7, -700),
        (Decimal("12.30"), 1230),
        (Decimal("-0.01"), -1),
    ],
)
def test_money_of_parses_strings_ints_and_decimals_exactly(value: str | int | Decimal, fen: int) -> None:
    # Given an exact amount in yuan as text, int or Decimal
    # When it is parsed
    # Then it holds exactly that many fen
    assert Money.of(value).fen == fen


def test_money_of_refuses_a_sub_fen_digit_beyond_the_context_precision() -> None:
    # Given an amount with a non-zero digit far beyond the second decimal place (41 places)
    value = "0.01" + "0" * 40 + "1"

    # When it is parsed without naming a rounding
    # Then it is refused like any other third decimal place, not rounded quietly to 0.01
    # (regression: Money.of once multiplied by 100 in the 34-digit CONTEXT, which rounded the product to 1 fen)
    with pytest.raises(InvalidAmount):
        Money.of(value)


@pytest.mark.parametrize("value", ["1e999999", "-1E+999999"])
def test_money_of_refuses_an_amount_too_large_to_hold_with_the_domain_error(value: str) -> None:
    # Given an amount whose exponent overflows the decimal context
    # When it is parsed
    # Then the failure is the domain's InvalidAmount (a ValueError), which the API and the CLI report
    # (regression: decimal.Overflow, an ArithmeticError, once escaped instead, and `lending quote --amount 1e999999`
    # died with a traceback)
    with pytest.raises(InvalidAmount):
        Money.of(value)


def test_a_model_refuses_an_amount_too_large_as_a_validation_error() -> None:
    # Given a request body with an amount whose exponent overflows
    raw = '{"loan_id": "L-1", "amount": "1e999999"}'

    # When the model validates it
    # Then it is a pydantic ValidationError (an API 4xx), not a decimal.Overflow escaping (regression, as above)
    with pytest.raises(ValidationError):
        _Repayment.model_validate_json(raw)


@settings(max_examples=200)
@given(
    negative=st.booleans(),
    coefficient=st.integers(min_value=0, max_value=10**40),
    exponent=st.integers(min_value=-45, max_value=15),
)
def test_money_of_any_decimal_is_exact_or_refused(negative: bool, coefficient: int, exponent: int) -> None:
    # Given any finite decimal: a sign, up to 41 digits and an exponent
    value = Decimal(f"{'-' if negative else ''}{coefficient}E{exponent}")
    exact_fen = Fraction(value) * 100

    # When it is parsed as money
    # Then a whole number of fen of a plausible size is taken exactly, a fraction of a fen is refused, and nothing
    # else ever comes out: no rounding, no other exception
    if exact_fen.denominator != 1:
        with pytest.raises(InvalidAmount):
            Money.of(value)
    elif abs(exact_fen) <= 10**15:
        assert Money.of(value).fen == exact_fen
        assert Money.of(str(value)).fen == exact_fen
    else:
        # a limit on the size of an amount is allowed; a wrong amount is not
        with contextlib.suppress(InvalidAmount):
            assert Money.of(value).fen == exact_fen


@settings(max_examples=200)
@given(fen=FEN)
def test_money_parses_back_its_own_string(fen: int) -> None:
    # Given any amount
    amount = Money(fen)
    # When it is written as text and parsed again
    # Then the same amount comes back
    assert Money.of(str(amount)) == amount
    assert Money.of(amount.to_decimal()) == amount


# Construction and identity


@pytest.mark.parametrize("fen", [1.0, True, Decimal(1), "1"])
def test_money_holds_only_integer_fen(fen: object) -> None:
    # Given anything but an int as the fen count
    # When Money is built from it
    # Then it is refused
    with pytest.raises(InvalidAmount):
        Money(fen)  # type: ignore[arg-type]


def test_money_is_immutable_and_hashable() -> None:
    # Given an amount
    amount = Money.of("12.34")
    # When someone tries to change it
    # Then they cannot, and equal amounts hash alike
    with pytest.raises(AttributeError):
        amount.fen = 1  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del amount.fen
    assert {amount, Money(1234)} == {Money.of("12.34")}
    assert Money.zero() == Money.ZERO == Money(0)


# Writing


@pytest.mark.parametrize(
    ("fen", "text"),
    [(12_000_000, "120000.00"), (-50, "-0.50"), (-5, "-0.05"), (5, "0.05"), (0, "0.00"), (-123_456, "-1234.56")],
)
def test_money_serialises_as_a_two_place_string_including_negatives(fen: int, text: str) -> None:
    # Given an amount in fen
    amount = Money(fen)
    # When it is written
    # Then it has exactly two places, with the sign in front
    assert str(amount) == text
    assert str(amount.to_decimal()) == text
    assert repr(amount) == f"Money('{text}')"


# Rounding


@pytest.mark.parametrize(
    ("mode", "positive", "negative"),
    [
        (Rounding.HALF_UP, 13, -13),
        (Rounding.HALF_EVEN, 12, -12),
        (Rounding.DOWN, 12, -12),
        (Rounding.UP, 13, -13),
        (Rounding.FLOOR, 12, -13),
        (Rounding.CEILING, 13, -12),
    ],
)
def test_times_rounds_a_half_fen_by_the_named_mode(mode: Rounding, positive: int, negative: int) -> None:
    # Given 1.00 and -1.00, and a factor that lands exactly on half a fen (12.5 fen)
    factor = Decimal("0.125")
    # When each is multiplied with a named rounding
    # Then the half fen goes the way the mode says, for either sign
    assert Money.of("1.00").times(factor, mode) == Money(positive)
    assert Money.of("-1.00").times(factor, mode) == Money(negative)
    assert Money.from_decimal(Decimal("0.125"), mode) == Money(positive)


def test_half_even_rounds_to_the_even_fen_on_both_sides() -> None:
    # Given two half-way products, 12.5 fen and 13.5 fen
    # When they are rounded half-even and half-up
    # Then half-even picks the even neighbour both times; half-up always goes up
    assert Money(100).times(Decimal("0.125"), Rounding.HALF_EVEN) == Money(12)
    assert Money(300).times(Decimal("0.045"), Rounding.HALF_EVEN) == Money(14)
    assert Money(300).times(Decimal("0.045"), Rounding.HALF_UP) == Money(14)
    assert Money(100).times(Decimal("0.125"), Rounding.HALF_UP) == Money(13)


def test_times_refuses_a_float_factor() -> None:
    # Given a rate written as a float
    # When it multiplies money
    # Then it is refused
    with pytest.raises(InvalidAmount):
        Money.of("100.00").times(0.1, Rounding.HALF_UP)  # type: ignore[arg-type]


def test_money_arithmetic_ignores_an_ambient_context_that_traps_inexact_results() -> None:
    # Given an ambient decimal context that traps Inexact and Rounded, as boto3's DynamoDB context does
    # (money.py promises that no arithmetic depends on the ambient context)
    dynamodb_like = decimal.Context(
        prec=38, traps=[decimal.Clamped, decimal.Overflow, decimal.Inexact, decimal.Rounded, decimal.Underflow]
    )
    with decimal.localcontext(dynamodb_like):
        # When an amount is multiplied by a rate with a named rounding
        interest = Money.of("1.00").times(Decimal("0.125"), Rounding.HALF_UP)
        rounded = Money.from_decimal(Decimal("0.125"), Rounding.HALF_UP)

    # Then the named rounding is applied as usual
    # (regression: the quantize calls in Money.times / Money.from_decimal once used the ambient context and raised
    # decimal.Inexact)
    assert interest == Money(13)
    assert rounded == Money(13)


# Splitting


@settings(max_examples=200)
@given(fen=FEN, parts=st.integers(min_value=1, max_value=500))
def test_split_puts_the_remainder_in_the_last_part_and_sums_exactly(fen: int, parts: int) -> None:
    # Given any amount and a number of parts
    amount = Money(fen)

    # When it is split
    pieces = amount.split(parts)

    # Then there are that many parts, they sum to the amount exactly, every part but the last is the amount divided
    # and rounded down, and the last carries the remainder (less than one fen per part more)
    assert len(pieces) == parts
    assert total(pieces) == amount
    base = fen // parts
    assert all(piece == Money(base) for piece in pieces[:-1])
    assert 0 <= pieces[-1].fen - base < parts


def test_split_of_a_known_amount() -> None:
    # Given 100.00 in three parts
    # When it is split
    # Then 33.33 and 33.33 and the remainder 33.34
    assert Money.of("100.00").split(3) == [Money.of("33.33"), Money.of("33.33"), Money.of("33.34")]


def test_split_needs_at_least_one_part() -> None:
    with pytest.raises(ValueError, match="at least one part"):
        Money.of("1.00").split(0)


# Arithmetic and comparison


@settings(max_examples=150)
@given(a=FEN, b=FEN)
def test_money_adds_subtracts_and_compares_like_its_fen(a: int, b: int) -> None:
    # Given two amounts
    x, y = Money(a), Money(b)
    # When they are combined and compared
    # Then the results are those of their fen, exactly
    assert (x + y).fen == a + b
    assert (x - y).fen == a - b
    assert (-x).fen == -a
    assert abs(x).fen == abs(a)
    assert (x < y) == (a < b)
    assert (x <= y) == (a <= b)
    assert (x > y) == (a > b)
    assert (x >= y) == (a >= b)
    assert bool(x) == bool(a)
    assert total([x, y]) == Money(a + b)


def test_money_does_not_mix_with_numbers() -> None:
    # Given an amount
    amount = Money.of("1.00")
    # When it is added to or compared with a plain number
    # Then Python refuses, and it is never equal to one
    with pytest.raises(TypeError):
        _ = amount + 1  # type: ignore[operator]
    with pytest.raises(TypeError):
        _ = amount < 1  # type: ignore[operator]
    assert amount != 100
    assert total([]) == Money.ZERO


# Pydantic


def test_a_model_with_money_round_trips_through_json_as_a_two_place_string() -> None:
    # Given a model holding a negative amount
    model = _Repayment(loan_id="L-1", amount=Money.of("-0.5"))

    # When it is dumped to JSON and read back
    dumped = model.model_dump_json()
    restored = _Repayment.model_validate_json(dumped)

    # Then the amount travels as the two-place string and comes back equal
    assert dumped == '{"loan_id":"L-1","amount":"-0.50"}'
    assert model.model_dump(mode="json") == {"loan_id": "L-1", "amount": "-0.50"}
    assert restored == model
    assert restored.amount == Money(-50)


@pytest.mark.parametrize("raw", ['"12.34"', '"12"', "12"])
def test_a_model_accepts_money_as_a_decimal_string_or_an_integer(raw: str) -> None:
    # Given an amount as a JSON string or integer
    # When the model reads it
    # Then it is exact
    model = _Repayment.model_validate_json(f'{{"loan_id": "L-1", "amount": {raw}}}')
    assert model.amount == Money.of(raw.strip('"'))


@pytest.mark.parametrize("raw", ["12.5", "12.0", "1e2", '"12.345"', '"abc"', "true", "null"])
def test_a_model_refuses_money_as_a_json_float_or_anything_inexact(raw: str) -> None:
    # Given an amount as a JSON number with a fraction or exponent (a float to every JSON parser), or nonsense
    # When the model reads it
    # Then validation fails
    with pytest.raises(ValidationError):
        _Repayment.model_validate_json(f'{{"loan_id": "L-1", "amount": {raw}}}')


def test_a_model_refuses_a_python_float_for_money() -> None:
    # Given a Python float
    # When the model is built from it
    # Then validation fails
    with pytest.raises(ValidationError):
        _Repayment(loan_id="L-1", amount=12.5)  # type: ignore[arg-type]


def test_the_json_schema_of_money_is_a_two_place_string() -> None:
    # Given the model's JSON schema
    schema = _Repayment.model_json_schema()
    # Then the amount is a string matching the two-place pattern
    amount = schema["properties"]["amount"]
    assert amount["type"] == "string"
    assert amount["pattern"] == r"^-?\d{1,13}(\.\d{1,2})?$"
