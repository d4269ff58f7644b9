"""In-memory ports for running the workflow's steps (``lending.steps``) without AWS: one application record,
an audit trail that keeps the kinds appended, and a decryption that hands back the stored fields as they are."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from lending.origination import Status


class Applications:
    """One application record in memory, changed as the repository would change it."""

    def __init__(self, record: dict[str, Any]) -> None:
        self.record = record

    def get(self, application_id: str) -> dict[str, Any]:
        return dict(self.record)

    def move(
        self,
        application_id: str,
        target: Status,
        updates: Mapping[str, Any] | None = None,
        removes: tuple[str, ...] = (),
    ) -> dict[str, Any]:
        self.record.update(updates or {}, status=target.value)
        return dict(self.record)

    def set_fields(self, application_id: str, updates: Mapping[str, Any], only_once: str | None = None) -> bool:
        self.record.update(updates)
        return True


class Audit:
    """The kinds of event appended, in order."""

    def __init__(self) -> None:
        self.kinds: list[str] = []

    def append(self, subject: str, kind: str, occurred_at: datetime, data: Mapping[str, Any]) -> None:
        self.kinds.append(kind)


def decrypt(record_id: str, ciphertexts: Mapping[str, Any], fields: tuple[str, ...]) -> dict[str, str]:
    """The "ciphertexts" are the plain values: the steps under test never see the difference."""
    return {name: ciphertexts[name] for name in fields}
