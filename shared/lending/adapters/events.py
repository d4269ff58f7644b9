"""The lending event bus: events put ten to a PutEvents call (the most one call takes), every one accepted or an
error naming what was refused (consumers dedupe by the id each detail carries)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from lending.errors import LendingError

#: The most entries one PutEvents call takes.
PUT_EVENTS_LIMIT = 10


def put_events(event_bus_name: str, source: str, events: Sequence[tuple[str, Mapping[str, Any]]], what: str) -> None:
    """Put ``events`` (detail type, detail) from ``source``; ``what`` names them in the error if any is refused."""
    from lending.adapters.aws import client

    for start in range(0, len(events), PUT_EVENTS_LIMIT):
        entries = [
            {"EventBusName": event_bus_name, "Source": source, "DetailType": kind, "Detail": json.dumps(dict(detail))}
            for kind, detail in events[start : start + PUT_EVENTS_LIMIT]
        ]
        response = client("events").put_events(Entries=entries)
        if response.get("FailedEntryCount"):
            raise LendingError(f"the event bus did not accept {response['FailedEntryCount']} event(s): {what}")
