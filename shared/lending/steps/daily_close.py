"""The daily close: age every loan due or overdue through the day: recognise what fell due, accrue penalty, bucket
it, freeze or unfreeze a line, warn when a loan enters or worsens a bucket, grade it in the five categories (the
allowance its grade implies is booked with the day's other postings), and write it off at its product's threshold
of days past due.

Safe to run again: the close of a day is a no-op for a loan already closed through that day, and the id of a warning
or an announcement derives from the loan, the day and what it says (consumers dedupe by it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

from lending import clock
from lending.calendar import business_date
from lending.catalogue import Catalogue, LoanClass
from lending.classification import Restructure, classify, observation_ends
from lending.portfolio import build_snapshot
from lending.serviced_loan import ServicedLoan
from lending.servicing import LoanStatus, LoanTerms, Position, bucket_rank, difference, replay
from lending.steps.ports import DueLoans, LoanStore, PortfolioFigures
from lending.steps.servicing import redo, warned


def close_date_for(event: Mapping[str, Any]) -> date:
    """The day a close run ages loans through: ``close_date`` when given, else the business day before the
    schedule fired (the close runs just after midnight, China Standard Time)."""
    if event.get("close_date"):
        return date.fromisoformat(str(event["close_date"]))
    fired = datetime.fromisoformat(str(event["time"]).replace("Z", "+00:00"))
    return business_date(fired) - timedelta(days=1)


#: Says something happened to a loan: (detail type, detail with its ``event_id``), for the event bus.
Announce = Callable[[str, dict[str, Any]], None]


def _silent(detail_type: str, detail: dict[str, Any]) -> None:
    return None


def close_day(
    day: date,
    *,
    store: DueLoans,
    catalogue: Catalogue,
    warn: Callable[[dict[str, Any]], None],
    announce: Announce = _silent,
) -> dict[str, Any]:
    """Close ``day`` for every loan the due-date index lists for it; what was read, changed, warned about,
    graded anew and written off."""
    read = changed = warnings = classified = written_off = 0
    for loan_id in store.due(day):
        outcome = close_loan(loan_id, day, store=store, catalogue=catalogue, warn=warn, announce=announce)
        read += 1
        changed += int(outcome["changed"])
        warnings += int(outcome["warned"])
        classified += int(outcome.get("classified", False))
        written_off += int(outcome.get("written_off", False))
    return {
        "close_date": day.isoformat(),
        "loans_read": read,
        "loans_changed": changed,
        "warnings": warnings,
        "classified": classified,
        "written_off": written_off,
    }


def grade(position: Position, day: date, terms: LoanTerms, state: Mapping[str, Any]) -> LoanClass:
    """The loan's grade on ``day`` from its replayed position, the grade it had and its restructures."""
    return classify(
        position.days_past_due, day, terms.rules, previous=terms.classification, restructures=restructures(state)
    )


def restructures(state: Mapping[str, Any]) -> list[Restructure]:
    """The loan's restructures (hardship relief), as classification reads them."""
    return [
        Restructure(date.fromisoformat(str(r["on"])), LoanClass(str(r.get("class_before") or LoanClass.NORMAL)))
        for r in state.get("restructures") or []
    ]


def close_loan(
    loan_id: str,
    day: date,
    *,
    store: LoanStore,
    catalogue: Catalogue,
    warn: Callable[[dict[str, Any]], None],
    announce: Announce = _silent,
) -> dict[str, Any]:
    """Age one loan through ``day``; a loan already aged through ``day``, closed or written off is left as it is."""

    def work(loan: ServicedLoan) -> dict[str, Any]:
        # Its own mark: a payment ages the loan to the payment's day, but only the close grades it and writes it off.
        closed = loan.state.get("closed_through")
        if (closed is not None and date.fromisoformat(str(closed)) >= day) or loan.status in (
            LoanStatus.CLOSED,
            LoanStatus.WRITTEN_OFF,
        ):
            return {"loan_id": loan_id, "changed": False, "warned": False}
        terms = LoanTerms.from_record(loan.record, catalogue)
        before_rank = bucket_rank(loan.state.get("bucket"), terms.buckets)
        through = loan.through(loan.events, day)  # a payment dated after the day may have aged it further
        position = replay(terms, loan.events, through)
        # The grade and the write-off follow from what the replay says of the day; either changes the books (the
        # allowance, the receivables), so the day is replayed again with them before anything is posted.
        restructured = restructures(loan.state)
        graded = grade(position, day, terms, loan.state)
        write_off = (
            position.status is LoanStatus.ACTIVE
            and terms.write_off_days is not None
            and position.days_past_due >= terms.write_off_days
        )
        previous_grade = terms.classification
        if graded is not previous_grade or write_off:
            terms = replace(terms, classification=graded, written_off_on=day if write_off else terms.written_off_on)
            position = replay(terms, loan.events, through)
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
            or graded is not previous_grade
        )
        if warning is not None:
            # Before the write: an alert may repeat after a crash (same warning_id) but is never lost.
            warn(warning)
        facts: dict[str, Any] = {
            "day": day.isoformat(),
            "days_past_due": position.days_past_due,
            "bucket": position.bucket,
            "penalty_accrued": str(position.penalty_accrued),
            "frozen": position.frozen,
            "classification": graded.value,
            "provision": str(position.provision),
        }
        changes: dict[str, Any] = {
            "aged_through": through.isoformat(),
            "closed_through": day.isoformat(),
            "warned_bucket": last_warned,
        }
        kind = "day_closed"
        # Announced once the write has landed (a redo after a race may decide otherwise): after a crash between
        # the two, the event is lost rather than false; the audit chain has it either way.
        announcements: list[tuple[str, dict[str, Any]]] = []
        if graded is not previous_grade:
            kind = "classified"
            facts["classification_before"] = previous_grade.value
            changes["classification"] = graded.value
            changes["classified_on"] = day.isoformat()
            announcements.append(
                ("LoanClassified", {"event_id": f"{loan_id}/{day}/classified", "loan_id": loan_id, **facts})
            )
        if restructured:
            latest = max(restructured, key=lambda r: r.on)
            changes["observation_ends"] = observation_ends(latest, terms.rules).isoformat()
        if write_off:
            kind = "written_off"
            facts["written_off"] = str(position.written_off)
            changes["written_off"] = {"on": day.isoformat(), "reason": "days_past_due", "by": "daily_close"}
            changes["write_off_request"] = None  # a write-off by hand waiting for confirmation has nothing left to do
            announcements.append(
                ("LoanWrittenOff", {"event_id": f"{loan_id}/{day}/written_off", "loan_id": loan_id, **facts})
            )
        store.save(
            loan,
            changes=changes,
            position=position,
            transaction=transaction,
            audit=None if not changed else (kind, clock.now(), facts),
        )
        return {
            "loan_id": loan_id,
            "changed": changed,
            "warned": warning is not None,
            "classified": graded is not previous_grade,
            "written_off": write_off,
            "announcements": announcements,
        }

    outcome = redo(store, loan_id, work)
    for detail_type, detail in outcome.pop("announcements", []):
        announce(detail_type, detail)
    return outcome


def snapshot_day(day: date, *, portfolio: PortfolioFigures, catalogue: Catalogue) -> dict[str, Any]:
    """Keep the day's portfolio snapshot: the cells as the day's writes left them, the month's rolls, and what the
    day before's snapshot carries (the curves, the month's starting counts). A rerun replaces it."""
    snapshot = build_snapshot(
        day,
        portfolio.cells(),
        portfolio.rolls(day.isoformat()[:7]),
        portfolio.previous(day),
        catalogue.delinquency_buckets,
    )
    portfolio.save_snapshot(snapshot)
    return snapshot
