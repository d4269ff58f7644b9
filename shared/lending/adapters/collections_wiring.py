"""What the functions that collect share: the provider's client, the borrower's bound account, the due-index read
of one day, and reminders published to the notifications topic."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any

from lending.adapters.aws import client
from lending.adapters.due_index import DUE_INDEX, DUE_SHARDS
from lending.adapters.vendors.collections import CollectionClient
from lending.serviced_loan import ServicedLoan


def collection_client(base_url: str) -> CollectionClient:
    return CollectionClient(base_url)


def bound_account(loan: ServicedLoan) -> str:
    """The bank account the loan was paid out to (its application's, decrypted; never logged)."""
    from lending.adapters import stores
    from lending.adapters.pii import decrypt_fields

    application_id = str(loan.record["application_id"])
    ciphertexts = stores.applications().get(application_id)["pii"]
    return decrypt_fields(application_id, ciphertexts, ("bank_account",))["bank_account"]


def loans_due_on(loans_table: str, day: date) -> Iterator[str]:
    """Ids of the loans whose oldest unpaid due date is exactly ``day`` (every shard of the DueLoans index)."""
    dynamodb = client("dynamodb")
    for shard in range(DUE_SHARDS):
        arguments: dict[str, Any] = {
            "TableName": loans_table,
            "IndexName": DUE_INDEX,
            "KeyConditionExpression": "due_shard = :shard AND next_due_on = :day",
            "ExpressionAttributeValues": {":shard": {"S": f"due#{shard}"}, ":day": {"S": day.isoformat()}},
        }
        while True:
            page = dynamodb.query(**arguments)
            for item in page.get("Items", []):
                yield item["loan_id"]["S"]
            if "LastEvaluatedKey" not in page:
                break
            arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def publish_reminder(topic_arn: str, message: Mapping[str, Any]) -> None:
    """A reminder on the notifications topic (no personal data: loan, kind, due date, amount)."""
    client("sns").publish(
        TopicArn=topic_arn,
        Message=json.dumps(dict(message)),
        MessageAttributes={"kind": {"DataType": "String", "StringValue": str(message["kind"])}},
    )
