"""Exact CNY amounts: an immutable value held in integer fen.

Floats are refused, never rounded quietly. Every conversion from a finer value names its rounding mode, and no
arithmetic here depends on the ambient decimal context: intermediate decimal maths goes through ``CONTEXT``.
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

from lending.errors import InvalidAmount

#: Decimal context for intermediate results. 34 digits (decimal128) is far beyond any sum of 500,000-yuan loans;
#: every trap that could hide a mistake is on.
CONTEXT = decimal.Context(
    prec=34,
    rounding=decimal.ROUND_HALF_EVEN,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
)

FEN_PER_YUAN = 100
_MAX_DIGITS = 20  # digits of fen an amount may have: far beyond any balance, well inside CONTEXT's 34
_MAX_FEN = 10**_MAX_DIGITS
_ONE_FEN = Decimal("0.01")
_WHOLE = Decimal(1)
AMOUNT_PATTERN = r"^-?\d{1,13}(\.\d{1,2})?$"


class Rounding(StrEnum):
    """The rounding modes the domain uses; every quantisation names one."""

    HALF_UP = decimal.ROUND_HALF_UP
    HALF_EVEN = decimal.ROUND_HALF_EVEN
    DOWN = decimal.ROUND_DOWN
    UP = decimal.ROUND_UP
    FLOOR = decimal.ROUND_FLOOR
    CEILING = decimal.ROUND_CEILING


def _exact_decimal(value: object) -> Decimal:
    """Turn str, int or Decimal into a finite Decimal; refuse floats, bools and everything else."""
    if isinstance(value, bool | float):
        raise InvalidAmount(f"amounts must be given as decimal strings, not {type(value).__name__}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except decimal.InvalidOperation:
            raise InvalidAmount(f"not a decimal amount: {value!r}") from None
    else:
        raise InvalidAmount(f"amounts must be decimal strings, not {type(value).__name__}")
    if not result.is_finite():
        raise InvalidAmount(f"not a finite amount: {value!r}")
    return result


def _plain_fen(value: str) -> int | None:
    """The fen of a plain amount string (ASCII digits, at most 18 before the point and 1 or 2 after it), which is
    what nearly every amount sent looks like; None for anything else, which goes through Decimal."""
    whole, point, places = value.strip().partition(".")
    if not (0 < len(whole) <= 18 and whole.isascii() and whole.isdigit()):
        return None
    if not point:
        return int(whole) * FEN_PER_YUAN
    if not (0 < len(places) <= 2 and places.isascii() and places.isdigit()):
        return None
    return int(whole) * FEN_PER_YUAN + int(places) * (10 if len(places) == 1 else 1)


class Money:
    """An amount of CNY, exact to the fen. Serialises as a two-place decimal string: ``"120000.00"``.

    Immutable and hashable; written by hand rather than as a dataclass because amounts are created on every hot
    path (a loan life makes thousands).
    """

    __slots__ = ("fen",)
    fen: int

    ZERO: ClassVar[Money]

    def __init__(self, fen: int) -> None:
        if type(fen) is not int:
            raise InvalidAmount(f"Money holds integer fen, not {type(fen).__name__}")
        _set_fen(self, fen)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Money is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("Money is immutable")

    def __reduce__(self) -> tuple[type[Money], tuple[int]]:
        return (Money, (self.fen,))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Money):
            return self.fen == other.fen
        return NotImplemented

    def __lt__(self, other: Money) -> bool:
        if other.__class__ is Money:
            return self.fen < other.fen
        return NotImplemented

    def __le__(self, other: Money) -> bool:
        if other.__class__ is Money:
            return self.fen <= other.fen
        return NotImplemented

    def __gt__(self, other: Money) -> bool:
        if other.__class__ is Money:
            return self.fen > other.fen
        return NotImplemented

    def __ge__(self, other: Money) -> bool:
        if other.__class__ is Money:
            return self.fen >= other.fen
        return NotImplemented

    def __hash__(self) -> int:
        return hash((Money, self.fen))

    @classmethod
    def of(cls, value: str | int | Decimal) -> Money:
        """Parse an exact amount in yuan (``"12.34"``, ``12``, ``Decimal("12.3")``); more than 2 places is an error."""
        if type(value) is str:
            plain = _plain_fen(value)
            if plain is not None:
                return cls(plain)
        sign, digits, exponent = _exact_decimal(value).as_tuple()
        assert isinstance(exponent, int)  # finite: _exact_decimal refused the rest
        coefficient = int("".join(map(str, digits)) or "0")
        shift = exponent + 2  # from the decimal's exponent to fen
        if shift >= 0:
            if shift > _MAX_DIGITS:
                raise InvalidAmount(f"{value} is too large to be an amount")
            fen = coefficient * 10**shift
        else:
            fen, rest = divmod(coefficient, 10**-shift) if -shift <= 2 * _MAX_DIGITS else (0, coefficient)
            if rest:
                raise InvalidAmount(f"{value} has more than two decimal places; say how to round it")
        if fen > _MAX_FEN:
            raise InvalidAmount(f"{value} is too large to be an amount")
        return cls(-fen if sign else fen)

    @classmethod
    def from_decimal(cls, value: Decimal, rounding: Rounding) -> Money:
        """Round a yuan amount of any precision to the fen with the named mode."""
        try:
            fen = CONTEXT.multiply(_exact_decimal(value), Decimal(FEN_PER_YUAN))
            return cls(int(fen.quantize(_WHOLE, rounding=rounding._value_, context=CONTEXT)))
        except (decimal.Overflow, decimal.InvalidOperation):
            raise InvalidAmount(f"{value} is too large to be an amount") from None

    @classmethod
    def zero(cls) -> Money:
        return cls.ZERO

    def to_decimal(self) -> Decimal:
        """The amount in yuan as an exact two-place Decimal."""
        return Decimal(self.fen).scaleb(-2, context=CONTEXT).quantize(_ONE_FEN, context=CONTEXT)

    def times(self, factor: Decimal | int, rounding: Rounding) -> Money:
        """Multiply by an exact factor (a rate, a share) and round to the fen with the named mode."""
        product = CONTEXT.multiply(Decimal(self.fen), _exact_decimal(factor))
        # _value_ is the member's value as Enum stores it: .value reaches it through a Python-level descriptor.
        return Money(int(product.quantize(_WHOLE, rounding=rounding._value_, context=CONTEXT)))

    def split(self, parts: int) -> list[Money]:
        """Split into ``parts`` equal amounts rounded down to the fen; the remainder lands in the last part."""
        if parts < 1:
            raise ValueError("split needs at least one part")
        base, _ = divmod(self.fen, parts)
        return [Money(base)] * (parts - 1) + [Money(self.fen - base * (parts - 1))]

    def __add__(self, other: Money) -> Money:
        if other.__class__ is not Money:
            return NotImplemented
        return Money(self.fen + other.fen)

    def __sub__(self, other: Money) -> Money:
        if other.__class__ is not Money:
            return NotImplemented
        return Money(self.fen - other.fen)

    def __neg__(self) -> Money:
        return Money(-self.fen)

    def __abs__(self) -> Money:
        return Money(abs(self.fen))

    def __bool__(self) -> bool:
        return self.fen != 0

    @property
    def is_positive(self) -> bool:
        return self.fen > 0

    @property
    def is_negative(self) -> bool:
        return self.fen < 0

    def __str__(self) -> str:
        sign = "-" if self.fen < 0 else ""
        yuan, fen = divmod(abs(self.fen), FEN_PER_YUAN)
        return f"{sign}{yuan}.{fen:02d}"

    def __repr__(self) -> str:
        return f"Money('{self}')"

    @classmethod
    def __get_pydantic_core_schema__(cls, source: type[Any], handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        """Validate from str/int/Decimal (never float) and serialise as the two-place string."""

        def validate(value: object) -> Money:
            if isinstance(value, Money):
                return value
            try:
                return cls.of(value)  # type: ignore[arg-type]
            except InvalidAmount as exc:
                raise ValueError(str(exc)) from None

        return core_schema.no_info_plain_validator_function(
            validate, serialization=core_schema.plain_serializer_function_ser_schema(str, when_used="json")
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"type": "string", "pattern": AMOUNT_PATTERN, "examples": ["120000.00"], "description": "CNY"}


#: The slot's own setter: what ``object.__setattr__`` ends at, without looking it up on every amount made.
_set_fen = vars(Money)["fen"].__set__
Money.ZERO = Money(0)


def total(amounts: Iterable[Money]) -> Money:
    """Sum an iterable of Money (the empty sum is zero)."""
    return Money(sum([amount.fen for amount in amounts]))
