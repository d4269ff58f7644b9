"""DynamoDB attribute values to and from Python values, as ``boto3.dynamodb.types`` converts them.

The same rules as boto3's ``TypeSerializer`` and ``TypeDeserializer`` (numbers through DynamoDB's decimal context,
floats refused, sets typed by their members, the same errors), without importing boto3, which costs a function's
cold start ~0.2 s before it has made a single call. One difference: binary values read back as ``bytes`` instead of
boto3's ``Binary`` wrapper (the code here only ever reads them through ``bytes(...)``, which gives the same bytes).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Set
from decimal import Clamped, Context, Decimal, Inexact, Overflow, Rounded, Underflow
from typing import Any

#: DynamoDB's numbers: 38 significant digits, exponents within -128..126, nothing rounded silently.
DYNAMODB_CONTEXT = Context(Emin=-128, Emax=126, prec=38, traps=[Clamped, Overflow, Inexact, Rounded, Underflow])


def _is_number(value: Any) -> bool:
    if isinstance(value, int | Decimal):
        return True
    if isinstance(value, float):
        raise TypeError("Float types are not supported. Use Decimal types instead.")
    return False


def _boto3_binary(value: Any) -> bool:
    # boto3's Binary, if boto3 is loaded at all (a value of that class cannot exist otherwise).
    types = sys.modules.get("boto3.dynamodb.types")
    return types is not None and isinstance(value, types.Binary)


def _is_binary(value: Any) -> bool:
    return isinstance(value, bytes | bytearray) or _boto3_binary(value)


def _is_string(value: Any) -> bool:
    return isinstance(value, str)


def _number(value: Any) -> str:
    number = str(DYNAMODB_CONTEXT.create_decimal(value))
    if number in ("Infinity", "NaN"):
        raise TypeError("Infinity and NaN not supported")
    return number


def _binary(value: Any) -> Any:
    return value.value if _boto3_binary(value) else value


def _set_of(value: Any, member: Callable[[Any], bool]) -> bool:
    return isinstance(value, Set) and False not in map(member, value)


def to_attribute(value: Any) -> dict[str, Any]:
    """One Python value as a DynamoDB attribute value (``{"S": ...}``, ``{"M": {...}}``, ...)."""
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if _is_number(value):
        return {"N": _number(value)}
    if isinstance(value, str):
        return {"S": value}
    if _is_binary(value):
        return {"B": _binary(value)}
    if _set_of(value, _is_number):
        return {"NS": [_number(n) for n in value]}
    if _set_of(value, _is_string):
        return {"SS": list(value)}
    if _set_of(value, _is_binary):
        return {"BS": [_binary(b) for b in value]}
    if isinstance(value, Mapping):
        return {"M": {k: to_attribute(v) for k, v in value.items()}}
    if isinstance(value, list | tuple):
        return {"L": [to_attribute(v) for v in value]}
    raise TypeError(f'Unsupported type "{type(value)}" for value "{value}"')


def from_attribute(value: Mapping[str, Any]) -> Any:
    """One DynamoDB attribute value as a Python value (numbers as ``Decimal``, binary as ``bytes``)."""
    if not value:
        raise TypeError("Value must be a nonempty dictionary whose key is a valid dynamodb type.")
    kind = next(iter(value))
    raw = value[kind]
    match kind:
        case "NULL":
            return None
        case "BOOL" | "S":
            return raw
        case "N":
            return DYNAMODB_CONTEXT.create_decimal(raw)
        case "B":
            return bytes(raw)
        case "NS":
            return {DYNAMODB_CONTEXT.create_decimal(n) for n in raw}
        case "SS":
            return set(raw)
        case "BS":
            return {bytes(b) for b in raw}
        case "L":
            return [from_attribute(v) for v in raw]
        case "M":
            return {k: from_attribute(v) for k, v in raw.items()}
    raise TypeError(f"Dynamodb type {kind} is not supported")


def to_item(values: Mapping[str, Any]) -> dict[str, Any]:
    """A record as a DynamoDB item (each field an attribute value)."""
    return {k: to_attribute(v) for k, v in values.items()}


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """A DynamoDB item as a record."""
    return {k: from_attribute(v) for k, v in item.items()}
