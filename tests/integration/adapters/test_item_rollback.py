"""The local stack's item-level rollback of moto's TransactWriteItems leaves a cancelled transaction without trace."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def table(aws: Any) -> Any:
    dynamodb = aws.client("dynamodb")
    if "rollback" in dynamodb.list_tables()["TableNames"]:
        dynamodb.delete_table(TableName="rollback")
    dynamodb.create_table(
        TableName="rollback",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.put_item(TableName="rollback", Item={"pk": {"S": "a"}, "sk": {"S": "1"}, "n": {"N": "1"}})
    dynamodb.put_item(TableName="rollback", Item={"pk": {"S": "c"}, "sk": {"S": "1"}, "n": {"N": "7"}})
    return dynamodb


def _items(dynamodb: Any) -> list[dict[str, Any]]:
    return sorted(dynamodb.scan(TableName="rollback")["Items"], key=lambda item: item["pk"]["S"])


def test_a_cancelled_transaction_changes_no_item_it_named(table: Any) -> None:
    # Given two items, and a transaction that updates one, creates a third, deletes the second, then fails a check
    before = _items(table)
    with pytest.raises(table.exceptions.TransactionCanceledException):
        table.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": "rollback",
                        "Key": {"pk": {"S": "a"}, "sk": {"S": "1"}},
                        "UpdateExpression": "SET #s = :s ADD #n :one",
                        "ExpressionAttributeNames": {"#s": "s", "#n": "n"},
                        "ExpressionAttributeValues": {":s": {"S": "changed"}, ":one": {"N": "1"}},
                    }
                },
                {"Put": {"TableName": "rollback", "Item": {"pk": {"S": "b"}, "sk": {"S": "1"}}}},
                {"Delete": {"TableName": "rollback", "Key": {"pk": {"S": "c"}, "sk": {"S": "1"}}}},
                {
                    "ConditionCheck": {
                        "TableName": "rollback",
                        "Key": {"pk": {"S": "z"}, "sk": {"S": "1"}},
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
            ]
        )
    # Then every item is as it was
    assert _items(table) == before


def test_a_committed_transaction_keeps_its_writes(table: Any) -> None:
    table.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": "rollback", "Item": {"pk": {"S": "b"}, "sk": {"S": "1"}}}},
            {"Delete": {"TableName": "rollback", "Key": {"pk": {"S": "c"}, "sk": {"S": "1"}}}},
        ]
    )
    assert [item["pk"]["S"] for item in _items(table)] == ["a", "b"]
