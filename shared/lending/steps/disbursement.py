"""A loan's disbursement, once the borrower has accepted its contract (lending.steps.acceptance): the funding
reservation, the payout, booking, and the compensation that releases the funding when the payout fails (the offer
before it is lending.steps.offer). The accepted amount and term are what is funded, paid out and booked.

Every one is safe to retry, and says how:
- ids derive from the application id (reservation, payout key, loan id, ledger transaction ids), so a retried
  step rebuilds the same facts and the ledger and the payout provider treat them as the no-ops they are;
- status moves are conditional (see lending.adapters.applications), so a replayed step cannot go backwards.
"""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal
from typing import Any

from lending import bookkeeping, clock
from lending.calendar import business_date
from lending.catalogue import Catalogue, Method
from lending.errors import PayoutRejected
from lending.funding import FundingSources, funding_record, reserve_funding_shares
from lending.money import Money
from lending.origination import Status
from lending.pricing import make_offer
from lending.rates import format_rate
from lending.servicing import LoanStatus, LoanTerms, opening, schedule_record
from lending.steps.acceptance import accepted_terms
from lending.steps.ports import Applications, Audit, Decrypt, Ledger, Loans, Payouts


def loan_id_for(application_id: str) -> str:
    """The loan (or line) an application books: one per application, the same on every retry."""
    return "loan_" + hashlib.sha256(application_id.encode()).hexdigest()[:26]


def reservation_id(application_id: str) -> str:
    return f"{application_id}/funding"


def reserve_funding(
    application_id: str, sources: FundingSources, *, applications: Applications, audit: Audit, ledger: Ledger
) -> dict[str, Any]:
    """Reserve each source's share of the principal (a pending transfer), bounded by the source's quota in the
    same write; once (lending.funding.reserve_funding_shares)."""
    application = applications.get(application_id)
    if application.get("funding"):
        return dict(application["funding"])
    principal, _ = accepted_terms(application)
    shares = reserve_funding_shares(
        ledger, reservation_id(application_id), application_id, principal, sources, business_date()
    )
    funding = funding_record(reservation_id(application_id), shares)
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
) -> dict[str, Any]:
    """Pay the net amount to the borrower's account, exactly once (the provider dedupes by our key). The provider's
    PayoutUnavailable passes through to the workflow's retry; a PayoutRejected is audited, then passes through to
    the workflow's release of the funding."""
    application = applications.get(application_id)
    if application.get("payout"):
        return dict(application["payout"])  # paid on an earlier attempt that did not get to answer
    accepted_terms(application)  # nothing is paid out for an offer nobody accepted
    applications.move(application_id, Status.DISBURSING)
    amount = Money.of(application["accepted"]["net_disbursement"])
    account = decrypt(application_id, application["pii"], ("bank_account",))["bank_account"]
    try:
        payout = payouts.pay(payout_key(application_id), amount, account, application_id)
    except PayoutRejected as exc:
        audit.append(application_id, "payout_rejected", clock.now(), {"reason": exc.reason})
        raise
    record = {"payout_id": payout.payout_id, "amount": str(amount), "status": str(payout.status)}
    applications.set_fields(application_id, {"payout": record}, only_once="payout")
    audit.append(application_id, "paid_out", clock.now(), {"payout_id": payout.payout_id, "amount": str(amount)})
    return record


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
    amount, term_months = accepted_terms(application)
    loan_id = loan_id_for(application_id)
    product = catalogue.product(offer["product"])
    base = {
        "loan_id": loan_id,
        "application_id": application_id,
        "borrower_id": application["borrower_id"],
        "product": product.code,
        "industry": (application.get("business") or {}).get("industry"),  # how the portfolio is broken down
        "kind": product.kind,
        "opened_at": now.isoformat(),
        "opened_on": today.isoformat(),
        "annual_rate": offer["annual_rate"],
        "term_months": term_months,
        "contract_sha256": application["accepted"]["contract_sha256"],
        "status": LoanStatus.ACTIVE.value,
    }
    if product.kind == "revolving":
        loans.create(
            {
                **base,
                "limit": str(amount),
                "principal_outstanding": "0.00",
                "frozen": False,
            }
        )
        applications.move(application_id, Status.LINE_OPENED, {"loan_id": loan_id})
        audit.append(application_id, "line_opened", now, {"loan_id": loan_id, "limit": str(amount)})
        return {"loan_id": loan_id, "status": Status.LINE_OPENED.value}
    principal = amount
    # The schedule the borrower signed: it starts on the day the contract was issued (and accepted), which is the
    # payout's day but for an acceptance in a day's last seconds.
    signed_on = application["accepted"].get("issued_on")
    priced = make_offer(
        catalogue,
        product.code,
        principal,
        term_months,
        Method(offer["method"]),
        date.fromisoformat(signed_on) if signed_on else today,
        Decimal(offer["annual_rate"]),
    )
    funding = application["funding"]
    ledger.post_pending(funding["reservation_id"], f"{funding['reservation_id']}/post")
    ledger.record(bookkeeping.disbursement(f"{loan_id}/disbursement", loan_id, principal, priced.upfront_fee, today))
    schedule = schedule_record(priced.schedule)
    record = {
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
    # The allowance a new (normal) loan carries from its first day; its id makes a retried booking a no-op.
    provision, record["servicing"] = opening(LoanTerms.from_record(record, catalogue), f"{loan_id}/provision")
    if provision is not None:
        ledger.record(provision)
    loans.create(record)
    applications.move(application_id, Status.DISBURSED, {"loan_id": loan_id})
    audit.append(application_id, "loan_booked", now, {"loan_id": loan_id, "principal": str(principal)})
    return {"loan_id": loan_id, "status": Status.DISBURSED.value}
