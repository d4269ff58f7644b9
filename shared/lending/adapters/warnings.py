"""Early warnings in DynamoDB (WarningsTable): one item per warning, written once by its id.

An item: ``warning_id`` (the key: loan, then the month and rule, or the day and bucket: lending.early_warning),
``loan_id``, ``kind``, ``raised_at``, ``as_of``, ``evidence`` (figures only), ``action``; ``feed`` (the constant
partition of the ``WarningsFeed`` index, newest first by ``raised_at``: GET /v1/ops/warnings reads one query a
page); ``published_at`` once the event and the borrower's notice went out. The ``LoanWarnings`` index (loan_id,
raised_at) holds a loan's warnings.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lending.adapters.attribute_values import from_item, to_item
from lending.adapters.listing import ListIndex, page

#: The one partition of the feed index: warnings are few (a fraction of open loans a month), so one is enough.
FEED = "warnings"
WARNINGS = ListIndex("feed", "warning_id", "WarningsFeed", "raised_at")
LOAN_WARNINGS = "LoanWarnings"


class WarningStore:
    """Records warnings once, lists them newest first, and a loan's."""

    def __init__(self, table_name: str, client: Any) -> None:
        self._table = table_name
        self._dynamodb = client

    def record(self, warning: Mapping[str, Any]) -> dict[str, Any]:
        """Keep the warning (the first record of its id wins) and answer the record as kept."""
        item = {**warning, "feed": FEED}
        try:
            self._dynamodb.put_item(
                TableName=self._table,
                Item=to_item(item),
                # Protects a warning from being raised twice: a re-run of its month (or day) finds it kept, and the
                # record answers what was kept then (whether it was published, too).
                ConditionExpression="attribute_not_exists(warning_id)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except self._dynamodb.exceptions.ConditionalCheckFailedException as exc:
            kept = exc.response.get("Item")
            return from_item(kept) if kept else item
        return item

    def mark_published(self, warning_id: str, at: str) -> None:
        """The warning's event and notice went out (a re-run publishes only what is not marked)."""
        self._dynamodb.update_item(
            TableName=self._table,
            Key={"warning_id": {"S": warning_id}},
            UpdateExpression="SET published_at = :at",
            # Protects the table from a stray item: only a recorded warning is marked.
            ConditionExpression="attribute_exists(warning_id)",
            ExpressionAttributeValues={":at": {"S": at}},
        )

    def page(self, limit: int, after: dict[str, str] | None) -> tuple[list[dict[str, Any]], dict[str, str] | None]:
        """Up to ``limit`` warnings, newest first, after ``after`` (a position this store gave)."""
        return page(self._table, WARNINGS, FEED, limit, after)

    def for_loan(self, loan_id: str) -> list[dict[str, Any]]:
        """The loan's warnings, newest first."""
        arguments: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": LOAN_WARNINGS,
            "KeyConditionExpression": "loan_id = :loan",
            "ExpressionAttributeValues": {":loan": {"S": loan_id}},
            "ScanIndexForward": False,
        }
        found: list[dict[str, Any]] = []
        while True:
            response = self._dynamodb.query(**arguments)
            found += [from_item(item) for item in response.get("Items", [])]
            if "LastEvaluatedKey" not in response:
                return found
            arguments["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def warning_store(table_name: str) -> WarningStore:
    """The store of the current function's warnings table."""
    from lending.adapters.aws import client

    return WarningStore(table_name, client("dynamodb"))


def publish_early_warning(event_bus_name: str, warning: Mapping[str, Any]) -> None:
    """``EarlyWarningRaised`` on the lending event bus (consumers dedupe by ``warning_id``)."""
    from lending.adapters.events import put_events

    put_events(
        event_bus_name,
        "lending.early_warning",
        [("EarlyWarningRaised", warning)],
        f"warning {warning.get('warning_id')}",
    )


def notify_borrower(topic_arn: str, notice: Mapping[str, Any]) -> None:
    """The borrower's notice on the notifications topic (no personal data: the loan, the reason, the action)."""
    import json

    from lending.adapters.aws import client

    client("sns").publish(
        TopicArn=topic_arn,
        Message=json.dumps(dict(notice)),
        MessageAttributes={"kind": {"DataType": "String", "StringValue": str(notice["kind"])}},
    )
