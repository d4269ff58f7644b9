"""The loan as servicing sees it: a booked loan or line with its servicing state, as it was read.

What servicing keeps on a loan (besides what booking wrote): ``version``, bumped by every servicing write, which is
conditioned on the version it read; and the ``servicing`` state: the events applied (repayments and drawdowns:
the replay's input), the day the loan was aged through, the postings booked so far (summed per ledger account, in
fen), a line's drawdowns by id (each a record of plain values: amount, status, funding, payout), and the
projections reads and reports use. The adapters persist it (lending.adapters.servicing); nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from lending.drawdown import DrawdownStatus
from lending.ledger import Account
from lending.servicing import LoanStatus, ServicingEvent, booked_from_record


@dataclass(slots=True)
class ServicedLoan:
    """A loan record as read, with its servicing state parsed."""

    record: dict[str, Any]
    version: int
    events: list[ServicingEvent]
    aged_through: date
    booked: dict[Account, int]
    drawdowns: dict[str, dict[str, Any]] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)  # the ``servicing`` state as read

    @property
    def loan_id(self) -> str:
        return str(self.record["loan_id"])

    @property
    def chain(self) -> str:
        """The audit chain the loan's events go to: its application's, so one chain tells the whole story."""
        return str(self.record["application_id"])

    @property
    def status(self) -> LoanStatus:
        return LoanStatus(str(self.record.get("status") or LoanStatus.ACTIVE))

    @property
    def event_ids(self) -> set[str]:
        return {e.event_id for e in self.events}

    def through(self, events: list[ServicingEvent], at_least: date) -> date:
        """The day a replay with ``events`` runs through: never before the day the loan was aged or paid through."""
        return max([self.aged_through, at_least, *(e.on for e in events)])

    @classmethod
    def parse(cls, record: dict[str, Any]) -> ServicedLoan:
        state: dict[str, Any] = dict(record.get("servicing") or {})
        return cls(
            record=record,
            version=int(record.get("version", 0)),
            events=[ServicingEvent.from_record(e) for e in state.get("events") or []],
            aged_through=date.fromisoformat(str(state.get("aged_through") or record["opened_on"])),
            booked=booked_from_record(state.get("booked")),
            drawdowns={str(k): _drawdown(v) for k, v in (state.get("drawdowns") or {}).items()},
            state=state,
        )


def _drawdown(record: Mapping[str, Any]) -> dict[str, Any]:
    """A stored drawdown with its status as a :class:`DrawdownStatus` (an unknown status fails the read)."""
    return {**record, "status": DrawdownStatus(str(record["status"]))}
