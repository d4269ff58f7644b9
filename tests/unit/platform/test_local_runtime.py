"""The local runtime's shortcuts change how fast moto answers, never what it answers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any
from unittest import mock

import boto3
import pytest
from moto import mock_aws
from moto.dynamodb.responses import DynamoHandler

from infra.local.runtime import plain_dynamodb_responses

REGION = "ap-east-1"

#: Every kind of attribute value, nested, empty and at the edges of what the serializer special-cases.
ITEM: dict[str, Any] = {
    "pk": {"S": "APP#1"},
    "sk": {"S": "A"},
    "text": {"S": "héllo ✓"},
    "empty_text": {"S": ""},
    "number": {"N": "120000.00"},
    "negative": {"N": "-0.000001"},
    "big": {"N": "12345678901234567890123456789012345678"},
    "yes": {"BOOL": True},
    "no": {"BOOL": False},
    "nothing": {"NULL": True},
    "binary": {"B": b"\x00\x01\xffciphertext"},
    "binaries": {"BS": [b"a", b"\x00"]},
    "strings": {"SS": ["a", "b"]},
    "numbers": {"NS": ["1", "2.5"]},
    "empty_list": {"L": []},
    "empty_map": {"M": {}},
    "list": {"L": [{"S": "x"}, {"N": "1"}, {"NULL": True}, {"L": [{"BOOL": False}]}, {"M": {"k": {"B": b"z"}}}]},
    "map": {
        "M": {
            "offer": {"M": {"limit": {"S": "120000.00"}, "schedule": {"L": [{"M": {"n": {"N": "1"}}}] * 12}}},
            "S": {"S": "a key named like a type"},
            "name": {"B": b"\x10\x20"},
        }
    },
}


@pytest.fixture
def dynamodb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB"):
        monkeypatch.delenv(name, raising=False)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")
    with mock_aws():
        yield boto3.session.Session().client("dynamodb", region_name=REGION)


def _bodies(client: Any, run: Callable[[Any], None]) -> list[tuple[int, str]]:
    """The raw (status, body) of every DynamoDB answer while ``run`` talks to a fresh table."""
    client.create_table(
        TableName="t",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    seen: list[tuple[int, str]] = []
    handle = DynamoHandler.call_action

    def recording(self: Any) -> Any:
        status, headers, body = handle(self)
        seen.append((status, body))
        return status, headers, body

    try:
        with mock.patch.object(DynamoHandler, "call_action", recording):
            run(client)
    finally:
        client.delete_table(TableName="t")
    return seen


def _conversation(client: Any) -> None:
    key = {"pk": ITEM["pk"], "sk": ITEM["sk"]}
    client.put_item(TableName="t", Item=ITEM)
    client.put_item(TableName="t", Item={**ITEM, "sk": {"S": "B"}}, ReturnValues="ALL_OLD")
    client.put_item(TableName="t", Item={**ITEM, "sk": {"S": "B"}, "yes": {"BOOL": False}}, ReturnValues="ALL_OLD")
    client.get_item(TableName="t", Key=key, ConsistentRead=True)
    client.get_item(TableName="t", Key={"pk": {"S": "none"}, "sk": {"S": "none"}})
    client.get_item(
        TableName="t",
        Key=key,
        ProjectionExpression="#m.offer, #b",
        ExpressionAttributeNames={"#m": "map", "#b": "binary"},
    )
    client.get_item(TableName="t", Key=key, ReturnConsumedCapacity="TOTAL")
    for returns in ("ALL_NEW", "UPDATED_NEW", "ALL_OLD", "UPDATED_OLD", "NONE"):
        client.update_item(
            TableName="t",
            Key=key,
            UpdateExpression="SET #s = :s, tally = if_not_exists(tally, :zero) + :one REMOVE #n",
            ExpressionAttributeNames={"#s": "status", "#n": "nothing"},
            ExpressionAttributeValues={":s": {"S": returns}, ":zero": {"N": "0"}, ":one": {"N": "1"}},
            ReturnValues=returns,
        )
    client.query(
        TableName="t",
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": ITEM["pk"]},
        ScanIndexForward=False,
        Limit=1,
        ReturnConsumedCapacity="INDEXES",
    )
    client.query(TableName="t", KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": ITEM["pk"]})
    client.scan(TableName="t", Select="COUNT")
    client.batch_get_item(RequestItems={"t": {"Keys": [key, {"pk": ITEM["pk"], "sk": {"S": "B"}}]}})
    client.transact_get_items(TransactItems=[{"Get": {"TableName": "t", "Key": key}}])
    client.transact_write_items(
        TransactItems=[
            {
                "Put": {
                    "TableName": "t",
                    "Item": {**ITEM, "sk": {"S": "C"}},
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
        ]
    )
    with pytest.raises(client.exceptions.TransactionCanceledException):
        client.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": "t",
                        "Item": {**ITEM, "sk": {"S": "C"}},
                        "ConditionExpression": "attribute_not_exists(pk)",
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                }
            ]
        )
    with pytest.raises(client.exceptions.ConditionalCheckFailedException):
        client.put_item(TableName="t", Item=ITEM, ConditionExpression="attribute_not_exists(pk)")
    client.delete_item(TableName="t", Key=key, ReturnValues="ALL_OLD")
    client.describe_table(TableName="t")


def test_plain_dynamodb_responses_are_byte_for_byte_moto_s_own(dynamodb: Any) -> None:
    # Given one conversation with moto's DynamoDB, answered by moto's serializer and then by the plain walk
    generic = _bodies(dynamodb, _conversation)
    with plain_dynamodb_responses():
        plain = _bodies(dynamodb, _conversation)
    # Then every answer is the same bytes, errors included (the table's description differs only in its times)
    assert len(plain) == len(generic) > 20
    for (status_plain, body_plain), (status_generic, body_generic) in zip(plain, generic, strict=True):
        if '"TableDescription"' in body_generic or '"Table"' in body_generic:
            continue
        assert (status_plain, body_plain) == (status_generic, body_generic)


def test_plain_dynamodb_responses_read_back_as_written(dynamodb: Any) -> None:
    from boto3.dynamodb.types import TypeDeserializer

    with plain_dynamodb_responses():
        _bodies(dynamodb, lambda client: _round_trip(client, TypeDeserializer()))


def _round_trip(client: Any, deserializer: Any) -> None:
    client.put_item(TableName="t", Item=ITEM)
    item = client.get_item(TableName="t", Key={"pk": ITEM["pk"], "sk": ITEM["sk"]})["Item"]
    plain = {k: deserializer.deserialize(v) for k, v in item.items()}
    assert plain["number"] == Decimal("120000.00")
    assert bytes(plain["binary"]) == b"\x00\x01\xffciphertext"
    assert plain["map"]["offer"]["schedule"][11] == {"n": Decimal(1)}
    assert plain["nothing"] is None
    assert plain["no"] is False
    assert plain["empty_list"] == []
