"""What every servicing step shares: read the loan, replay it with the new fact (lending.servicing), write the
result in one all-or-nothing write conditioned on the version it read; a write that loses a race is redone on what
the winner left. The steps: repayments (lending.steps.repayments), drawdowns on a line (lending.steps.drawdowns)
and the daily close (lending.steps.daily_close); each says what makes it safe to retry or to run twice at once.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

from lending.catalogue import DelinquencyBucket
from lending.errors import ConcurrentChange, ServicingContention
from lending.serviced_loan import ServicedLoan
from lending.servicing import Position, ServicingEvent, bucket_rank
from lending.steps.ports import LoanStore

#: How often a servicing write is redone after losing its conditional write to a concurrent one.
ATTEMPTS = 12


def redo[T](store: LoanStore, loan_id: str, work: Callable[[ServicedLoan], T], read: ServicedLoan | None = None) -> T:
    """Run ``work`` on a fresh read of the loan until its write is not overtaken by another (the first time on
    ``read``, a read the caller just made, if it has one: a stale one only costs a retry, as the write is
    conditioned on the version it saw)."""
    for attempt in range(ATTEMPTS):
        loan, read = read or store.load(loan_id), None
        try:
            return work(loan)
        except ConcurrentChange:
            time.sleep(random.uniform(0, min(0.002 * 2**attempt, 0.2)))
    raise ServicingContention(f"loan {loan_id} kept changing; nothing was written, try again")


def warned(previous: str | None, position: Position, buckets: tuple[DelinquencyBucket, ...]) -> str | None:
    """The bucket last warned about, lowered when the loan improves (so worsening again warns again)."""
    if bucket_rank(position.bucket, buckets) < bucket_rank(previous, buckets):
        return position.bucket
    return previous


def events_record(events: list[ServicingEvent]) -> list[dict[str, Any]]:
    """The events as the loan keeps them."""
    return [e.to_record() for e in events]
