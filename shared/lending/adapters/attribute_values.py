"""DynamoDB attribute values to and from Python values: boto3's ``TypeSerializer`` and ``TypeDeserializer``.

Numbers go through DynamoDB's decimal context (exact ``Decimal``, floats refused); binary values read back as
boto3's ``Binary``, which ``bytes(...)`` turns into the bytes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def to_attribute(value: Any) -> dict[str, Any]:
    """One Python value as a DynamoDB attribute value (``{"S": ...}``, ``{"M": {...}}``, ...)."""
    attribute: dict[str, Any] = _serializer.serialize(value)
    return attribute


def from_attribute(value: Mapping[str, Any]) -> Any:
    """One DynamoDB attribute value as a Python value (numbers as ``Decimal``)."""
    return _deserializer.deserialize(dict(value))


def to_item(values: Mapping[str, Any]) -> dict[str, Any]:
    """A record as a DynamoDB item (each field an attribute value)."""
    return {k: _serializer.serialize(v) for k, v in values.items()}


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """A DynamoDB item as a record."""
    return {k: _deserializer.deserialize(v) for k, v in item.items()}
