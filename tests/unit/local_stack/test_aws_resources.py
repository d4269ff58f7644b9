"""Each recorded call becomes the (action, resource) pairs IAM authorises it by, as AWS would check them."""

from __future__ import annotations

import pytest

from infra.local.aws_resources import authorised_pairs, authorised_requests

WHERE = {"region": "ap-east-1", "account": "123456789012"}
ARN = "arn:aws:dynamodb:ap-east-1:123456789012"


def test_a_read_is_the_action_on_the_tables_arn_or_its_index() -> None:
    assert authorised_pairs("dynamodb:GetItem", {"TableName": "loans"}, **WHERE) == [
        ("dynamodb:GetItem", f"{ARN}:table/loans")
    ]
    assert authorised_pairs("dynamodb:Query", {"TableName": "loans", "IndexName": "by-due"}, **WHERE) == [
        ("dynamodb:Query", f"{ARN}:table/loans/index/by-due")
    ]


def test_a_transaction_is_authorised_item_by_item() -> None:
    # Given a transaction that puts into one table, updates another and checks a third
    params = {
        "TransactItems": [
            {"Put": {"TableName": "ledger", "Item": {}}},
            {"Update": {"TableName": "loans", "Key": {}}},
            {"ConditionCheck": {"TableName": "audit", "Key": {}}},
        ]
    }
    # Then IAM checks each item's own action on its own table, never TransactWriteItems itself
    assert authorised_pairs("dynamodb:TransactWriteItems", params, **WHERE) == [
        ("dynamodb:PutItem", f"{ARN}:table/ledger"),
        ("dynamodb:UpdateItem", f"{ARN}:table/loans"),
        ("dynamodb:ConditionCheckItem", f"{ARN}:table/audit"),
    ]


@pytest.mark.parametrize(
    ("action", "params", "resource"),
    [
        ("kms:Decrypt", {"KeyId": "alias/lending-pii-dev"}, "arn:aws:kms:ap-east-1:123456789012:alias/lending-pii-dev"),
        ("kms:Encrypt", {"KeyId": "1234abcd"}, "arn:aws:kms:ap-east-1:123456789012:key/1234abcd"),
        (
            "secretsmanager:GetSecretValue",
            {"SecretId": "hook"},
            "arn:aws:secretsmanager:ap-east-1:123456789012:secret:hook",
        ),
        (
            "sqs:SendMessage",
            {"QueueUrl": "https://sqs.ap-east-1.amazonaws.com/123456789012/jobs"},
            "arn:aws:sqs:ap-east-1:123456789012:jobs",
        ),
        ("states:SendTaskSuccess", {"taskToken": "t"}, "*"),
        ("cloudwatch:PutMetricData", {"Namespace": "x"}, "*"),
        ("s3:PutObject", {"Bucket": "b", "Key": "k/1"}, "arn:aws:s3:::b/k/1"),
    ],
)
def test_names_become_the_arns_the_service_authorises(action: str, params: dict[str, str], resource: str) -> None:
    assert authorised_pairs(action, params, **WHERE) == [(action, resource)]


def test_events_are_authorised_on_each_bus_they_go_to() -> None:
    params = {"Entries": [{"EventBusName": "lending"}, {}]}
    assert authorised_pairs("events:PutEvents", params, **WHERE) == [
        ("events:PutEvents", "arn:aws:events:ap-east-1:123456789012:event-bus/default"),
        ("events:PutEvents", "arn:aws:events:ap-east-1:123456789012:event-bus/lending"),
    ]


def test_an_item_operation_carries_its_partition_key_value_as_dynamodb_leading_keys() -> None:
    # Given a transaction that appends a ledger transaction and updates a balance, and a read by index
    params = {
        "TransactItems": [
            {"Put": {"TableName": "ledger", "Item": {"pk": {"S": "TX#t-1"}, "sk": {"S": "TX"}}}},
            {"Update": {"TableName": "ledger", "Key": {"pk": {"S": "ACCOUNT#cash"}, "sk": {"S": "BALANCE"}}}},
        ]
    }
    keys = {"ledger": "pk", "loans": "loan_id"}
    # Then each item's condition keys hold its own partition key value, as IAM's dynamodb:LeadingKeys
    assert authorised_requests("dynamodb:TransactWriteItems", params, **WHERE, partition_keys=keys) == [
        ("dynamodb:PutItem", f"{ARN}:table/ledger", {"dynamodb:LeadingKeys": ["TX#t-1"]}),
        ("dynamodb:UpdateItem", f"{ARN}:table/ledger", {"dynamodb:LeadingKeys": ["ACCOUNT#cash"]}),
    ]
    update = {"TableName": "loans", "Key": {"loan_id": {"S": "L-1"}}}
    assert authorised_requests("dynamodb:UpdateItem", update, **WHERE, partition_keys=keys)[0][2] == {
        "dynamodb:LeadingKeys": ["L-1"]
    }
    # A Query's partition key is in its key condition expression, not parsed: it carries none
    query = {"TableName": "loans", "IndexName": "DueLoans", "KeyConditionExpression": "due_shard = :s"}
    assert authorised_requests("dynamodb:Query", query, **WHERE, partition_keys=keys)[0][2] == {}


def test_a_batch_read_carries_every_keys_partition_value_as_dynamodb_leading_keys() -> None:
    # Given a batch read of two balance items of the ledger
    keys = [{"pk": {"S": f"ACCOUNT#funding:{source}"}, "sk": {"S": "BALANCE"}} for source in ("own_capital", "bank_a")]
    params = {"RequestItems": {"ledger": {"Keys": keys, "ConsistentRead": True}}}
    # Then it is authorised once on the table, with both partition values, as IAM evaluates dynamodb:LeadingKeys
    assert authorised_requests("dynamodb:BatchGetItem", params, **WHERE, partition_keys={"ledger": "pk"}) == [
        (
            "dynamodb:BatchGetItem",
            f"{ARN}:table/ledger",
            {"dynamodb:LeadingKeys": ["ACCOUNT#funding:own_capital", "ACCOUNT#funding:bank_a"]},
        )
    ]
