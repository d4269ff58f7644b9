"""DynamoAuditStore against moto: chains append and verify, concurrent writers share one unbroken chain, and any
change to a stored item is found."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from lending.adapters import audit_store
from lending.adapters.audit_store import DynamoAuditStore
from lending.audit import GENESIS_HASH, AuditChain
from lending.errors import AuditContention

SUBJECT = "app_01J9Z"
AT = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def audit(dynamodb: Any, audit_table: str) -> DynamoAuditStore:
    return DynamoAuditStore(audit_table, dynamodb)


def key(seq: int) -> dict[str, Any]:
    return {"subject": {"S": SUBJECT}, "seq": {"N": str(seq)}}


def test_appended_events_read_back_in_order_as_an_intact_chain(audit: DynamoAuditStore) -> None:
    # Given three events, with data that must survive exactly (unicode, nesting, decimals, big integers)
    data = [
        {"status": "SUBMITTED", "name": "张三", "amount": Decimal("120000.00")},
        {"scores": {"pd": "0.0310", "grade": "B"}, "reasons": ["income", "bureau"], "fen": 10**20},
        {},
    ]
    appended = [audit.append(SUBJECT, f"step_{n}", AT + timedelta(minutes=n), d) for n, d in enumerate(data)]

    # When the chain is read back
    events = audit.events(SUBJECT)

    # Then it is the same chain an in-memory AuditChain builds, and it verifies
    expected = AuditChain()
    for n, d in enumerate(data):
        expected.append(SUBJECT, f"step_{n}", AT + timedelta(minutes=n), d)
    assert events == appended == list(expected.events)
    assert events[0].prev_hash == GENESIS_HASH
    assert events[1].data["fen"] == 10**20
    assert audit.head(SUBJECT) == events[-1]
    assert audit.verify(SUBJECT) is None
    assert audit.events("someone_else") == []
    assert audit.verify("someone_else") is None


def test_a_long_chain_is_read_across_pages(audit: DynamoAuditStore, dynamodb: Any, audit_table: str) -> None:
    # Given a chain of seven events and a client whose queries return two items a page
    for n in range(7):
        audit.append(SUBJECT, "note", AT, {"n": n})
    made: list[str] = []

    def two_a_page(params: dict[str, Any], **_: Any) -> None:
        if params.get("ScanIndexForward", True):
            params["Limit"] = 2
            made.append("Query")

    dynamodb.meta.events.register("provide-client-params.dynamodb.Query", two_a_page)

    # When it is read, then every page was fetched, in order
    events = audit.events(SUBJECT)
    assert [event.data["n"] for event in events] == list(range(7))
    assert len(made) == 4
    assert audit.verify(SUBJECT) is None


def test_two_concurrent_appenders_land_in_one_unbroken_chain(
    new_client: Callable[[], Any], audit: DynamoAuditStore, audit_table: str
) -> None:
    # Given two writers, each with its own client, released together
    writers = [DynamoAuditStore(audit_table, new_client()) for _ in range(2)]
    start = threading.Barrier(2)

    def write(index: int) -> None:
        start.wait()
        for n in range(8):
            writers[index].append(SUBJECT, f"writer_{index}", AT, {"n": n})

    # When both append eight events at once
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(write, range(2)))

    # Then all sixteen are in one chain, each writer's events in its own order, and the chain verifies
    events = audit.events(SUBJECT)
    assert [event.index for event in events] == list(range(16))
    for index in range(2):
        assert [e.data["n"] for e in events if e.kind == f"writer_{index}"] == list(range(8))
    assert audit.verify(SUBJECT) is None


def test_an_appender_that_keeps_losing_the_race_gives_up_with_a_typed_error(
    dynamodb: Any, audit: DynamoAuditStore, audit_table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a chain already started, and a writer that always reads a stale (empty) head
    audit.append(SUBJECT, "first", AT, {})
    stale = DynamoAuditStore(audit_table, dynamodb)
    stale.head = lambda subject: None  # type: ignore[method-assign]
    monkeypatch.setattr(audit_store, "APPEND_ATTEMPTS", 3)  # a bounded retry, shortened for the test
    puts: list[str] = []
    dynamodb.meta.events.register("before-call.dynamodb.PutItem", lambda **_: puts.append("PutItem"))

    # When it appends, then every attempt fails the condition on seq 0, and it gives up with a typed error
    with pytest.raises(AuditContention) as refused:
        stale.append(SUBJECT, "second", AT, {})
    assert refused.value.code == "audit_contention"
    assert len(puts) == 3
    assert [event.kind for event in audit.events(SUBJECT)] == ["first"]


@pytest.mark.parametrize(
    ("attribute", "value"),
    [
        ("data", {"S": '{"amount":"999999.00"}'}),
        ("kind", {"S": "approved"}),
        ("occurred_at", {"S": "2026-03-01T09:00:00.000000Z"}),
        ("hash", {"S": "f" * 64}),
        ("data", {"S": "not json"}),
    ],
)
def test_a_changed_stored_item_is_found_by_verify(
    audit: DynamoAuditStore, dynamodb: Any, audit_table: str, attribute: str, value: dict[str, str]
) -> None:
    # Given an intact chain of three events
    for n in range(3):
        audit.append(SUBJECT, "note", AT, {"amount": "100.00", "n": n})
    assert audit.verify(SUBJECT) is None

    # When someone changes the middle item in the table
    dynamodb.update_item(
        TableName=audit_table,
        Key=key(1),
        UpdateExpression="SET #attribute = :value",
        ExpressionAttributeNames={"#attribute": attribute},
        ExpressionAttributeValues={":value": value},
    )

    # Then verify names the first link that no longer holds
    assert audit.verify(SUBJECT) == 1


def test_a_deleted_or_stripped_item_is_found_by_verify(
    audit: DynamoAuditStore, dynamodb: Any, audit_table: str
) -> None:
    for n in range(4):
        audit.append(SUBJECT, "note", AT, {"n": n})

    dynamodb.update_item(TableName=audit_table, Key=key(2), UpdateExpression="REMOVE prev_hash")
    assert audit.verify(SUBJECT) == 2

    dynamodb.delete_item(TableName=audit_table, Key=key(1))
    assert audit.verify(SUBJECT) == 1  # the event now at position 1 claims index 2
