"""The servicing steps: repayments, drawdowns on a line (request, funding, payout, booking, release), and the
daily close. Each reads the loan, replays it with the new fact (lending.servicing) and writes the result in one
all-or-nothing write conditioned on the version it read; a write that loses a race is redone on the new state.

Why each is safe to retry or to run twice at once:
- a repayment's ``event_id`` is in the loan's events once it is applied, and its ledger transaction id derives from
  it, so a second copy finds it there (or loses the conditional write and then finds it);
- a drawdown's id derives from the loan and the client's Idempotency-Key; funding, payout key and ledger ids derive
  from the drawdown id, as in origination;
- the close of a day is a no-op for a loan already aged through that day.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from lending import bookkeeping, clock
from lending.calendar import add_months, business_date
from lending.catalogue import Catalogue
from lending.credit_line import DrawdownRefused
from lending.errors import LendingError, TransactionConflict
from lending.ledger import Account, AccountCode, Transaction
from lending.money import Money
from lending.servicing import (
    EventKind,
    LoanTerms,
    Position,
    ServicingEvent,
    UnplaceablePayment,
    bucket_rank,
    difference,
    replay,
)
from lending.steps.money import PayoutRejected, Payouts, PayoutUnavailable
from lending.steps.ports import Decrypt

#: How often a servicing write is redone after losing its conditional write to a concurrent one.
ATTEMPTS = 12
#: Where payments that cannot be placed wait for a person (a credit-normal account: money we hold, not yet placed).
SUSPENSE = Account(AccountCode.SUSPENSE, "payments")
#: Drawdown states in which the amount counts against the line's available limit.
HOLDING = frozenset({"requested", "funded", "paid"})


class LoanNotFound(LendingError):
    """No such loan, or not the caller's."""

    code = "not_found"


class IdempotencyConflict(LendingError):
    """An Idempotency-Key used before with another body."""

    code = "idempotency_conflict"


class ServicingContention(LendingError):
    """The loan kept changing under this write; nothing was written and the request may be retried."""

    code = "servicing_contention"


class LedgerPort(Protocol):
    def record(self, transaction: Transaction, bounds: Any = None) -> bool: ...
    def reserve(self, transaction: Transaction, bounds: Any = None) -> bool: ...
    def post_pending(self, pending_id: str, post_id: str) -> bool: ...
    def void_pending(self, pending_id: str, void_id: str) -> bool: ...
    def transaction(self, transaction_id: str) -> Transaction | None: ...


class Store(Protocol):
    """lending.adapters.servicing.LoanServicingStore."""

    @property
    def ledger(self) -> LedgerPort: ...
    def load(self, loan_id: str) -> Any: ...
    def save(
        self,
        loan: Any,
        *,
        changes: Mapping[str, Any],
        position: Position | None,
        transaction: Transaction | None,
        audit: tuple[str, datetime, Mapping[str, Any]] | None,
    ) -> None: ...


def _redo[T](store: Store, loan_id: str, work: Callable[[Any], T], conflict: type[Exception]) -> T:
    """Run ``work`` on a fresh read of the loan until its write is not overtaken by another."""
    for attempt in range(ATTEMPTS):
        try:
            return work(store.load(loan_id))
        except conflict:
            time.sleep(random.uniform(0, min(0.002 * 2**attempt, 0.2)))
    raise ServicingContention(f"loan {loan_id} kept changing; nothing was written, try again")


def _warned(previous: str | None, position: Position, terms: LoanTerms) -> str | None:
    """The bucket last warned about, lowered when the loan improves (so worsening again warns again)."""
    if bucket_rank(position.bucket, terms.buckets) < bucket_rank(previous, terms.buckets):
        return position.bucket
    return previous


def _events_record(events: list[ServicingEvent]) -> list[dict[str, Any]]:
    return [e.to_record() for e in events]


def _through(loan: Any, events: list[ServicingEvent], at_least: date) -> date:
    aged_through: date = loan.aged_through
    return max([aged_through, at_least, *(e.on for e in events)])


# Repayments


def apply_repayment(
    event: ServicingEvent, loan_id: str, *, store: Store, catalogue: Catalogue, conflict: type[Exception]
) -> dict[str, Any]:
    """Apply a repayment exactly once; a payment that cannot be placed is parked in suspense, never lost."""
    if event.kind is not EventKind.REPAYMENT:
        raise ValueError("only repayments arrive by webhook")

    def work(loan: Any) -> dict[str, Any]:
        if event.event_id in loan.event_ids:
            return {"event_id": event.event_id, "loan_id": loan_id, "status": "duplicate"}
        terms = LoanTerms.from_record(loan.record, catalogue)
        if event.on < terms.opened_on:
            return park(event, loan_id, f"paid on {event.on}, before the loan opened", store=store)
        events = [*loan.events, event]
        position = replay(terms, events, _through(loan, events, event.on))
        transaction = difference(
            payment_id(event.event_id), "repayment", event.on, loan.booked, position.booked, f"loan {loan_id}"
        )
        store.save(
            loan,
            changes={
                "events": _events_record(events),
                "aged_through": position.as_of.isoformat(),
                "warned_bucket": _warned(loan.state.get("warned_bucket"), position, terms),
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
                    "status": position.status,
                },
            ),
        )
        return {
            "event_id": event.event_id,
            "loan_id": loan_id,
            "status": "applied",
            "loan_status": position.status,
        }

    try:
        return _redo(store, loan_id, work, conflict)
    except UnplaceablePayment as exc:
        return park(event, loan_id, exc.message, store=store)
    except TransactionConflict:
        # The payment's ledger id is taken by other content: it was parked before (the loan did not exist, or it
        # was dated before the loan opened). It stays parked; a person moves it, once.
        parked = store.ledger.transaction(payment_id(event.event_id))
        if parked is None or parked.kind != "suspense":
            raise
        return {"event_id": event.event_id, "loan_id": loan_id, "status": "parked", "reason": "parked before"}
    except LendingError as exc:
        if exc.code != "not_found":
            raise
        return park(event, loan_id, "no such loan", store=store)


def park(event: ServicingEvent, loan_id: str, reason: str, *, store: Store) -> dict[str, Any]:
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


def payment_id(event_id: str) -> str:
    """The ledger id of a payment event: the same whether it is applied to a loan or parked, so it is in the books
    once whichever way it went first."""
    return f"payment/{event_id}"


# Drawdowns


def drawdown_id_for(loan_id: str, idempotency_key: str) -> str:
    return "dd_" + hashlib.sha256(f"{loan_id}/{idempotency_key}".encode()).hexdigest()[:24]


def drawdown_refusal(terms: LoanTerms, position: Position, amount: Money, on: date, held: Money) -> str | None:
    """Why a drawdown cannot be made now, in words for the borrower; None when it can."""
    if terms.kind != "revolving":
        return "only a credit line can be drawn on"
    if position.frozen:
        return "the line is frozen while a payment is overdue; bring it up to date to draw again"
    assert terms.term_months is not None
    matures_on = add_months(terms.opened_on, terms.term_months)
    if on >= matures_on:
        return f"the line matured on {matures_on}"
    available = max((position.available_limit or Money.ZERO) - held, Money.ZERO)
    if amount > available:
        return f"{amount} is over the available limit of {available}"
    return None


def _held(drawdowns: Mapping[str, Mapping[str, Any]], but: str = "") -> Money:
    return Money(
        sum(Money.of(str(d["amount"])).fen for i, d in drawdowns.items() if d["status"] in HOLDING and i != but)
    )


def drawdown_view(loan_id: str, drawdown_id: str, drawdown: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "drawdown_id": drawdown_id,
        "loan_id": loan_id,
        "amount": str(drawdown["amount"]),
        "status": str(drawdown["status"]),
        "reason": drawdown.get("reason"),
    }


def request_drawdown(
    loan_id: str,
    borrower_id: str,
    amount: Money,
    idempotency_key: str,
    *,
    store: Store,
    catalogue: Catalogue,
    start: Callable[[str, dict[str, Any]], None],
    conflict: type[Exception],
    now: datetime | None = None,
) -> dict[str, Any]:
    """Hold ``amount`` against the line's available limit and start its payout; the same key answers the same."""
    now = now or clock.now()
    drawdown_id = drawdown_id_for(loan_id, idempotency_key)

    def work(loan: Any) -> dict[str, Any]:
        if loan.record.get("borrower_id") != borrower_id:
            raise LoanNotFound(f"no loan {loan_id}")
        existing = loan.drawdowns.get(drawdown_id)
        if existing is not None:
            if Money.of(str(existing["amount"])) != amount:
                raise IdempotencyConflict("this Idempotency-Key was used for another drawdown")
            return dict(existing)
        terms = LoanTerms.from_record(loan.record, catalogue)
        today = business_date(now)
        position = replay(terms, loan.events, _through(loan, loan.events, today))
        reason = drawdown_refusal(terms, position, amount, today, _held(loan.drawdowns))
        if reason is not None:
            raise DrawdownRefused(reason)
        drawdown = {"amount": str(amount), "status": "requested", "requested_at": now.isoformat()}
        store.save(
            loan,
            changes={"drawdowns": {**loan.drawdowns, drawdown_id: drawdown}},
            position=None,
            transaction=None,
            audit=("drawdown_requested", now, {"drawdown_id": drawdown_id, "amount": str(amount)}),
        )
        return drawdown

    drawdown = _redo(store, loan_id, work, conflict)
    if drawdown["status"] == "requested":
        # Starting is idempotent by name: a retried request finds the execution already running.
        start(drawdown_id, {"loan_id": loan_id, "drawdown_id": drawdown_id})
    return drawdown_view(loan_id, drawdown_id, drawdown)


#: Which status a drawdown step may move a drawdown from (a late or repeated step finds it elsewhere and leaves it).
_MOVES_FROM = {"funded": {"requested"}, "paid": {"funded"}, "failed": {"requested", "funded"}}


class DrawdownNotPayable(LendingError):
    """The drawdown is not funded, or was released: it cannot be paid out."""

    code = "drawdown_not_payable"


def _update_drawdown(
    store: Store,
    loan_id: str,
    drawdown_id: str,
    conflict: type[Exception],
    fields: Mapping[str, Any],
    audit: tuple[str, Mapping[str, Any]],
) -> dict[str, Any]:
    def work(loan: Any) -> dict[str, Any]:
        current = loan.drawdowns[drawdown_id]
        if current["status"] not in _MOVES_FROM[str(fields["status"])]:
            return dict(current)
        drawdown = {**current, **fields}
        store.save(
            loan,
            changes={"drawdowns": {**loan.drawdowns, drawdown_id: drawdown}},
            position=None,
            transaction=None,
            audit=(audit[0], clock.now(), {"drawdown_id": drawdown_id, **audit[1]}),
        )
        return drawdown

    return _redo(store, loan_id, work, conflict)


def funding_id(drawdown_id: str) -> str:
    return f"{drawdown_id}/funding"


def reserve_drawdown_funding(
    loan_id: str,
    drawdown_id: str,
    choose_shares: Callable[[Money], dict[str, Money]],
    quotas: Mapping[str, Money],
    *,
    store: Store,
    conflict: type[Exception],
) -> dict[str, Any]:
    """Reserve the drawdown's funding (a pending transfer bounded by each source's quota), once."""
    loan = store.load(loan_id)
    drawdown = loan.drawdowns[drawdown_id]
    if drawdown.get("funding"):
        return dict(drawdown["funding"])
    amount = Money.of(str(drawdown["amount"]))
    # Reserved on an earlier attempt that did not get to record it: that reservation stands as it is (its shares
    # and its date; rebuilding it on another day would be another transaction under the same id).
    transaction = store.ledger.transaction(funding_id(drawdown_id))
    if transaction is None:
        shares = choose_shares(amount)
        transaction = bookkeeping.funding_reservation(funding_id(drawdown_id), loan_id, shares, business_date())
        store.ledger.reserve(transaction, bounds={bookkeeping.funding_source(s): quotas[s] for s in shares})
    else:
        shares = {p.account.key: -p.amount for p in transaction.postings if p.account.code is AccountCode.FUNDING}
    funding = {"reservation_id": transaction.id, "shares": {s: str(a) for s, a in shares.items()}}
    _update_drawdown(
        store, loan_id, drawdown_id, conflict, {"funding": funding, "status": "funded"}, ("drawdown_funded", funding)
    )
    return funding


def pay_out_drawdown(
    loan_id: str,
    drawdown_id: str,
    *,
    store: Store,
    payouts: Payouts,
    decrypt: Decrypt,
    pii: Callable[[str], tuple[str, Mapping[str, Any]]],
    unavailable: type[Exception],
    rejected: type[Exception],
    conflict: type[Exception],
    now: datetime | None = None,
) -> dict[str, Any]:
    """Pay the drawdown to the borrower's account exactly once (the provider dedupes by our key); the time it was
    paid is the drawdown's time in the line's history."""
    loan = store.load(loan_id)
    drawdown = loan.drawdowns[drawdown_id]
    if drawdown.get("payout"):
        return dict(drawdown["payout"])
    if drawdown["status"] != "funded":
        raise DrawdownNotPayable(f"drawdown {drawdown_id} is {drawdown['status']}: only a funded one is paid out")
    amount = Money.of(str(drawdown["amount"]))
    record_id, ciphertexts = pii(str(loan.record["application_id"]))
    account = decrypt(record_id, ciphertexts, ("bank_account",))["bank_account"]
    try:
        payout = payouts.pay(f"drawdown-{drawdown_id}", amount, account, drawdown_id)
    except unavailable as exc:
        raise PayoutUnavailable(str(exc)) from None
    except rejected as exc:
        raise PayoutRejected(str(exc)) from None
    record = {
        "payout_id": payout.payout_id,
        "amount": str(amount),
        "status": str(payout.status),
        "paid_at": (now or clock.now()).isoformat(),
    }
    _update_drawdown(
        store, loan_id, drawdown_id, conflict, {"payout": record, "status": "paid"}, ("drawdown_paid", record)
    )
    return record


def book_drawdown(
    loan_id: str, drawdown_id: str, *, store: Store, catalogue: Catalogue, conflict: type[Exception]
) -> dict[str, Any]:
    """Post the funding and book the drawdown on the line (its event, its ledger transaction, its audit link)."""
    store.ledger.post_pending(funding_id(drawdown_id), f"{funding_id(drawdown_id)}/post")

    def work(loan: Any) -> dict[str, Any]:
        drawdown = loan.drawdowns[drawdown_id]
        if drawdown_id in loan.event_ids:
            return drawdown_view(loan_id, drawdown_id, drawdown)
        payout = drawdown["payout"]
        event = ServicingEvent(
            drawdown_id,
            EventKind.DRAWDOWN,
            datetime.fromisoformat(str(payout["paid_at"])),
            Money.of(str(drawdown["amount"])),
        )
        terms = LoanTerms.from_record(loan.record, catalogue)
        events = [*loan.events, event]
        position = replay(terms, events, _through(loan, events, event.on))
        transaction = difference(
            f"{loan_id}/{drawdown_id}", "drawdown", event.on, loan.booked, position.booked, f"line {loan_id}"
        )
        booked = {**drawdown, "status": "booked"}
        store.save(
            loan,
            changes={
                "events": _events_record(events),
                "aged_through": position.as_of.isoformat(),
                "drawdowns": {**loan.drawdowns, drawdown_id: booked},
            },
            position=position,
            transaction=transaction,
            audit=("drawdown_booked", event.at, {"drawdown_id": drawdown_id, "amount": str(event.amount)}),
        )
        return drawdown_view(loan_id, drawdown_id, booked)

    return _redo(store, loan_id, work, conflict)


def release_drawdown(
    loan_id: str, drawdown_id: str, reason: str, *, store: Store, conflict: type[Exception]
) -> dict[str, Any]:
    """Compensation after a failed payout: void the funding hold and free the limit; nothing was paid."""
    loan = store.load(loan_id)
    drawdown = loan.drawdowns[drawdown_id]
    if drawdown["status"] in ("failed", "booked"):
        return drawdown_view(loan_id, drawdown_id, drawdown)
    if drawdown.get("payout"):
        # The money left: releasing would free the limit and the funding for a payout that was made.
        raise PayoutMade(f"drawdown {drawdown_id} was paid out; it is booked, never released")
    if drawdown.get("funding"):
        store.ledger.void_pending(funding_id(drawdown_id), f"{funding_id(drawdown_id)}/void")
    failed = _update_drawdown(
        store,
        loan_id,
        drawdown_id,
        conflict,
        {"status": "failed", "reason": reason},
        ("drawdown_failed", {"reason": reason}),
    )
    return drawdown_view(loan_id, drawdown_id, failed)


class PayoutMade(LendingError):
    """A compensation was asked for a drawdown whose payout is recorded as made."""

    code = "payout_made"


# The daily close


def close_loan(
    loan_id: str,
    day: date,
    *,
    store: Store,
    catalogue: Catalogue,
    warn: Callable[[dict[str, Any]], None],
    conflict: type[Exception],
) -> dict[str, Any]:
    """Age one loan through ``day``: recognise what fell due, accrue penalty, bucket it, freeze or unfreeze a line,
    and warn when it enters or worsens a bucket. A loan already aged through ``day`` is left as it is."""

    def work(loan: Any) -> dict[str, Any]:
        if loan.aged_through >= day or loan.record.get("status") == "CLOSED":
            return {"loan_id": loan_id, "changed": False, "warned": False}
        terms = LoanTerms.from_record(loan.record, catalogue)
        before_rank = bucket_rank(loan.state.get("bucket"), terms.buckets)
        position = replay(terms, loan.events, day)
        transaction = difference(
            f"{loan_id}/close/{day}", "close", day, loan.booked, position.booked, f"loan {loan_id}"
        )
        warned = loan.state.get("warned_bucket")
        warning = None
        if bucket_rank(position.bucket, terms.buckets) > bucket_rank(warned, terms.buckets):
            warning = {
                "warning_id": f"{loan_id}/{day}/{position.bucket}",
                "loan_id": loan_id,
                "as_of": day.isoformat(),
                "bucket": position.bucket,
                "days_past_due": position.days_past_due,
                "principal_outstanding": str(position.principal_outstanding),
                "frozen": position.frozen,
            }
            warned = position.bucket
        else:
            warned = _warned(warned, position, terms)
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
            changes={"aged_through": day.isoformat(), "warned_bucket": warned},
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

    return _redo(store, loan_id, work, conflict)


def close_date_for(event: Mapping[str, Any]) -> date:
    """The day a close run ages loans through: ``close_date`` when given, else the business day before the
    schedule fired (the close runs just after midnight, China Standard Time)."""
    if event.get("close_date"):
        return date.fromisoformat(str(event["close_date"]))
    fired = datetime.fromisoformat(str(event["time"]).replace("Z", "+00:00"))
    return business_date(fired) - timedelta(days=1)
