"""Audit hash chains in DynamoDB (AuditTable): one partition per subject, one item per link, keyed by ``seq``.

Each event's fields are plain attributes (``seq`` is the event's index; ``data`` is its canonical JSON, so it reads
back exactly as it was hashed). Appending is a conditional put on the next ``seq``: two writers that read the same
head cannot both take the next link; the loser reads the new head and builds its event on it.

A chain's first event also carries ``chain_shard`` (one of :data:`CHAIN_SHARDS`, from the subject), the key of the
sparse ``AuditChains`` index: the daily seal lists every chain from it (one index entry per chain, not per event)
and reads each head with one single-item Query. A chain's anchors live beside it in the partition
``ANCHOR#<subject>``, one item per sealed head (``seq`` is the head's index), written once.
"""

from __future__ import annotations

import json
import random
import time
import zlib
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any, Literal

from lending.anchoring import Anchor
from lending.audit import AuditEvent, ChainLink, canonical_json, next_event, verify
from lending.errors import AuditContention

#: How often an append re-reads the head after losing the next link to another writer.
APPEND_ATTEMPTS = 8
#: Partitions of the AuditChains index (each chain's first event is in one, by its subject).
CHAIN_SHARDS = 16
CHAINS_INDEX = "AuditChains"
ANCHOR_PREFIX = "ANCHOR#"


def chain_shard(subject: str) -> str:
    """The AuditChains partition a chain is listed in: the same for a subject on every write."""
    return f"{zlib.crc32(subject.encode()) % CHAIN_SHARDS:02d}"


def _to_item(event: AuditEvent) -> dict[str, Any]:
    item = {
        "subject": {"S": event.subject},
        "seq": {"N": str(event.index)},
        "kind": {"S": event.kind},
        "occurred_at": {"S": event.occurred_at},
        "data": {"S": canonical_json(event.data).decode()},
        "prev_hash": {"S": event.prev_hash},
        "hash": {"S": event.hash},
    }
    if event.index == 0:  # the chain's entry in the AuditChains index (not part of the event: never hashed)
        item["chain_shard"] = {"S": chain_shard(event.subject)}
    return item


def _from_item(item: Mapping[str, Any]) -> AuditEvent:
    """The stored event; a missing or mistyped attribute is a ValueError (AuditEvent.from_json checks each)."""
    raw: dict[str, Any] = {name: value["S"] for name, value in item.items() if "S" in value}
    raw.pop("data", None)
    raw.pop("chain_shard", None)
    if "seq" in item:
        raw["index"] = int(item["seq"]["N"])
    if "data" in item:
        raw["data"] = json.loads(item["data"]["S"])
    return AuditEvent.from_json(raw)


class DynamoAuditStore:
    """Append-only audit chains, one per subject (an application or loan id)."""

    def __init__(self, table_name: str, client: Any) -> None:
        self._table = table_name
        self._dynamodb = client

    def head(self, subject: str) -> AuditEvent | None:
        """The last event of the subject's chain, or None for a chain not started."""
        response = self._dynamodb.query(
            TableName=self._table,
            KeyConditionExpression="subject = :subject",
            ExpressionAttributeValues={":subject": {"S": subject}},
            ScanIndexForward=False,
            Limit=1,
            ConsistentRead=True,
        )
        items = response.get("Items", [])
        return _from_item(items[0]) if items else None

    def next_link(
        self,
        subject: str,
        kind: str,
        occurred_at: datetime,
        data: Mapping[str, Any],
        head: ChainLink | Literal["read"] | None = "read",
    ) -> tuple[AuditEvent, dict[str, Any]]:
        """The next event of the chain and the TransactItem that appends it, for a caller that writes it together
        with the record change it describes (so the event is in the chain exactly when the change is).

        ``head``: the chain's last link as the caller remembers it (None: the chain is empty), or "read" it now.
        A remembered head that is no longer the last makes the write fail on the link's condition, never fork."""
        previous = self.head(subject) if head == "read" else head
        event = next_event(previous, subject, kind, occurred_at, data)
        put = {
            "Put": {
                "TableName": self._table,
                "Item": _to_item(event),
                # Protects the chain as in append: if another writer took this link first, the whole transaction
                # fails and the caller redoes its work on the new head.
                "ConditionExpression": "attribute_not_exists(seq)",
            }
        }
        return event, put

    def append(self, subject: str, kind: str, occurred_at: datetime, data: Mapping[str, Any]) -> AuditEvent:
        """Add an event at the end of the subject's chain and return it.

        Not idempotent by itself: a retried step appends a second event saying the same thing, which the chain
        records honestly; callers that must not repeat an event guard it with their own conditional write.
        """
        for attempt in range(APPEND_ATTEMPTS):
            event = next_event(self.head(subject), subject, kind, occurred_at, data)
            try:
                self._dynamodb.put_item(
                    TableName=self._table,
                    Item=_to_item(event),
                    # Protects the chain: only one writer may take link ``seq``; a writer that read an older head
                    # fails here instead of forking the chain, and rebuilds its event on the new head.
                    ConditionExpression="attribute_not_exists(seq)",
                )
            except self._dynamodb.exceptions.ConditionalCheckFailedException:
                time.sleep(random.uniform(0, 0.005 * 2**attempt))
            else:
                return event
        raise AuditContention(f"could not append {kind} to the audit chain of {subject}: too many concurrent writers")

    def _items(self, subject: str) -> Iterator[dict[str, Any]]:
        arguments: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "subject = :subject",
            "ExpressionAttributeValues": {":subject": {"S": subject}},
            "ScanIndexForward": True,
            "ConsistentRead": True,
        }
        while True:
            page = self._dynamodb.query(**arguments)
            yield from page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                return
            arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def events(self, subject: str) -> list[AuditEvent]:
        """The subject's chain in order (every page)."""
        return [_from_item(item) for item in self._items(subject)]

    def verify(self, subject: str) -> int | None:
        """The position of the first link of the subject's chain that does not hold (a changed field, or an item
        that no longer reads as an event), or None when the chain is intact."""
        events = []
        for position, item in enumerate(self._items(subject)):
            try:
                events.append(_from_item(item))
            except (ValueError, KeyError, TypeError):
                return position
        return verify(events)

    def chains(self) -> Iterator[str]:
        """Every chain's subject, from the AuditChains index: one entry per chain, shard by shard, every page."""
        for shard in range(CHAIN_SHARDS):
            arguments: dict[str, Any] = {
                "TableName": self._table,
                "IndexName": CHAINS_INDEX,
                "KeyConditionExpression": "chain_shard = :shard",
                "ExpressionAttributeValues": {":shard": {"S": f"{shard:02d}"}},
            }
            while True:
                page = self._dynamodb.query(**arguments)
                for item in page.get("Items", []):
                    yield item["subject"]["S"]
                if "LastEvaluatedKey" not in page:
                    break
                arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def anchor(self, subject: str) -> Anchor | None:
        """The chain's latest anchor (its most recently sealed head, with the proof), or None before its first."""
        response = self._dynamodb.query(
            TableName=self._table,
            KeyConditionExpression="subject = :subject",
            ExpressionAttributeValues={":subject": {"S": ANCHOR_PREFIX + subject}},
            ScanIndexForward=False,
            Limit=1,
        )
        items = response.get("Items", [])
        return Anchor.from_json(json.loads(items[0]["anchor"]["S"])) if items else None

    def record_anchor(self, anchor: Anchor) -> bool:
        """Keep the anchor of a newly sealed head, once: False when that head's anchor is already kept (a rerun)."""
        try:
            self._dynamodb.put_item(
                TableName=self._table,
                Item={
                    "subject": {"S": ANCHOR_PREFIX + anchor.chain},
                    "seq": {"N": str(anchor.head_index)},
                    "anchor": {"S": canonical_json(anchor.to_json()).decode()},
                },
                ConditionExpression="attribute_not_exists(seq)",
            )
        except self._dynamodb.exceptions.ConditionalCheckFailedException:
            return False
        return True
