"""Repayments: a signed notice from the payment provider, applied to its loan exactly once, or parked in suspense.

Safe to retry or to run twice at once: a repayment's ``event_id`` is in the loan's events once it is applied, and
its ledger transaction id derives from it, so a second copy finds it there (or loses the conditional write and then
finds it); a payment parked in suspense is parked under the same ledger id, once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from lending import bookkeeping, clock
from lending.catalogue import Catalogue
from lending.errors import LoanNotFound, PaidAtInFuture, TransactionConflict, UnplaceablePayment
from lending.ledger import Account, AccountCode, Transaction
from lending.serviced_loan import ServicedLoan
from lending.servicing import EventKind, LoanTerms, ServicingEvent, difference, replay
from lending.steps.ports import LoanStore
from lending.steps.servicing import events_record, redo, warned

#: Where payments that cannot be placed wait for a person (a credit-normal account: money we hold, not yet placed).
SUSPENSE = Account(AccountCode.SUSPENSE, "payments")
#: Clock skew between the provider and us that a notice's paid_at may show.
FUTURE_TOLERANCE = timedelta(minutes=5)


def payment_id(event_id: str) -> str:
    """The ledger id of a payment event: the same whether it is applied to a loan or parked, so it is in the books
    once whichever way it went first."""
    return f"payment/{event_id}"


def check_not_future(paid_at: datetime, now: datetime | None = None) -> None:
    """Refuse a notice dated after now (beyond the clock skew the provider may show), before anything is read:
    applied, it would age the loan to that day (penalty, buckets, a frozen line) for money not yet arrived."""
    if paid_at > (now or clock.now()) + FUTURE_TOLERANCE:
        raise PaidAtInFuture(
            f"paid_at is more than {int(FUTURE_TOLERANCE.total_seconds())} s after the platform's clock"
        )


def apply_repayment(event: ServicingEvent, loan_id: str, *, store: LoanStore, catalogue: Catalogue) -> dict[str, Any]:
    """Apply a repayment exactly once; a payment that cannot be placed is parked in suspense, never lost."""
    if event.kind is not EventKind.REPAYMENT:
        raise ValueError("only repayments arrive by webhook")

    def work(loan: ServicedLoan) -> dict[str, Any]:
        if event.event_id in loan.event_ids:
            return {"event_id": event.event_id, "loan_id": loan_id, "status": "duplicate"}
        terms = LoanTerms.from_record(loan.record, catalogue)
        if event.on < terms.opened_on:
            return park(event, loan_id, f"paid on {event.on}, before the loan opened", store=store)
        events = [*loan.events, event]
        changes: dict[str, Any] = {}
        if reinstated(terms, loan.state, events, event):
            # Paid in time after all: the close would not have written it off, so it never was.
            terms = replace(terms, written_off_on=None)
            changes["written_off"] = None
        position = replay(terms, events, loan.through(events, event.on))
        transaction = difference(
            payment_id(event.event_id), "repayment", event.on, loan.booked, position.booked, f"loan {loan_id}"
        )
        store.save(
            loan,
            changes={
                **changes,
                "events": events_record(events),
                "aged_through": position.as_of.isoformat(),
                "warned_bucket": warned(loan.state.get("warned_bucket"), position, terms.buckets),
            },
            position=position,
            transaction=transaction,
            audit=(
                "repayment_applied",
                event.at,
                {
                    "event_id": event.event_id,
                    "amount": str(event.amount),
                    "paid_on": event.on.isoformat(),
                    "principal_outstanding": str(position.principal_outstanding),
                    "credit_balance": str(position.credit_balance),
                    "status": position.status.value,
                },
            ),
        )
        return {
            "event_id": event.event_id,
            "loan_id": loan_id,
            "status": "applied",
            "loan_status": position.status.value,
        }

    try:
        return redo(store, loan_id, work)
    except UnplaceablePayment as exc:
        return park(event, loan_id, exc.message, store=store)
    except TransactionConflict:
        # The payment's ledger id is taken by other content: it was parked before (the loan did not exist, or it
        # was dated before the loan opened). It stays parked; a person moves it, once.
        parked = store.ledger.transaction(payment_id(event.event_id))
        if parked is None or parked.kind != "suspense":
            raise
        return {"event_id": event.event_id, "loan_id": loan_id, "status": "parked", "reason": "parked before"}
    except LoanNotFound:
        return park(event, loan_id, "no such loan", store=store)


def park(event: ServicingEvent, loan_id: str, reason: str, *, store: LoanStore) -> dict[str, Any]:
    """Hold a payment we cannot place in suspense (cash in, owed to someone): once per event id."""
    transaction = Transaction.transfer(
        payment_id(event.event_id),
        "suspense",
        event.on,
        bookkeeping.SETTLEMENT_CASH,
        SUSPENSE,
        event.amount,
        memo=f"payment {event.event_id} for {loan_id}",  # the same parked payment is the same transaction
    )
    try:
        store.ledger.record(transaction)
    except TransactionConflict:
        return {"event_id": event.event_id, "loan_id": loan_id, "status": "duplicate", "reason": "applied before"}
    return {"event_id": event.event_id, "loan_id": loan_id, "status": "parked", "reason": reason}


def reinstated(terms: LoanTerms, state: Mapping[str, Any], events: list[ServicingEvent], event: ServicingEvent) -> bool:
    """Does a late payment, dated on or before the day the daily close wrote the loan off, take the loan back below
    its product's threshold that day? (A write-off by hand stands: a person decided it.)"""
    written = state.get("written_off") or {}
    day = terms.written_off_on
    if day is None or written.get("by") != "daily_close" or event.on > day or terms.write_off_days is None:
        return False
    then = replay(replace(terms, written_off_on=None), [e for e in events if e.on <= day], day)
    return then.days_past_due < terms.write_off_days
