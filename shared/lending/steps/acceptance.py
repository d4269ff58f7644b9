"""The borrower's acceptance of the offer: the workflow waits for it, the borrower reads the contract and signs it.

- ``await_acceptance`` (the workflow's ``.waitForTaskToken`` step) opens the offer for acceptance until its deadline
  and keeps the task token; nothing is reserved or paid before the borrower accepts.
- ``issue_contract`` renders the contract for the offer, or a smaller amount / shorter term within it, and keeps
  its hash (and the terms that rebuild it) on the application, so that only a contract issued can be accepted.
- ``accept`` records the acceptance of exactly that hash once, audits it, and resumes the workflow; the accepted
  amount and term are what the funding, the payout and the booking use (``accepted_terms``).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from lending import clock
from lending.audit import rfc3339_utc
from lending.calendar import business_date
from lending.catalogue import Catalogue
from lending.contract import Contract, FundingPartner, chosen_terms, render
from lending.errors import AlreadyAccepted, ContractMismatch, NotAwaitingAcceptance, OfferExpired
from lending.funding import FundingSources
from lending.money import Money
from lending.origination import Status
from lending.steps.ports import Applications, Audit, Resume

#: Statuses after an acceptance, in which the accepted contract is still shown and a repeat of it still answers.
_AFTER_ACCEPTANCE = frozenset({Status.APPROVED, Status.DISBURSING, Status.DISBURSED, Status.LINE_OPENED, Status.FAILED})


def await_acceptance(
    application_id: str, task_token: str, timeout_seconds: int, *, applications: Applications, audit: Audit
) -> dict[str, str]:
    """Open the priced offer for acceptance until ``timeout_seconds`` from now (the workflow's own timeout on this
    state), keeping the token the acceptance resumes. A retry keeps the first deadline and the contracts issued."""
    now = clock.now()
    application = applications.get(application_id)
    offer = dict(application["offer"])
    first = "expires_at" not in offer
    if first:
        offer["expires_at"] = rfc3339_utc(now + timedelta(seconds=timeout_seconds))
    updates: dict[str, Any] = {"offer": offer, "acceptance_task_token": task_token}
    if "contracts" not in application:
        updates["contracts"] = {}
    applications.move(application_id, Status.APPROVED, updates)
    if first:
        audit.append(application_id, "offer_awaiting_acceptance", now, {"expires_at": offer["expires_at"]})
    return {"application_id": application_id, "status": Status.APPROVED.value}


def _partners(sources: FundingSources) -> list[FundingPartner]:
    return [FundingPartner(p.name, p.share) for p in sources.partners]


def _expired(application: dict[str, Any], now: datetime) -> bool:
    if application["status"] == Status.EXPIRED.value:
        return True
    expires_at = (application.get("offer") or {}).get("expires_at")
    return expires_at is not None and datetime.fromisoformat(expires_at) <= now


def _rebuild(
    application: dict[str, Any], terms: dict[str, Any], catalogue: Catalogue, sources: FundingSources
) -> Contract:
    """The contract an issued entry describes, exactly as it was issued."""
    return render(
        application,
        catalogue,
        amount=Money.of(terms["amount"]),
        term_months=int(terms["term_months"]),
        issued_on=date.fromisoformat(terms["issued_on"]),
        expires_at=application["offer"]["expires_at"],
        partners=_partners(sources),
    )


def issue_contract(
    application: dict[str, Any],
    amount: Money | None,
    term_months: int | None,
    *,
    applications: Applications,
    catalogue: Catalogue,
    sources: FundingSources,
) -> Contract:
    """The contract for the offer (or less of it) as of today; once accepted, the accepted one whatever is asked."""
    accepted = application.get("accepted")
    if accepted and application["status"] in _AFTER_ACCEPTANCE:
        return _rebuild(application, application["contracts"][accepted["contract_sha256"]], catalogue, sources)
    offer = application.get("offer") or {}
    if application["status"] != Status.APPROVED.value or "expires_at" not in offer:
        if _expired(application, clock.now()):
            raise OfferExpired(f"the offer of application {application['application_id']} has expired")
        raise NotAwaitingAcceptance(f"application {application['application_id']} has no offer open for acceptance")
    if _expired(application, clock.now()):
        raise OfferExpired(f"the offer of application {application['application_id']} expired at {offer['expires_at']}")
    amount, term = chosen_terms(offer, catalogue.product(offer["product"]), amount, term_months)
    terms = {"amount": str(amount), "term_months": term, "issued_on": business_date().isoformat()}
    contract = _rebuild(application, terms, catalogue, sources)
    if contract.sha256 not in application.get("contracts", {}):
        applications.issue_contract(application["application_id"], contract.sha256, terms)
    return contract


def accept(
    application_id: str,
    borrower_id: str,
    contract_sha256: str,
    *,
    applications: Applications,
    audit: Audit,
    resume: Resume,
    catalogue: Catalogue,
    sources: FundingSources,
) -> dict[str, Any]:
    """Accept exactly the issued contract ``contract_sha256``: once, before the offer's deadline; the same
    acceptance again answers as the first did, another one is AlreadyAccepted."""
    now = clock.now()
    application = applications.get_owned(application_id, borrower_id)
    previous = application.get("accepted")
    if previous:
        return _repeat(application, previous, contract_sha256)
    if _expired(application, now):
        raise OfferExpired(f"the offer of application {application_id} has expired")
    if application["status"] != Status.APPROVED.value or "acceptance_task_token" not in application:
        raise NotAwaitingAcceptance(f"application {application_id} has no offer open for acceptance")
    terms = application.get("contracts", {}).get(contract_sha256)
    if terms is None:
        raise ContractMismatch(f"{contract_sha256} is not a contract issued for application {application_id}")
    contract = _rebuild(application, dict(terms), catalogue, sources)
    document = contract.document
    accepted = {
        "contract_sha256": contract_sha256,
        "contract_id": contract.contract_id,
        "accepted_at": rfc3339_utc(now),
        "amount": document["amount"],
        "term_months": document["term_months"],
        "apr": document["apr"],
        "total_cost_of_credit": document["total_cost_of_credit"],
        "net_disbursement": document["net_disbursement"],
    }
    if not applications.record_acceptance(application_id, contract_sha256, accepted):
        current = applications.get(application_id)
        if current.get("accepted"):
            return _repeat(current, current["accepted"], contract_sha256)
        raise OfferExpired(f"the offer of application {application_id} is no longer open")
    audit.append(
        application_id,
        "contract_accepted",
        now,
        {"contract_sha256": contract_sha256, "amount": accepted["amount"], "term_months": accepted["term_months"]},
    )
    if not resume(application["acceptance_task_token"], {"contract_sha256": contract_sha256}):
        # The workflow's own deadline passed between our check and the resume: it ends the application EXPIRED.
        raise OfferExpired(f"the offer of application {application_id} expired before it could be accepted")
    return _answer(application_id, accepted)


def _repeat(application: dict[str, Any], previous: dict[str, Any], contract_sha256: str) -> dict[str, Any]:
    if previous["contract_sha256"] != contract_sha256:
        raise AlreadyAccepted(f"application {application['application_id']} accepted another contract")
    return _answer(application["application_id"], previous)


def _answer(application_id: str, accepted: dict[str, Any]) -> dict[str, Any]:
    return {
        "application_id": application_id,
        "contract_id": accepted["contract_id"],
        "contract_sha256": accepted["contract_sha256"],
        "accepted_at": accepted["accepted_at"],
        "amount": accepted["amount"],
        "term_months": int(accepted["term_months"]),
        "apr": accepted["apr"],
        "total_cost_of_credit": accepted["total_cost_of_credit"],
    }


def accepted_terms(application: dict[str, Any]) -> tuple[Money, int]:
    """The amount and term the borrower accepted: what is funded, paid out and booked. Nothing moves money for an
    application that accepted nothing."""
    accepted = application.get("accepted")
    if not accepted:
        raise NotAwaitingAcceptance(f"application {application['application_id']} has accepted no contract")
    return Money.of(accepted["amount"]), int(accepted["term_months"])
