"""Money's and the business assessment's fast paths against the Decimal arithmetic they stand for."""

from __future__ import annotations

import string
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lending.errors import AssessmentInputError, InvalidAmount
from lending.money import CONTEXT, Money, Rounding
from lending.risk.cash_flow import debt_service_coverage
from lending.risk.statistics import FIGURE_PLACES

pytestmark = pytest.mark.slow  # hundreds of examples a property: make test runs it, make unit leaves it out

PROPERTY = settings(max_examples=500, deadline=None)

#: Amount strings as people send them, and as nobody should: signs, spaces, exponents, underscores, other digits.
AMOUNT_TEXTS = st.one_of(
    st.from_regex(r"\A\s{0,2}[+-]?\d{0,21}(\.\d{0,4})?\s{0,2}\Z", fullmatch=True),
    st.builds(
        lambda whole, places: f"{whole}.{places}" if places is not None else str(whole),
        st.integers(0, 10**19),
        st.none() | st.integers(0, 99).map(lambda n: f"{n:02d}") | st.integers(0, 9).map(str),
    ),
    st.text(alphabet=string.digits + ".-+eE_ \t٣²", max_size=12),
)


def _outcome(function: Callable[[], Any]) -> tuple[str, Any]:
    """What a call returns, or the type and words of what it raises."""
    try:
        return ("value", function())
    except Exception as exc:
        return ("raised", (type(exc), str(exc)))


def _money_of_decimal_text(text: str) -> Money:
    """Money.of(text) through Decimal, as every string went before the plain-amount fast path."""
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise InvalidAmount(f"not a decimal amount: {text!r}") from None
    if not value.is_finite():
        raise InvalidAmount(f"not a finite amount: {text!r}")
    return Money.of(value)


@PROPERTY
@given(text=AMOUNT_TEXTS)
def test_money_of_a_string_is_money_of_its_decimal(text: str) -> None:
    # Given any string, a plain amount or not
    fast = _outcome(lambda: Money.of(text))
    reference = _outcome(lambda: _money_of_decimal_text(text))
    # Then parsing it gives the amount its Decimal gives; a refusal is a refusal either way
    assert fast[0] == reference[0]
    if fast[0] == "value":
        assert fast[1] == reference[1]
        assert type(fast[1].fen) is int
    else:
        assert fast[1][0] is InvalidAmount is reference[1][0]


@given(fen=st.integers(-(10**20), 10**20))
def test_money_is_still_immutable_and_exact(fen: int) -> None:
    amount = Money(fen)
    assert amount.fen == fen
    assert Money.of(str(amount)) == amount
    with pytest.raises(AttributeError):
        amount.fen = 1  # type: ignore[misc]
    with pytest.raises(InvalidAmount):
        Money(float(fen))  # type: ignore[arg-type]


@PROPERTY
@given(net=st.integers(-(10**12), 10**12).map(Money), instalment=st.integers(-(10**3), 10**12).map(Money))
def test_debt_service_coverage_divides_the_fen_as_it_divided_the_yuan(net: Money, instalment: Money) -> None:
    # Given any net flow and instalment
    def reference() -> Decimal:
        if not instalment.is_positive:
            raise AssessmentInputError("the instalment to cover must be positive")
        ratio = CONTEXT.divide(net.to_decimal(), instalment.to_decimal())
        return ratio.quantize(FIGURE_PLACES, rounding=Rounding.FLOOR.value)

    fast, expected = _outcome(lambda: debt_service_coverage(net, instalment)), _outcome(reference)
    # Then the coverage is the same Decimal, printed alike, or the same refusal
    assert fast == expected
    if fast[0] == "value":
        assert str(fast[1]) == str(expected[1])
