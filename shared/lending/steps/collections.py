"""Collections: a repayment the borrower asks for in the app, the auto-debit job's attempts and reminders, and the
provider's webhook that settles each collection; and the list of a loan's repayments from every source.

Safe to retry or to run twice at once:

- A repayment's id derives from what asked for it (the loan, the borrower and their Idempotency-Key; or the loan,
  the due date and the attempt), and it is created once (a conditional write). The provider's idempotency key
  derives from the id, so asking again (a lost answer, a retried request, the job run again) is the same collection.
- An auto-debit attempt is made only when no earlier attempt for the same due date is still pending, and only while
  something is due: a payment that arrived meanwhile leaves nothing due (or less), and the loan leaves the index.
- A successful collection is applied to the loan through the same repayment path as a pushed payment
  (lending.steps.repayments), its servicing event id being the repayment id: however many notices arrive for it,
  it is applied once. Its status moves from PENDING once (a conditional write).
- A reminder is claimed before it is published and marked sent after, so a job run again sends none twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any, Protocol

from lending import clock
from lending.calendar import business_date
from lending.catalogue import Catalogue
from lending.collections import (
    Attempt,
    RepaymentSource,
    RepaymentStatus,
    app_reference,
    app_repayment_id,
    attempt_on,
    collection_key,
    due_reference,
    pushed_repayment_id,
    read_dates,
    reminders_on,
)
from lending.errors import (
    CollectionRejected,
    CollectionUnavailable,
    ExceedsPayoff,
    IdempotencyConflict,
    LoanNotFound,
)
from lending.money import Money
from lending.serviced_loan import ServicedLoan
from lending.servicing import EventKind, LoanTerms, Position, ServicingEvent, replay
from lending.steps.ports import DueLoans, LoanStore
from lending.steps.repayments import apply_repayment, park

logger = logging.getLogger(__name__)


class Repayments(Protocol):
    """Repayment records and reminders (lending.adapters.repayments.RepaymentStore)."""

    def get(self, repayment_id: str) -> dict[str, Any] | None: ...
    def create(self, record: Mapping[str, Any]) -> tuple[dict[str, Any], bool]: ...
    def update(self, repayment_id: str, fields: Mapping[str, Any], *, when_status: str) -> bool: ...
    def page(
        self, loan_id: str, limit: int, after: dict[str, str] | None
    ) -> tuple[list[dict[str, Any]], dict[str, str] | None]: ...
    def pending(self, loan_id: str) -> Money: ...
    def claim_reminder(self, reminder_id: str, message: Mapping[str, Any], now: datetime) -> bool: ...
    def reminder_sent(self, reminder_id: str) -> None: ...


class Collector(Protocol):
    """The provider's collections (lending.adapters.vendors.collections.CollectionClient): raises lending.errors'
    CollectionUnavailable (ask again with the same key) or CollectionRejected."""

    def collect(
        self,
        idempotency_key: str,
        *,
        amount: Money,
        bank_account: str,
        reference: str,
        repayment_id: str,
        loan_id: str,
        notify_url: str,
    ) -> Any: ...


#: The borrower's bound bank account for a loan (decrypted from its application's personal data).
BankAccount = Callable[[ServicedLoan], str]


def moment(at: datetime) -> str:
    """A time as repayments keep it: UTC, to the microsecond, so the index orders them as they happened."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def repayment_view(record: Mapping[str, Any]) -> dict[str, Any]:
    """A repayment as the API lists it."""
    return {
        "repayment_id": str(record["repayment_id"]),
        "loan_id": str(record["loan_id"]),
        "source": str(record["source"]),
        "amount": str(Money.of(str(record["amount"]))),
        "status": str(record["status"]),
        "failure_reason": record.get("failure_reason"),
        "requested_at": str(record["requested_at"]),
        "settled_at": record.get("settled_at"),
        "due_date": record.get("due_date"),
        "attempt": None if record.get("attempt") is None else int(record["attempt"]),
    }


def _position(loan: ServicedLoan, catalogue: Catalogue, on: date) -> Position:
    terms = LoanTerms.from_record(loan.record, catalogue)
    return replay(terms, loan.events, loan.through(loan.events, on))


def _ask(
    record: dict[str, Any],
    loan: ServicedLoan,
    *,
    repayments: Repayments,
    collector: Collector,
    bank_account: BankAccount,
    notify_url: str,
) -> dict[str, Any]:
    """Ask the provider to collect a pending repayment it has not taken yet; the record as it stands after.
    CollectionUnavailable passes through: the record stays pending, and asking again is the same collection."""
    if record["status"] != RepaymentStatus.PENDING or record.get("collection_id"):
        return record
    try:
        collection = collector.collect(
            str(record["collection_key"]),
            amount=Money.of(str(record["amount"])),
            bank_account=bank_account(loan),
            reference=str(record["reference"]),
            repayment_id=str(record["repayment_id"]),
            loan_id=str(record["loan_id"]),
            notify_url=notify_url,
        )
    except CollectionRejected as exc:
        failed = {
            "status": RepaymentStatus.FAILED.value,
            "failure_reason": exc.reason,
            "settled_at": moment(clock.now()),
        }
        repayments.update(str(record["repayment_id"]), failed, when_status=RepaymentStatus.PENDING.value)
        return {**record, **failed}
    taken = {"collection_id": str(collection.collection_id)}
    # Only while pending: a notice may already have settled it (the provider can be that fast).
    repayments.update(str(record["repayment_id"]), taken, when_status=RepaymentStatus.PENDING.value)
    return {**record, **taken}


def request_app_repayment(
    loan_id: str,
    borrower_id: str,
    amount: Money,
    idempotency_key: str,
    *,
    store: LoanStore,
    repayments: Repayments,
    collector: Collector,
    bank_account: BankAccount,
    catalogue: Catalogue,
    notify_url: str,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The borrower repays ``amount`` now from the bound account: a pending repayment, and the provider asked to
    collect it. Above today's payoff: ExceedsPayoff, nothing stored or collected."""
    now = now or clock.now()
    loan = store.load(loan_id)
    if loan.record.get("borrower_id") != borrower_id:
        raise LoanNotFound(f"no loan {loan_id}")
    repayment_id = app_repayment_id(loan_id, borrower_id, idempotency_key)
    record = repayments.get(repayment_id)
    if record is not None:
        if Money.of(str(record["amount"])) != amount:
            raise IdempotencyConflict("this Idempotency-Key was used for another repayment")
    else:
        payoff = _position(loan, catalogue, business_date(now)).payoff
        pending = repayments.pending(loan_id)  # collections asked for and not settled: already on their way
        if amount + pending > payoff:
            raise ExceedsPayoff(
                f"the amount is more than today's payoff of {payoff}"
                + (f", of which {pending} is already being collected" if pending.is_positive else "")
            )
        record, _ = repayments.create(
            {
                "repayment_id": repayment_id,
                "loan_id": loan_id,
                "source": RepaymentSource.APP.value,
                "amount": str(amount),
                "status": RepaymentStatus.PENDING.value,
                "requested_at": moment(now),
                "collection_key": collection_key(repayment_id),
                "reference": app_reference(loan_id, amount),
            }
        )
    record = _ask(
        record, loan, repayments=repayments, collector=collector, bank_account=bank_account, notify_url=notify_url
    )
    return {"repayment_id": repayment_id, "status": str(record["status"])}


def settle_collection(
    *,
    event_id: str,
    repayment_id: str,
    loan_id: str,
    amount: Money,
    paid_at: datetime,
    succeeded: bool,
    failure_reason: str | None,
    store: LoanStore,
    repayments: Repayments,
    catalogue: Catalogue,
) -> dict[str, Any]:
    """The provider's notice of a collection's outcome: a success applied to the loan once, a failure recorded
    with its reason; a notice for a repayment we never asked for is parked for a person, never applied."""
    record = repayments.get(repayment_id)
    base = {"event_id": event_id, "loan_id": loan_id, "repayment_id": repayment_id}
    if record is None or record.get("loan_id") != loan_id or record.get("source") == RepaymentSource.PROVIDER:
        logger.warning("collection notice for an unknown repayment parked", extra={"repayment_id": repayment_id})
        return _park_unmatched(event_id, loan_id, amount, paid_at, succeeded, "no such repayment", store, base)
    now = moment(clock.now())
    if not succeeded:
        failed = {
            "status": RepaymentStatus.FAILED.value,
            "failure_reason": failure_reason or "failed",
            "settled_at": now,
        }
        repayments.update(repayment_id, failed, when_status=RepaymentStatus.PENDING.value)
        return {**base, "status": "failed", "reason": failure_reason}
    if record["status"] == RepaymentStatus.FAILED:
        # Money for a collection recorded as failed: held in suspense for a person to place, never guessed; once
        # per collection, however many notices (and event ids) say it.
        logger.warning("collected after a recorded failure; parked", extra={"repayment_id": repayment_id})
        after_failure = f"{repayment_id}/after-failure"
        return _park_unmatched(after_failure, loan_id, amount, paid_at, True, "recorded as failed", store, base)
    event = ServicingEvent(repayment_id, EventKind.REPAYMENT, paid_at, amount)
    receipt = apply_repayment(event, loan_id, store=store, catalogue=catalogue)
    if receipt["status"] in ("applied", "duplicate"):
        repayments.update(
            repayment_id,
            {"status": RepaymentStatus.SUCCEEDED.value, "settled_at": now, "failure_reason": None},
            when_status=RepaymentStatus.PENDING.value,
        )
    return {**receipt, **base}


def _park_unmatched(
    event_id: str,
    loan_id: str,
    amount: Money,
    paid_at: datetime,
    succeeded: bool,
    reason: str,
    store: LoanStore,
    base: dict[str, Any],
) -> dict[str, Any]:
    """Money the provider collected for nothing we can match waits in suspense; a failure moved no money."""
    if not succeeded:
        return {**base, "status": "parked", "reason": f"{reason}; nothing was collected"}
    parked = park(ServicingEvent(event_id, EventKind.REPAYMENT, paid_at, amount), loan_id, reason, store=store)
    return {**parked, **base}


def record_pushed(
    event_id: str, loan_id: str, amount: Money, paid_at: datetime, receipt: Mapping[str, Any], *, repayments: Repayments
) -> None:
    """A payment the provider pushed, applied (now or before), listed among the loan's repayments (once)."""
    if receipt.get("status") not in ("applied", "duplicate"):
        return
    repayments.create(
        {
            "repayment_id": pushed_repayment_id(event_id),
            "loan_id": loan_id,
            "source": RepaymentSource.PROVIDER.value,
            "amount": str(amount),
            "status": RepaymentStatus.SUCCEEDED.value,
            "requested_at": moment(paid_at),
            "settled_at": moment(clock.now()),
            "event_id": event_id,
        }
    )


def list_repayments(
    loan_id: str,
    borrower_id: str,
    *,
    limit: int,
    after: dict[str, str] | None,
    loans: Callable[[str, str], Any],
    repayments: Repayments,
) -> tuple[list[dict[str, Any]], dict[str, str] | None]:
    """The borrower's loan's repayments from every source, newest first, one page after ``after``, and where the
    next starts (``loans`` answers the loan if the borrower owns it, else not found)."""
    loans(loan_id, borrower_id)
    items, following = repayments.page(loan_id, limit, after)
    return [repayment_view(item) for item in items], following


# ------------------------------------------------------------------------------------------------------ auto-debit


class DueSoon(Protocol):
    """The loans whose oldest unpaid due date is exactly ``day`` (the DueLoans index)."""

    def __call__(self, day: date) -> Iterable[str]: ...


def _unique(*sources: Iterable[str]) -> Iterator[str]:
    seen: set[str] = set()
    for source in sources:
        for loan_id in source:
            if loan_id not in seen:
                seen.add(loan_id)
                yield loan_id


def collect_attempt(
    attempt: Attempt,
    loan: ServicedLoan,
    *,
    repayments: Repayments,
    collector: Collector,
    bank_account: BankAccount,
    notify_url: str,
    now: datetime,
) -> str:
    """Make one auto-debit attempt (once, whatever reruns); what happened: ``asked``, ``already_asked``,
    ``waiting`` (an earlier attempt is not settled), ``rejected`` or ``unavailable`` (asked again on a rerun)."""
    record = repayments.get(attempt.repayment_id)
    if record is None:
        for earlier in range(attempt.attempt):
            before = repayments.get(Attempt(attempt.loan_id, attempt.due_date, earlier, attempt.amount).repayment_id)
            if before is None or before["status"] != RepaymentStatus.PENDING:
                continue
            if before.get("collection_id"):
                return "waiting"  # the provider took it and has not said how it ended
            # Never reached the provider (down all that day, or the run failed on it): ask for it again, under its
            # own key, so the provider collects it once; this day's attempt waits for it.
            try:
                _ask(
                    before,
                    loan,
                    repayments=repayments,
                    collector=collector,
                    bank_account=bank_account,
                    notify_url=notify_url,
                )
            except CollectionUnavailable:
                return "unavailable"
            return "asked_again"
        pending = repayments.pending(attempt.loan_id)  # the borrower's own repayment on its way covers its share
        if pending >= attempt.amount:
            return "covered"
        attempt = replace(attempt, amount=attempt.amount - pending)
        record, _ = repayments.create(
            {
                "repayment_id": attempt.repayment_id,
                "loan_id": attempt.loan_id,
                "source": RepaymentSource.AUTO_DEBIT.value,
                "amount": str(attempt.amount),
                "status": RepaymentStatus.PENDING.value,
                "requested_at": moment(now),
                "due_date": attempt.due_date.isoformat(),
                "attempt": attempt.attempt,
                "collection_key": collection_key(attempt.repayment_id),
                "reference": due_reference(attempt.loan_id, attempt.due_date),
            }
        )
    elif record.get("collection_id") or record["status"] != RepaymentStatus.PENDING:
        return "already_asked"
    try:
        after = _ask(
            record, loan, repayments=repayments, collector=collector, bank_account=bank_account, notify_url=notify_url
        )
    except CollectionUnavailable:
        logger.warning("collection provider unavailable; asked again on a rerun", extra={"loan_id": loan.loan_id})
        return "unavailable"
    return "rejected" if after["status"] == RepaymentStatus.FAILED else "asked"


def collection_date_for(event: Mapping[str, Any]) -> date:
    """The day a run collects for: ``collection_date`` when given, else the business day the schedule fired on
    (it fires just after the nightly close, early in the day it collects)."""
    if event.get("collection_date"):
        return date.fromisoformat(str(event["collection_date"]))
    return business_date(datetime.fromisoformat(str(event["time"]).replace("Z", "+00:00")))


def run_auto_debit(
    day: date,
    *,
    store: DueLoans,
    due_on: DueSoon,
    repayments: Repayments,
    collector: Collector,
    bank_account: BankAccount,
    catalogue: Catalogue,
    notify_url: str,
    publish: Callable[[Mapping[str, Any]], None],
    now: datetime | None = None,
) -> dict[str, Any]:
    """``day``'s auto-debit and reminders for every loan the due index lists (due or overdue on ``day``, or due in
    three days): reads proportional to the loans due, never the portfolio."""
    now = now or clock.now()
    through, ahead = read_dates(day)
    counts: dict[str, int] = {"loans_read": 0, "reminders_sent": 0}
    for loan_id in _unique(store.due(through), due_on(ahead)):
        counts["loans_read"] += 1
        try:
            outcome = _loan_day(
                loan_id,
                day,
                store=store,
                repayments=repayments,
                collector=collector,
                bank_account=bank_account,
                catalogue=catalogue,
                notify_url=notify_url,
                publish=publish,
                now=now,
            )
        except Exception as exc:  # one loan's trouble must not stop the day's run for every loan after it
            # The error's type only: a message may carry what a vendor said about the borrower.
            logger.error("auto-debit failed for a loan", extra={"loan_id": loan_id, "error": type(exc).__name__})
            outcome = {"loans_failed": 1}
        for name, count in outcome.items():
            counts[name] = counts.get(name, 0) + count
    return {"date": day.isoformat(), **counts}


def _loan_day(
    loan_id: str,
    day: date,
    *,
    store: DueLoans,
    repayments: Repayments,
    collector: Collector,
    bank_account: BankAccount,
    catalogue: Catalogue,
    notify_url: str,
    publish: Callable[[Mapping[str, Any]], None],
    now: datetime,
) -> dict[str, int]:
    """One loan's reminders and collection attempt for ``day``; what it did, counted."""
    done: dict[str, int] = {}
    loan = store.load(loan_id)
    position = _position(loan, catalogue, day)
    for reminder in reminders_on(position, day, catalogue.overdue_reminder_days):
        message = reminder.message()
        if repayments.claim_reminder(reminder.reminder_id, message, now):
            publish(message)
            repayments.reminder_sent(reminder.reminder_id)
            done["reminders_sent"] = done.get("reminders_sent", 0) + 1
    retry_days = catalogue.product(str(loan.record["product"])).collection_retry_days
    attempt = attempt_on(position, day, retry_days)
    if attempt is not None:
        outcome = collect_attempt(
            attempt,
            loan,
            repayments=repayments,
            collector=collector,
            bank_account=bank_account,
            notify_url=notify_url,
            now=now,
        )
        done[f"collections_{outcome}"] = 1
    return done
