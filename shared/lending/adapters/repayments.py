"""Repayments and reminders in DynamoDB (CollectionsTable, key ``id``).

- A repayment (``id`` = its repayment id): ``loan_id``, ``requested_at``, ``source``, ``amount``, ``status``,
  ``failure_reason``, ``settled_at``, and for auto-debit ``due_date`` and ``attempt``; for a collection its
  ``collection_key``, ``reference`` and, once the provider took it, ``collection_id``. The ``LoanRepayments`` index
  (``loan_id``, ``requested_at``) lists a loan's repayments newest first, one query per page.
- A reminder (``id`` = ``reminder/…``): ``state`` ``claimed`` then ``sent``. It has no ``requested_at``, so the
  index never lists it.

Every status change is conditioned on the status it leaves (``PENDING``), so a settlement applies once.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from lending.adapters import listing
from lending.adapters.attribute_values import from_item, to_item
from lending.adapters.aws import client
from lending.money import Money

LOAN_INDEX = "LoanRepayments"
#: How long a claimed reminder is another run's to send before this run may send it.
REMINDER_LEASE = timedelta(minutes=15)


class RepaymentStore:
    """Repayment records and sent reminders (lending.steps.collections' Repayments)."""

    def __init__(self, table_name: str, dynamodb: Any | None = None) -> None:
        self._table = table_name
        self._dynamodb = dynamodb or client("dynamodb")

    def get(self, repayment_id: str) -> dict[str, Any] | None:
        response = self._dynamodb.get_item(TableName=self._table, Key={"id": {"S": repayment_id}}, ConsistentRead=True)
        item = response.get("Item")
        return None if item is None else self._record(from_item(item))

    def create(self, record: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
        """Store a new repayment; the one already stored under its id (and False) when it exists."""
        repayment_id = str(record["repayment_id"])
        item = {k: v for k, v in record.items() if k != "repayment_id" and v is not None}
        try:
            self._dynamodb.put_item(
                TableName=self._table,
                Item=to_item({"id": repayment_id, **item}),
                # A repayment is created once: its id is the collection's, and a second would collect twice.
                ConditionExpression="attribute_not_exists(id)",
            )
        except self._dynamodb.exceptions.ConditionalCheckFailedException:
            existing = self.get(repayment_id)
            if existing is None:  # pragma: no cover - a repayment is never deleted
                raise
            return existing, False
        return dict(record), True

    def update(self, repayment_id: str, fields: Mapping[str, Any], *, when_status: str) -> bool:
        """Set ``fields`` on a repayment whose status is ``when_status``; False when it is not (any more)."""
        values = {k: v for k, v in fields.items() if v is not None}
        removes = [k for k, v in fields.items() if v is None]
        names = {f"#f{i}": name for i, name in enumerate([*values, *removes])}
        by_name = {name: key for key, name in names.items()}
        expression = "SET " + ", ".join(f"{by_name[name]} = :v{i}" for i, name in enumerate(values))
        if removes:
            expression += " REMOVE " + ", ".join(by_name[name] for name in removes)
        try:
            self._dynamodb.update_item(
                TableName=self._table,
                Key={"id": {"S": repayment_id}},
                UpdateExpression=expression,
                ConditionExpression="#status = :expected",
                ExpressionAttributeNames={**names, "#status": "status"},
                ExpressionAttributeValues={
                    **{f":v{i}": value for i, value in enumerate(to_item(values).values())},
                    ":expected": {"S": when_status},
                },
            )
        except self._dynamodb.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def page(
        self, loan_id: str, limit: int, after: dict[str, str] | None
    ) -> tuple[list[dict[str, Any]], dict[str, str] | None]:
        """One page of the loan's repayments, newest first, and where the next starts (None: the last page), by the
        ``LoanRepayments`` index (lending.adapters.listing)."""
        items, following = listing.page(self._table, listing.REPAYMENTS, loan_id, limit, after)
        return [self._record(item) for item in items], following

    def pending(self, loan_id: str) -> Money:
        """What is being collected from the loan and not yet settled: its PENDING repayments, by the
        ``LoanRepayments`` index (one query; a loan has few repayments in flight)."""
        fen = 0
        arguments: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": listing.REPAYMENTS.index,
            "KeyConditionExpression": "loan_id = :loan",
            "FilterExpression": "#status = :pending",
            "ExpressionAttributeNames": {"#status": "status", "#amount": "amount"},
            "ExpressionAttributeValues": to_item({":loan": loan_id, ":pending": "PENDING"}),
            "ProjectionExpression": "#amount",
        }
        while True:
            response = self._dynamodb.query(**arguments)
            fen += sum(Money.of(str(from_item(item)["amount"])).fen for item in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return Money(fen)
            arguments["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def claim_reminder(self, reminder_id: str, message: Mapping[str, Any], now: datetime) -> bool:
        """Claim a reminder before it is sent: False when it was sent, or another run claimed it in the last
        ``REMINDER_LEASE`` (EventBridge may deliver a schedule twice). A claim never sent is claimed again once its
        lease has run out, so a crash between the claim and the send only delays the reminder."""
        try:
            self._dynamodb.put_item(
                TableName=self._table,
                Item=to_item({"id": reminder_id, "state": "claimed", "claimed_at": now.isoformat(), **message}),
                # Protects a reminder from two sends: a second run while the first holds the claim finds it taken.
                ConditionExpression="attribute_not_exists(id) OR (#state = :claimed AND claimed_at < :stale)",
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues=to_item(
                    {":claimed": "claimed", ":stale": (now - REMINDER_LEASE).isoformat()}
                ),
            )
        except self._dynamodb.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def reminder_sent(self, reminder_id: str) -> None:
        self._dynamodb.update_item(
            TableName=self._table,
            Key={"id": {"S": reminder_id}},
            UpdateExpression="SET #state = :sent",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues={":sent": {"S": "sent"}},
        )

    @staticmethod
    def _record(item: dict[str, Any]) -> dict[str, Any]:
        item["repayment_id"] = item.pop("id")
        return item


def repayment_store() -> RepaymentStore:
    """The store of the current function, from its settings (``COLLECTIONS_TABLE``)."""
    from lending.adapters.settings import CollectionsSettings, settings

    return RepaymentStore(settings(CollectionsSettings).collections_table)
