"""The daily close: age every loan due or overdue through the day: recognise what fell due, accrue penalty, bucket
it, freeze or unfreeze a line, and warn when a loan enters or worsens a bucket.

Safe to run again: the close of a day is a no-op for a loan already aged through that day, and a warning's id
derives from the loan, the day and the bucket (consumers dedupe by it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

from lending import clock
from lending.calendar import business_date
from lending.catalogue import Catalogue
from lending.serviced_loan import ServicedLoan
from lending.servicing import LoanStatus, LoanTerms, bucket_rank, difference, replay
from lending.steps.ports import DueLoans, LoanStore
from lending.steps.servicing import redo, warned


def close_date_for(event: Mapping[str, Any]) -> date:
    """The day a close run ages loans through: ``close_date`` when given, else the business day before the
    schedule fired (the close runs just after midnight, China Standard Time)."""
    if event.get("close_date"):
        return date.fromisoformat(str(event["close_date"]))
    fired = datetime.fromisoformat(str(event["time"]).replace("Z", "+00:00"))
    return business_date(fired) - timedelta(days=1)


def close_day(
    day: date, *, store: DueLoans, catalogue: Catalogue, warn: Callable[[dict[str, Any]], None]
) -> dict[str, Any]:
    """Close ``day`` for every loan the due-date index lists for it; what was read, changed and warned about."""
    read = changed = warnings = 0
    for loan_id in store.due(day):
        outcome = close_loan(loan_id, day, store=store, catalogue=catalogue, warn=warn)
        read += 1
        changed += int(outcome["changed"])
        warnings += int(outcome["warned"])
    return {"close_date": day.isoformat(), "loans_read": read, "loans_changed": changed, "warnings": warnings}


def close_loan(
    loan_id: str,
    day: date,
    *,
    store: LoanStore,
    catalogue: Catalogue,
    warn: Callable[[dict[str, Any]], None],
) -> dict[str, Any]:
    """Age one loan through ``day``; a loan already aged through ``day``, or closed, is left as it is."""

    def work(loan: ServicedLoan) -> dict[str, Any]:
        if loan.aged_through >= day or loan.status is LoanStatus.CLOSED:
            return {"loan_id": loan_id, "changed": False, "warned": False}
        terms = LoanTerms.from_record(loan.record, catalogue)
        before_rank = bucket_rank(loan.state.get("bucket"), terms.buckets)
        position = replay(terms, loan.events, day)
        transaction = difference(
            f"{loan_id}/close/{day}", "close", day, loan.booked, position.booked, f"loan {loan_id}"
        )
        last_warned = loan.state.get("warned_bucket")
        warning = None
        if bucket_rank(position.bucket, terms.buckets) > bucket_rank(last_warned, terms.buckets):
            warning = {
                "warning_id": f"{loan_id}/{day}/{position.bucket}",
                "loan_id": loan_id,
                "as_of": day.isoformat(),
                "bucket": position.bucket,
                "days_past_due": position.days_past_due,
                "principal_outstanding": str(position.principal_outstanding),
                "frozen": position.frozen,
            }
            last_warned = position.bucket
        else:
            last_warned = warned(last_warned, position, terms.buckets)
        changed = (
            transaction is not None
            or bucket_rank(position.bucket, terms.buckets) != before_rank
            or position.frozen != bool(loan.state.get("frozen"))
        )
        if warning is not None:
            # Before the write: an alert may repeat after a crash (same warning_id) but is never lost.
            warn(warning)
        store.save(
            loan,
            changes={"aged_through": day.isoformat(), "warned_bucket": last_warned},
            position=position,
            transaction=transaction,
            audit=None
            if not changed
            else (
                "day_closed",
                clock.now(),
                {
                    "day": day.isoformat(),
                    "days_past_due": position.days_past_due,
                    "bucket": position.bucket,
                    "penalty_accrued": str(position.penalty_accrued),
                    "frozen": position.frozen,
                },
            ),
        )
        return {"loan_id": loan_id, "changed": changed, "warned": warning is not None}

    return redo(store, loan_id, work)
