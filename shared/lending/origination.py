"""An application's life: the statuses the API shows, and which status may follow which.

Every step of the workflow moves an application forward with a conditional write that names the statuses it may
come from (``ALLOWED_FROM``), so a retried or replayed step can never move an application backwards or past a
terminal outcome. Arriving again at the status it already has is a no-op, which makes every step safe to retry.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """Application statuses, as ``GET /v1/applications/{id}`` shows them."""

    RECEIVED = "RECEIVED"
    VERIFYING_IDENTITY = "VERIFYING_IDENTITY"
    ASSESSING = "ASSESSING"
    UNDER_REVIEW = "UNDER_REVIEW"
    APPROVED = "APPROVED"
    DISBURSING = "DISBURSING"
    DISBURSED = "DISBURSED"
    LINE_OPENED = "LINE_OPENED"
    DECLINED = "DECLINED"
    EXPIRED = "EXPIRED"
    FAILED = "FAILED"


TERMINAL: frozenset[Status] = frozenset(
    {Status.DISBURSED, Status.LINE_OPENED, Status.DECLINED, Status.EXPIRED, Status.FAILED}
)
_OPEN = frozenset(Status) - TERMINAL

#: For each status, the statuses an application may move to it from.
ALLOWED_FROM: dict[Status, frozenset[Status]] = {
    Status.RECEIVED: frozenset(),
    Status.VERIFYING_IDENTITY: frozenset({Status.RECEIVED}),
    Status.ASSESSING: frozenset({Status.VERIFYING_IDENTITY}),
    Status.UNDER_REVIEW: frozenset({Status.ASSESSING}),
    Status.APPROVED: frozenset({Status.ASSESSING, Status.UNDER_REVIEW}),
    Status.DISBURSING: frozenset({Status.APPROVED}),
    Status.DISBURSED: frozenset({Status.DISBURSING}),
    Status.LINE_OPENED: frozenset({Status.APPROVED}),
    Status.DECLINED: frozenset({Status.VERIFYING_IDENTITY, Status.ASSESSING, Status.UNDER_REVIEW, Status.APPROVED}),
    Status.EXPIRED: frozenset({Status.RECEIVED, Status.VERIFYING_IDENTITY, Status.UNDER_REVIEW, Status.APPROVED}),
    Status.FAILED: _OPEN,
}


def may_move(current: Status, target: Status) -> bool:
    """True when ``current`` may become ``target`` (staying put counts: retries are no-ops)."""
    return current == target or current in ALLOWED_FROM[target]
