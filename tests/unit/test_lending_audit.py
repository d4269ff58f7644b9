"""The audit chain: every event hashes the one before, and verify names the first broken link."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from itertools import pairwise
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lending.audit import GENESIS_HASH, AuditChain, AuditEvent, canonical_json, next_event, to_json_value, verify

MOMENT = datetime(2026, 1, 15, 8, 0, tzinfo=UTC)

# Strings without control characters: JSON escapes those as \u00XX, and the case of the hex digits is not content
# (a change from \u001f to \u001F is the same string), so a byte change there would be no change to the event.
TEXT = st.text(st.characters(exclude_categories=("Cs", "Cc")), max_size=12)
# Integers below 10^4 in magnitude: one byte can turn a longer one into 1e400, an infinite float, which verify
# cannot hash; that case has its own test below.
SMALL_INTS = st.integers(min_value=-9999, max_value=9999)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | SMALL_INTS | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=5,
)
DATA = st.dictionaries(TEXT, JSON_VALUES, max_size=3)


@st.composite
def _chains(draw: st.DrawFn, min_size: int = 1) -> AuditChain:
    chain = AuditChain()
    count = draw(st.integers(min_value=min_size, max_value=5))
    for k in range(count):
        chain.append(
            draw(st.sampled_from(["APP-1", "L-1", "L-2"])),
            draw(st.sampled_from(["application_received", "offer_made", "disbursed", "repayment"])),
            MOMENT + timedelta(minutes=k),
            draw(DATA),
        )
    return chain


@settings(max_examples=50)
@given(chain=_chains())
def test_a_chain_of_events_verifies(chain: AuditChain) -> None:
    # Given a chain of N events appended one after another
    events = chain.events
    # Then it verifies, each event's index is its position, and each links to the one before
    assert chain.verify() is None
    assert verify(events) is None
    assert [e.index for e in events] == list(range(len(events)))
    assert events[0].prev_hash == GENESIS_HASH
    assert all(later.prev_hash == earlier.hash for earlier, later in pairwise(events))


def test_an_empty_chain_verifies() -> None:
    assert verify([]) is None


def test_the_hash_is_sha256_of_the_previous_hash_and_the_canonical_body() -> None:
    # Given the first event of a chain
    event = AuditChain().append("L-1", "disbursed", MOMENT, {"amount": Decimal("120000.00"), "method": "equal"})

    # When its hash is worked out independently: SHA-256 over the 64 zeros and the body as sorted, compact UTF-8 JSON
    body = {
        "data": {"amount": "120000.00", "method": "equal"},
        "index": 0,
        "kind": "disbursed",
        "occurred_at": "2026-01-15T08:00:00.000000Z",
        "prev_hash": "0" * 64,
        "subject": "L-1",
    }
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    expected = hashlib.sha256(("0" * 64).encode() + canonical).hexdigest()

    # Then it is the event's hash, and the Decimal was stored as its string
    assert event.hash == expected
    assert canonical_json(event.body()) == canonical
    assert event.data == {"amount": "120000.00", "method": "equal"}


@settings(max_examples=150, deadline=None)
@given(chain=_chains(), data=st.data())
def test_any_single_byte_change_to_a_serialised_event_is_detected(chain: AuditChain, data: st.DataObject) -> None:
    # Given a chain, one of its events, and that event serialised as stored: its canonical JSON (sorted keys, no
    # insignificant whitespace, UTF-8). With json.dumps' default ", " and ": " separators a space could become a tab
    # or newline and leave the very same event, so the whitespace-free form is the one every byte of which matters.
    events = list(chain.events)
    position = data.draw(st.integers(0, len(events) - 1), label="position")
    line = canonical_json(events[position].to_json())

    # When any one byte of it is replaced with a different byte
    offset = data.draw(st.integers(0, len(line) - 1), label="offset")
    replacement = data.draw(st.integers(0, 255).filter(lambda b: b != line[offset]), label="replacement")
    tampered = line[:offset] + bytes([replacement]) + line[offset + 1 :]

    # Then either the line no longer loads as an event...
    try:
        event = AuditEvent.from_json(json.loads(tampered.decode("utf-8")))
    except ValueError:  # UnicodeDecodeError, json.JSONDecodeError and from_json's own errors are all ValueErrors
        return
    # ...or verify names exactly that event
    events[position] = event
    assert verify(events) == position


def test_verify_names_an_event_tampered_into_an_out_of_range_number() -> None:
    # Given an event whose data holds 10400, stored as canonical JSON
    chain = AuditChain()
    chain.append("L-1", "repayment", MOMENT, {"amount_fen": 10400})
    line = canonical_json(chain.events[0].to_json())

    # When one byte is changed, '0' → 'e', so that 10400 reads as 1e400 (an infinite float once loaded)
    tampered = line.replace(b'"amount_fen":10400', b'"amount_fen":1e400')
    assert len(tampered) == len(line)
    assert sum(a != b for a, b in zip(line, tampered, strict=True)) == 1
    event = AuditEvent.from_json(json.loads(tampered))

    # Then verify reports the broken link at index 0
    # (regression: verify once re-hashed such a body unguarded and raised "ValueError: Out of range float values are
    # not JSON compliant: inf" instead of returning 0)
    assert verify([event]) == 0


@pytest.mark.parametrize("field", ["subject", "kind", "occurred_at", "data", "prev_hash", "hash", "index"])
def test_changing_any_field_of_a_middle_event_breaks_the_chain_there(field: str) -> None:
    # Given a chain of five events
    chain = AuditChain()
    for k in range(5):
        chain.append("L-1", "repayment", MOMENT + timedelta(days=k), {"number": k})
    events = list(chain.events)

    # When one field of the third event is changed
    replacement: dict[str, Any] = {
        "subject": "L-2",
        "kind": "write_off",
        "occurred_at": "2026-01-18T08:00:00.000001Z",
        "data": {"number": 99},
        "prev_hash": "f" * 64,
        "hash": "0" * 64,
        "index": 3,
    }
    events[2] = dataclasses.replace(events[2], **{field: replacement[field]})

    # Then verify names index 2
    assert verify(events) == 2


def test_removing_or_reordering_events_is_detected() -> None:
    chain = AuditChain()
    for k in range(4):
        chain.append("L-1", "repayment", MOMENT, {"number": k})
    events = list(chain.events)
    assert verify(events[:1] + events[2:]) == 1
    assert verify([events[1], events[0], *events[2:]]) == 0
    assert verify(events[1:]) == 0


def test_a_chain_can_be_restored_from_stored_events_and_continued() -> None:
    # Given a chain whose events were stored as JSON and read back
    chain = AuditChain()
    chain.append("L-1", "offer_made", MOMENT, {"apr": Decimal("0.1200")})
    stored = [json.dumps(e.to_json()) for e in chain.events]
    restored = AuditChain([AuditEvent.from_json(json.loads(line)) for line in stored])
    # When it is continued
    restored.append("L-1", "disbursed", MOMENT + timedelta(hours=1), {"amount": "120000.00"})
    # Then it still verifies
    assert restored.verify() is None
    assert restored.events[0] == chain.events[0]


@pytest.mark.parametrize(
    "data",
    [{"amount": 1.5}, {"nested": {"rate": 0.12}}, {"list": [1, 2.0]}, {"nan": float("nan")}],
    ids=["top-level", "nested", "in-a-list", "nan"],
)
def test_floats_in_audit_data_are_refused(data: dict[str, Any]) -> None:
    with pytest.raises(TypeError, match="floats"):
        AuditChain().append("L-1", "repayment", MOMENT, data)


def test_other_values_that_are_not_json_are_refused() -> None:
    with pytest.raises(TypeError, match="cannot hold"):
        to_json_value({"when": MOMENT})


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        AuditChain().append("L-1", "repayment", datetime(2026, 1, 15, 8, 0), {})  # noqa: DTZ001


def test_times_are_recorded_in_utc_whatever_zone_they_come_in() -> None:
    # Given 16:00 in Beijing (UTC+8)
    beijing = datetime(2026, 1, 15, 16, 0, tzinfo=timezone(timedelta(hours=8)))
    # When an event is made at that moment
    event = next_event(None, "L-1", "disbursed", beijing, {})
    # Then it is recorded as 08:00 UTC
    assert event.occurred_at == "2026-01-15T08:00:00.000000Z"


@pytest.mark.parametrize(
    "change",
    [
        lambda raw: raw.pop("hash"),
        lambda raw: raw.update(index="0"),
        lambda raw: raw.update(index=True),
        lambda raw: raw.update(data=[]),
        lambda raw: raw.update(extra=1),
    ],
    ids=["missing-field", "index-as-text", "index-as-bool", "data-as-list", "extra-field"],
)
def test_an_event_with_a_missing_or_mistyped_field_does_not_load(change: Any) -> None:
    raw = AuditChain().append("L-1", "repayment", MOMENT, {}).to_json()
    change(raw)
    with pytest.raises(ValueError, match="audit event"):
        AuditEvent.from_json(raw)
