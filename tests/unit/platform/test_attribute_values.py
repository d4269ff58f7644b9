"""The adapters' attribute values are boto3's TypeSerializer and TypeDeserializer: exact numbers, floats refused."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.types import Binary, TypeDeserializer, TypeSerializer

from lending.adapters.attribute_values import from_attribute, from_item, to_attribute, to_item

VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    -7,
    10**37,
    Decimal("120000.00"),
    Decimal("-0.000001"),
    Decimal("1E+2"),
    "",
    "héllo ✓",
    b"\x00\xff",
    bytearray(b"ab"),
    Binary(b"zz"),
    {Decimal("1.5"), 2},
    {"a", "b"},
    {b"a", b"b"},
    [],
    (),
    {},
    [1, "a", None, [True, {"k": Decimal("0.1")}]],
    {"offer": {"limit": "120000.00", "schedule": [{"n": 1, "due": "2026-01-15"}] * 3}, "pii": {"name": b"\x10"}},
]
REFUSED: list[Any] = [1.5, [0.1], {"x": 2.0}, Decimal("NaN"), Decimal("Infinity"), Decimal("1E+200"), object(), {1.5}]


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_to_attribute_is_boto3_s(value: Any) -> None:
    assert to_attribute(value) == TypeSerializer().serialize(value)


@pytest.mark.parametrize("value", REFUSED, ids=repr)
def test_refused_values_are_refused_as_boto3_refuses_them(value: Any) -> None:
    try:
        TypeSerializer().serialize(value)
    except (TypeError, ArithmeticError) as refused:
        boto3_error: Exception = refused
    else:
        pytest.fail("boto3 accepted it")
    with pytest.raises(type(boto3_error)) as ours:
        to_attribute(value)
    assert str(ours.value) == str(boto3_error)


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_from_attribute_is_boto3_s(value: Any) -> None:
    attribute = TypeSerializer().serialize(value)
    expected = TypeDeserializer().deserialize(attribute)
    assert from_attribute(attribute) == expected
    assert type(from_attribute(attribute)) is type(expected)


def test_items_round_trip() -> None:
    record = {"application_id": "a1", "amount": Decimal("120000.00"), "term": 12, "pii": {"phone": b"\x01"}}
    assert from_item(to_item(record)) == {**record, "term": Decimal(12)}
    with pytest.raises(TypeError, match="nonempty dictionary"):
        from_attribute({})
    with pytest.raises(TypeError, match="Dynamodb type X is not supported"):
        from_attribute({"X": 1})
