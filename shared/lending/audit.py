"""A tamper-evident audit trail: append-only events, each hashing the one before.

``hash = SHA-256(prev_hash + canonical JSON of the event's body)``, where the body is every field but ``hash``, and
canonical JSON is UTF-8 with sorted keys, no insignificant whitespace and no floats. The first event's
``prev_hash`` is 64 zeros. :func:`verify` recomputes every link and names the first one that does not hold.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol

GENESIS_HASH = "0" * 64

JsonValue = None | bool | int | str | list["JsonValue"] | dict[str, "JsonValue"]


def to_json_value(value: Any) -> JsonValue:
    """Plain JSON values for audit data: Decimals become strings; floats are refused (they do not round-trip)."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value  # type: ignore[no-any-return]
    if kind is float:
        raise TypeError("audit data must not hold floats: use decimal strings")
    if isinstance(value, Mapping):
        return {str(k): to_json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json_value(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, str | int):  # StrEnum, IntEnum
        return value
    raise TypeError(f"audit data cannot hold {kind.__name__}")


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def canonical_json(value: Mapping[str, Any]) -> bytes:
    """Sorted keys, compact separators, UTF-8: the same JSON value always gives the same bytes."""
    return _CANONICAL.encode(value).encode()


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One link of the chain."""

    index: int
    subject: str  # what the event is about: an application or a loan id
    kind: str
    occurred_at: str  # RFC 3339 UTC
    data: Mapping[str, JsonValue]
    prev_hash: str
    hash: str

    def body(self) -> dict[str, Any]:
        """Everything the hash covers."""
        return {
            "index": self.index,
            "subject": self.subject,
            "kind": self.kind,
            "occurred_at": self.occurred_at,
            "data": self.data,
            "prev_hash": self.prev_hash,
        }

    def to_json(self) -> dict[str, Any]:
        return {**self.body(), "hash": self.hash}

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> AuditEvent:
        """Read an event back; a missing or mistyped field is a ValueError."""
        expected = {
            "index": int,
            "subject": str,
            "kind": str,
            "occurred_at": str,
            "prev_hash": str,
            "hash": str,
        }
        for name, kind in expected.items():
            if type(raw.get(name)) is not kind:
                raise ValueError(f"audit event field {name!r} is missing or not a {kind.__name__}")
        if not isinstance(raw.get("data"), dict) or set(raw) != {*expected, "data"}:
            raise ValueError("audit event has unexpected or missing fields")
        return cls(
            raw["index"],
            raw["subject"],
            raw["kind"],
            raw["occurred_at"],
            raw["data"],
            raw["prev_hash"],
            raw["hash"],
        )


def link_hash(body: Mapping[str, Any]) -> str:
    """SHA-256 over the previous hash and the canonical body."""
    return hashlib.sha256(str(body["prev_hash"]).encode() + canonical_json(body)).hexdigest()


class ChainLink(Protocol):
    """What the next event needs of the one before it (an AuditEvent, or a remembered head)."""

    @property
    def index(self) -> int: ...
    @property
    def hash(self) -> str: ...


@dataclass(frozen=True, slots=True)
class ChainHead:
    """The last link of a chain as a writer remembers it."""

    index: int
    hash: str


def next_event(
    previous: ChainLink | None, subject: str, kind: str, occurred_at: datetime, data: Mapping[str, Any]
) -> AuditEvent:
    """The event that follows ``previous`` (or starts a chain)."""
    if occurred_at.tzinfo is None:
        raise ValueError("audit times must be timezone-aware")
    body: dict[str, Any] = {
        "index": 0 if previous is None else previous.index + 1,
        "subject": subject,
        "kind": kind,
        "occurred_at": rfc3339_utc(occurred_at),
        "data": to_json_value(data),
        "prev_hash": GENESIS_HASH if previous is None else previous.hash,
    }
    return AuditEvent(**body, hash=link_hash(body))


def rfc3339_utc(moment: datetime) -> str:
    """An aware time as RFC 3339 in UTC with microseconds: ``2026-01-15T08:00:00.000000Z``."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


class AuditChain:
    """An append-only chain in memory; a repository stores the same events."""

    def __init__(self, events: Sequence[AuditEvent] = ()) -> None:
        self._events = list(events)

    def append(self, subject: str, kind: str, occurred_at: datetime, data: Mapping[str, Any]) -> AuditEvent:
        event = next_event(self._events[-1] if self._events else None, subject, kind, occurred_at, data)
        self._events.append(event)
        return event

    @property
    def events(self) -> tuple[AuditEvent, ...]:
        return tuple(self._events)

    def verify(self) -> int | None:
        return verify(self._events)


def verify(events: Sequence[AuditEvent]) -> int | None:
    """The index (position) of the first event whose link does not hold, or None when the chain is intact."""
    prev_hash = GENESIS_HASH
    for position, event in enumerate(events):
        if event.index != position or event.prev_hash != prev_hash:
            return position
        try:
            recomputed = link_hash(event.body())
        except (TypeError, ValueError):  # a body no writer could have produced (an infinite number, say)
            return position
        if recomputed != event.hash:
            return position
        prev_hash = event.hash
    return None
