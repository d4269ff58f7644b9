"""Drawdowns on a credit line: the request (the API), then the drawdown workflow's steps: funding, disbursement,
booking, and the release that compensates a failed disbursement. A drawdown moves only along
lending.drawdown.ALLOWED_FROM, so a late or repeated step finds it elsewhere and leaves it.

Safe to retry or to run twice at once: a drawdown's id derives from the line and the client's Idempotency-Key; its
funding reservation, payout key and ledger ids derive from the drawdown id, as in origination; each write is
conditioned on the loan's version (lending.steps.servicing).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from lending import clock
from lending.calendar import business_date
from lending.catalogue import Catalogue
from lending.drawdown import TERMINAL, DrawdownStatus, drawdown_id_for, funding_id, held, may_move, refusal
from lending.errors import DrawdownNotPayable, DrawdownRefused, IdempotencyConflict, LoanNotFound, PayoutMade
from lending.funding import FundingSources, funding_record, reserve_funding_shares
from lending.money import Money
from lending.serviced_loan import ServicedLoan
from lending.servicing import EventKind, LoanTerms, ServicingEvent, difference, replay
from lending.steps.ports import Decrypt, LoanStore, Payouts
from lending.steps.servicing import events_record, redo


def drawdown_view(loan_id: str, drawdown_id: str, drawdown: Mapping[str, Any]) -> dict[str, Any]:
    """The drawdown as the API answers it."""
    return {
        "drawdown_id": drawdown_id,
        "loan_id": loan_id,
        "amount": str(drawdown["amount"]),
        "status": str(drawdown["status"]),
        "reason": drawdown.get("reason"),
    }


def payout_key(drawdown_id: str) -> str:
    """The payout provider's idempotency key: one per drawdown, however often the step runs."""
    return f"drawdown-{drawdown_id}"


def request_drawdown(
    loan_id: str,
    borrower_id: str,
    amount: Money,
    idempotency_key: str,
    *,
    store: LoanStore,
    catalogue: Catalogue,
    start: Callable[[str, dict[str, Any]], None],
    now: datetime | None = None,
) -> dict[str, Any]:
    """Hold ``amount`` against the line's available limit and start its workflow; the same key answers the same."""
    now = now or clock.now()
    drawdown_id = drawdown_id_for(loan_id, idempotency_key)

    def work(loan: ServicedLoan) -> dict[str, Any]:
        if loan.record.get("borrower_id") != borrower_id:
            raise LoanNotFound(f"no loan {loan_id}")
        existing = loan.drawdowns.get(drawdown_id)
        if existing is not None:
            if Money.of(str(existing["amount"])) != amount:
                raise IdempotencyConflict("this Idempotency-Key was used for another drawdown")
            return dict(existing)
        terms = LoanTerms.from_record(loan.record, catalogue)
        today = business_date(now)
        position = replay(terms, loan.events, loan.through(loan.events, today))
        reason = refusal(terms, position, amount, today, held(loan.drawdowns))
        if reason is not None:
            raise DrawdownRefused(reason)
        drawdown = {"amount": str(amount), "status": DrawdownStatus.REQUESTED.value, "requested_at": now.isoformat()}
        store.save(
            loan,
            changes={"drawdowns": {**loan.drawdowns, drawdown_id: drawdown}},
            position=None,
            transaction=None,
            audit=("drawdown_requested", now, {"drawdown_id": drawdown_id, "amount": str(amount)}),
        )
        return drawdown

    drawdown = redo(store, loan_id, work)
    if drawdown["status"] == DrawdownStatus.REQUESTED:
        # Starting is idempotent by name: a retried request finds the execution already running.
        start(drawdown_id, {"loan_id": loan_id, "drawdown_id": drawdown_id})
    return drawdown_view(loan_id, drawdown_id, drawdown)


def _move(
    store: LoanStore,
    loan_id: str,
    drawdown_id: str,
    target: DrawdownStatus,
    fields: Mapping[str, Any],
    audit: tuple[str, Mapping[str, Any]],
    read: ServicedLoan,
) -> dict[str, Any]:
    """Move the drawdown to ``target`` with ``fields`` and its audit event; one found elsewhere is left as it is.
    ``read``: the loan as the step read it (the first attempt's)."""

    def work(loan: ServicedLoan) -> dict[str, Any]:
        current = loan.drawdowns[drawdown_id]
        status = DrawdownStatus(current["status"])
        if status == target or not may_move(status, target):
            return dict(current)
        drawdown = {**current, **fields, "status": target.value}
        store.save(
            loan,
            changes={"drawdowns": {**loan.drawdowns, drawdown_id: drawdown}},
            position=None,
            transaction=None,
            audit=(audit[0], clock.now(), {"drawdown_id": drawdown_id, **audit[1]}),
        )
        return drawdown

    return redo(store, loan_id, work, read)


def reserve_drawdown_funding(
    loan_id: str, drawdown_id: str, sources: FundingSources, *, store: LoanStore
) -> dict[str, Any]:
    """Reserve the drawdown's funding (a pending transfer bounded by each source's quota), once."""
    loan = store.load(loan_id)
    drawdown = loan.drawdowns[drawdown_id]
    if drawdown.get("funding"):
        return dict(drawdown["funding"])
    amount = Money.of(str(drawdown["amount"]))
    shares = reserve_funding_shares(store.ledger, funding_id(drawdown_id), loan_id, amount, sources, business_date())
    funding = funding_record(funding_id(drawdown_id), shares)
    _move(store, loan_id, drawdown_id, DrawdownStatus.FUNDED, {"funding": funding}, ("drawdown_funded", funding), loan)
    return funding


def disburse_drawdown(
    loan_id: str,
    drawdown_id: str,
    *,
    store: LoanStore,
    payouts: Payouts,
    decrypt: Decrypt,
    pii: Callable[[str], tuple[str, Mapping[str, Any]]],
    now: datetime | None = None,
) -> dict[str, Any]:
    """Pay the drawdown to the borrower's account exactly once (the provider dedupes by our key); the time it was
    paid is the drawdown's time in the line's history. The provider's PayoutUnavailable and PayoutRejected pass
    through to the workflow, which retries the one and releases the drawdown on the other."""
    loan = store.load(loan_id)
    drawdown = loan.drawdowns[drawdown_id]
    if drawdown.get("payout"):
        return dict(drawdown["payout"])
    if drawdown["status"] != DrawdownStatus.FUNDED:
        raise DrawdownNotPayable(f"drawdown {drawdown_id} is {drawdown['status']}: only a funded one is disbursed")
    amount = Money.of(str(drawdown["amount"]))
    record_id, ciphertexts = pii(str(loan.record["application_id"]))
    account = decrypt(record_id, ciphertexts, ("bank_account",))["bank_account"]
    payout = payouts.pay(payout_key(drawdown_id), amount, account, drawdown_id)
    record = {
        "payout_id": payout.payout_id,
        "amount": str(amount),
        "status": str(payout.status),
        "paid_at": (now or clock.now()).isoformat(),
    }
    _move(store, loan_id, drawdown_id, DrawdownStatus.PAID, {"payout": record}, ("drawdown_paid", record), loan)
    return record


def book_drawdown(loan_id: str, drawdown_id: str, *, store: LoanStore, catalogue: Catalogue) -> dict[str, Any]:
    """Post the funding and book the drawdown on the line (its event, its ledger transaction, its audit link)."""
    store.ledger.post_pending(funding_id(drawdown_id), f"{funding_id(drawdown_id)}/post")

    def work(loan: ServicedLoan) -> dict[str, Any]:
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
        position = replay(terms, events, loan.through(events, event.on))
        transaction = difference(
            f"{loan_id}/{drawdown_id}", "drawdown", event.on, loan.booked, position.booked, f"line {loan_id}"
        )
        booked = {**drawdown, "status": DrawdownStatus.BOOKED.value}
        store.save(
            loan,
            changes={
                "events": events_record(events),
                "aged_through": position.as_of.isoformat(),
                "drawdowns": {**loan.drawdowns, drawdown_id: booked},
            },
            position=position,
            transaction=transaction,
            audit=("drawdown_booked", event.at, {"drawdown_id": drawdown_id, "amount": str(event.amount)}),
        )
        return drawdown_view(loan_id, drawdown_id, booked)

    return redo(store, loan_id, work)


def release_drawdown(loan_id: str, drawdown_id: str, reason: str, *, store: LoanStore) -> dict[str, Any]:
    """Compensation after a failed disbursement: void the funding hold and free the limit; nothing was paid."""
    loan = store.load(loan_id)
    drawdown = loan.drawdowns[drawdown_id]
    if drawdown["status"] in TERMINAL:
        return drawdown_view(loan_id, drawdown_id, drawdown)
    if drawdown.get("payout"):
        # The money left: releasing would free the limit and the funding for a payout that was made.
        raise PayoutMade(f"drawdown {drawdown_id} was paid out; it is booked, never released")
    if drawdown.get("funding"):
        store.ledger.void_pending(funding_id(drawdown_id), f"{funding_id(drawdown_id)}/void")
    failed = _move(
        store,
        loan_id,
        drawdown_id,
        DrawdownStatus.FAILED,
        {"reason": reason},
        ("drawdown_failed", {"reason": reason}),
        loan,
    )
    return drawdown_view(loan_id, drawdown_id, failed)
