"""The steps that move money: the offer, the funding reservation, the payout, booking, and the compensation.

Every one is safe to retry, and says how:
- ids derive from the application id (reservation, payout key, loan id, ledger transaction ids), so a retried
  step rebuilds the same facts and the ledger and the payout provider treat them as the no-ops they are;
- status moves are conditional (see lending.adapters.applications), so a replayed step cannot go backwards.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

from lending import bookkeeping, clock
from lending.calendar import business_date
from lending.catalogue import Catalogue, Method, RateCap
from lending.errors import LendingError
from lending.ledger import Account, AccountCode, Transaction
from lending.money import Money
from lending.origination import Status
from lending.pricing import Offer, make_offer
from lending.rates import format_rate
from lending.servicing import schedule_record
from lending.steps.ports import Applications, Audit, Decrypt


class OfferRefused(LendingError):
    """No offer can be made within the rate cap or the product's rules: the application is declined."""

    code = "offer_refused"


class PayoutRejected(LendingError):
    """The bank refused the payout for good (closed account, wrong name): nothing was paid."""

    code = "payout_rejected"


class PayoutUnavailable(LendingError):
    """The payout provider could not be reached or answered with a transient error: retry with the same key."""

    code = "payout_unavailable"


class Ledger(Protocol):
    def record(self, transaction: Transaction, bounds: Any = None) -> bool: ...
    def reserve(self, transaction: Transaction, bounds: Any = None) -> bool: ...
    def post_pending(self, pending_id: str, post_id: str) -> bool: ...
    def void_pending(self, pending_id: str, void_id: str) -> bool: ...
    def balance(self, account: Account) -> Money: ...
    def pending_balance(self, account: Account) -> Money: ...
    def transaction(self, transaction_id: str) -> Transaction | None: ...


def loan_id_for(application_id: str) -> str:
    """The loan (or line) an application books: one per application, the same on every retry."""
    return "loan_" + hashlib.sha256(application_id.encode()).hexdigest()[:26]


def capped_catalogue(catalogue: Catalogue, cap: Decimal | None) -> Catalogue:
    """The catalogue under the deployment's cap: the stricter of the two wins."""
    if cap is None or cap >= catalogue.rate_cap.annual_rate:
        return catalogue
    return catalogue.model_copy(update={"rate_cap": RateCap(mode="fixed", annual=cap)})


def _approved_terms(application: dict[str, Any]) -> dict[str, Any]:
    decision = application.get("decision") or {}
    terms = decision.get("terms")
    if not terms:
        raise OfferRefused(f"application {application['application_id']} has no approved terms to offer")
    return dict(terms)


def price_offer(
    application_id: str, *, applications: Applications, audit: Audit, catalogue: Catalogue
) -> dict[str, Any]:
    """Build the offer from the approved terms; an offer the cap refuses declines the application instead."""
    application = applications.get(application_id)
    terms = _approved_terms(application)
    product = catalogue.product(terms["product"])
    annual_rate = Decimal(terms["annual_rate"])
    limit = Money.of(terms["limit"])
    offer: dict[str, Any] = {
        "product": product.code,
        "product_kind": product.kind,
        "limit": str(limit),
        "annual_rate": format_rate(annual_rate),
        "term_months": int(terms["term_months"]),
    }
    try:
        if product.kind == "revolving":
            if annual_rate > catalogue.rate_cap.annual_rate:
                raise OfferRefused(f"annual rate {format_rate(annual_rate)} is above the cap")
            offer |= {"apr": format_rate(annual_rate), "effective_annual_rate": None, "method": None}
        else:
            priced: Offer = make_offer(
                catalogue,
                product.code,
                limit,
                int(terms["term_months"]),
                Method(terms["method"]),
                business_date(),
                annual_rate,
            )
            offer |= {
                "apr": format_rate(priced.apr),
                "effective_annual_rate": format_rate(priced.effective_annual_rate),
                "method": terms["method"],
                "upfront_fee": str(priced.upfront_fee),
                "net_disbursement": str(priced.net_disbursement),
            }
    except LendingError as exc:
        applications.move(application_id, Status.DECLINED, {"offer_refused": exc.message})
        audit.append(application_id, "offer_refused", clock.now(), {"reason": exc.code})
        raise OfferRefused(exc.message) from None
    applications.move(application_id, Status.APPROVED, {"offer": offer})
    audit.append(application_id, "offer_made", clock.now(), {k: offer[k] for k in ("limit", "annual_rate", "apr")})
    return {"product_kind": product.kind, "limit": offer["limit"]}


def reservation_id(application_id: str) -> str:
    return f"{application_id}/funding"


def reserve_funding(
    application_id: str,
    choose_shares: Callable[[], dict[str, Money]],
    quotas: dict[str, Money],
    *,
    applications: Applications,
    audit: Audit,
    ledger: Ledger,
) -> dict[str, Any]:
    """Reserve each source's share (a pending transfer), bounded by the source's quota in the same write.

    Shares are chosen once: a retry finds the reservation already in the ledger and keeps its shares, because
    choosing again (with this application's own hold now counted as used) could pick other shares.
    """
    application = applications.get(application_id)
    if application.get("funding"):
        return dict(application["funding"])
    # Reserved on an earlier attempt that did not get to record it: that reservation stands as it is (its shares
    # and its date; rebuilt on another day it would be another transaction under the same id).
    transaction = ledger.transaction(reservation_id(application_id))
    if transaction is None:
        shares = choose_shares()
        principal = Money.of(application["offer"]["limit"])
        if sum(s.fen for s in shares.values()) != principal.fen:
            raise ValueError("funding shares must add up to the principal")
        transaction = bookkeeping.funding_reservation(
            reservation_id(application_id), application_id, shares, business_date()
        )
        bounds = {bookkeeping.funding_source(source): quotas[source] for source in shares}
        ledger.reserve(transaction, bounds=bounds)
    else:
        shares = {p.account.key: -p.amount for p in transaction.postings if p.account.code is AccountCode.FUNDING}
    funding = {"reservation_id": transaction.id, "shares": {s: str(a) for s, a in shares.items()}}
    applications.set_fields(application_id, {"funding": funding})
    audit.append(application_id, "funding_reserved", clock.now(), funding)
    return funding


def release_funding(application_id: str, *, applications: Applications, audit: Audit, ledger: Ledger) -> dict[str, Any]:
    """Void the reservation (compensation after a failed payout); nothing to void is fine."""
    application = applications.get(application_id)
    funding = application.get("funding")
    if not funding:
        return {"released": False}
    released = ledger.void_pending(funding["reservation_id"], f"{funding['reservation_id']}/void")
    if released:
        audit.append(application_id, "funding_released", clock.now(), {"reservation_id": funding["reservation_id"]})
    return {"released": True}


class Payouts(Protocol):
    def pay(self, idempotency_key: str, amount: Money, bank_account: str, reference: str) -> Any: ...


def payout_key(application_id: str) -> str:
    """The payout provider's idempotency key: one per application, however often the step runs."""
    return f"disburse-{application_id}"


def disburse(
    application_id: str,
    *,
    applications: Applications,
    audit: Audit,
    payouts: Payouts,
    decrypt: Decrypt,
    unavailable: type[Exception],
    rejected: type[Exception],
) -> dict[str, Any]:
    """Pay the net amount to the borrower's account, exactly once (the provider dedupes by our key)."""
    application = applications.get(application_id)
    if application.get("payout"):
        return dict(application["payout"])  # paid on an earlier attempt that did not get to answer
    applications.move(application_id, Status.DISBURSING)
    amount = Money.of(application["offer"]["net_disbursement"])
    account = decrypt(application_id, application["pii"], ("bank_account",))["bank_account"]
    try:
        payout = payouts.pay(payout_key(application_id), amount, account, application_id)
    except unavailable as exc:
        raise PayoutUnavailable(str(exc)) from None
    except rejected as exc:
        audit.append(application_id, "payout_rejected", clock.now(), {"reason": getattr(exc, "reason", "")})
        raise PayoutRejected(str(exc)) from None
    record = {"payout_id": payout.payout_id, "amount": str(amount), "status": str(payout.status)}
    applications.set_fields(application_id, {"payout": record}, only_once="payout")
    audit.append(application_id, "paid_out", clock.now(), {"payout_id": payout.payout_id, "amount": str(amount)})
    return record


class Loans(Protocol):
    def create(self, loan: dict[str, Any]) -> bool: ...


def book(
    application_id: str,
    *,
    applications: Applications,
    audit: Audit,
    ledger: Ledger,
    loans: Loans,
    catalogue: Catalogue,
    today: date | None = None,
) -> dict[str, Any]:
    """Post the funding, book the loan with its schedule in the ledger, and mark the application DISBURSED.

    A credit line books no money: it opens (LINE_OPENED), and money moves only on drawdowns.
    """
    today = today or business_date()
    now = clock.now()
    application = applications.get(application_id)
    offer = application["offer"]
    loan_id = loan_id_for(application_id)
    product = catalogue.product(offer["product"])
    base = {
        "loan_id": loan_id,
        "application_id": application_id,
        "borrower_id": application["borrower_id"],
        "product": product.code,
        "kind": product.kind,
        "opened_at": now.isoformat(),
        "opened_on": today.isoformat(),
        "annual_rate": offer["annual_rate"],
        "term_months": int(offer["term_months"]),
        "status": "ACTIVE",
    }
    if product.kind == "revolving":
        loans.create(
            {
                **base,
                "limit": offer["limit"],
                "principal_outstanding": "0.00",
                "frozen": False,
            }
        )
        applications.move(application_id, Status.LINE_OPENED, {"loan_id": loan_id})
        audit.append(application_id, "line_opened", now, {"loan_id": loan_id, "limit": offer["limit"]})
        return {"loan_id": loan_id, "status": Status.LINE_OPENED.value}
    principal = Money.of(offer["limit"])
    priced = make_offer(
        catalogue,
        product.code,
        principal,
        int(offer["term_months"]),
        Method(offer["method"]),
        today,
        Decimal(offer["annual_rate"]),
    )
    funding = application["funding"]
    ledger.post_pending(funding["reservation_id"], f"{funding['reservation_id']}/post")
    ledger.record(bookkeeping.disbursement(f"{loan_id}/disbursement", loan_id, principal, priced.upfront_fee, today))
    schedule = schedule_record(priced.schedule)
    loans.create(
        {
            **base,
            "principal": str(principal),
            "method": offer["method"],
            "upfront_fee": str(priced.upfront_fee),
            "apr": format_rate(priced.apr),
            "schedule": schedule,
            "funding": funding,
            # The daily close reads loans through the DueLoans index from their first due date on.
            "next_due_on": schedule[0]["due_date"],
            "principal_outstanding": str(principal),
        }
    )
    applications.move(application_id, Status.DISBURSED, {"loan_id": loan_id})
    audit.append(application_id, "loan_booked", now, {"loan_id": loan_id, "principal": str(principal)})
    return {"loan_id": loan_id, "status": Status.DISBURSED.value}
