"""The borrower's acceptance of the offer: the workflow waits for it, the borrower reads the contract and signs it.

- ``await_acceptance`` (the workflow's ``.waitForTaskToken`` step) opens the offer for acceptance until its deadline
  and keeps the task token; nothing is reserved or paid before the borrower accepts.
- ``issue_contract`` renders the contract for the offer, or a smaller amount / shorter term within it, and keeps
  its hash (and the terms that rebuild it) on the application, so that only a contract issued can be accepted.
- ``accept`` records the acceptance of exactly that hash once, audits it, and resumes the workflow; the accepted
  amount and term are what the funding, the payout and the booking use (``accepted_terms``).
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

from lending import clock
from lending.audit import rfc3339_utc
from lending.calendar import business_date
from lending.catalogue import Catalogue
from lending.contract import (
    Contract,
    FundingPartner,
    canonical_bytes,
    chosen_terms,
    digest,
    largest_instalment,
    render,
)
from lending.errors import (
    AlreadyAccepted,
    ContractMismatch,
    NotAwaitingAcceptance,
    OfferExpired,
    ProductRuleViolation,
)
from lending.funding import FundingSources
from lending.money import Money
from lending.origination import Status
from lending.steps.ports import Applications, Audit, Resume

#: Statuses after an acceptance the workflow took up: the accepted contract is still shown, a repeat still answers.
_AFTER_ACCEPTANCE = frozenset({Status.DISBURSING, Status.DISBURSED, Status.LINE_OPENED, Status.FAILED})


def await_acceptance(
    application_id: str,
    task_token: str,
    timeout_seconds: int,
    *,
    applications: Applications,
    audit: Audit,
    resume: Resume,
) -> dict[str, str]:
    """Open the priced offer for acceptance until ``timeout_seconds`` from now (the workflow's own timeout on this
    state), keeping the token the acceptance resumes. A retry keeps the first deadline and the contracts issued;
    a retry after the borrower accepted (on the token of the attempt that failed) hands this attempt the
    acceptance at once, so an acceptance is never left waiting for a token nobody holds."""
    now = clock.now()
    application = applications.get(application_id)
    offer = dict(application["offer"])
    first = "expires_at" not in offer
    if first:
        offer["expires_at"] = offer_deadline(now, timeout_seconds)
    updates: dict[str, Any] = {"offer": offer, "acceptance_task_token": task_token}
    if "contracts" not in application:
        updates["contracts"] = {}
    current = applications.move(application_id, Status.APPROVED, updates)
    if first:
        audit.append(application_id, "offer_awaiting_acceptance", now, {"expires_at": offer["expires_at"]})
    if current.get("accepted"):
        resume(task_token, {"contract_sha256": current["accepted"]["contract_sha256"]})
    return {"application_id": application_id, "status": Status.APPROVED.value}


def offer_deadline(now: datetime, timeout_seconds: int) -> str:
    """When an offer awaiting acceptance for ``timeout_seconds`` expires: a little before the workflow's own
    timeout (which runs from the state's entry, before the step ran), so that an acceptance in time always finds
    the workflow still waiting. Shared by every offer a workflow waits on (a loan's, a restructure's)."""
    margin = min(60, timeout_seconds // 10)
    return rfc3339_utc(now + timedelta(seconds=timeout_seconds - margin))


def deadline_passed(expires_at: str | None, now: datetime) -> bool:
    """Whether an offer's ``expires_at`` (None: not open yet) has passed at ``now``."""
    return expires_at is not None and datetime.fromisoformat(expires_at) <= now


def _partners(sources: FundingSources) -> list[FundingPartner]:
    return [FundingPartner(p.name, p.share) for p in sources.partners]


def _expired(application: dict[str, Any], now: datetime) -> bool:
    if application["status"] == Status.EXPIRED.value:
        return True
    return deadline_passed((application.get("offer") or {}).get("expires_at"), now)


def _rebuild(
    application: dict[str, Any], terms: dict[str, Any], catalogue: Catalogue, sources: FundingSources
) -> Contract:
    """The contract an issued entry describes, as the code and data of today render it."""
    return render(
        application,
        catalogue,
        amount=Money.of(terms["amount"]),
        term_months=int(terms["term_months"]),
        issued_on=date.fromisoformat(terms["issued_on"]),
        expires_at=application["offer"]["expires_at"],
        partners=_partners(sources),
    )


def accepted_contract(application: dict[str, Any]) -> Contract:
    """The very document the borrower accepted, as kept with the acceptance."""
    document = json.loads(application["accepted"]["document"])
    return Contract(document, digest(document))


def issue_contract(
    application: dict[str, Any],
    amount: Money | None,
    term_months: int | None,
    *,
    applications: Applications,
    catalogue: Catalogue,
    sources: FundingSources,
) -> Contract:
    """The contract for the offer (or less of it) as of today; once accepted, the accepted one whatever is asked.

    Less of the offer never asks a larger instalment than the offer as it stands, which the decision assessed as
    affordable (a shorter term at the full limit would)."""
    if application.get("accepted"):
        return accepted_contract(application)
    application_id = application["application_id"]
    offer = application.get("offer") or {}
    if _expired(application, clock.now()):
        raise OfferExpired(f"the offer of application {application_id} has expired")
    if application["status"] != Status.APPROVED.value or "expires_at" not in offer:
        raise NotAwaitingAcceptance(f"application {application_id} has no offer open for acceptance")
    today = business_date().isoformat()
    amount, term = chosen_terms(offer, catalogue.product(offer["product"]), amount, term_months)
    terms = {"amount": str(amount), "term_months": term, "issued_on": today}
    contract = _rebuild(application, terms, catalogue, sources)
    if term != int(offer["term_months"]):
        whole = {"amount": offer["limit"], "term_months": int(offer["term_months"]), "issued_on": today}
        assessed = largest_instalment(_rebuild(application, whole, catalogue, sources))
        if largest_instalment(contract) > assessed:
            raise ProductRuleViolation(
                f"over {term} months an instalment would be {largest_instalment(contract)}, more than the "
                f"{assessed} the offer was assessed as affordable; take a smaller amount or a longer term"
            )
    if contract.sha256 not in application.get("contracts", {}):
        applications.issue_contract(application_id, contract.sha256, terms)
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
    """Accept exactly the issued contract ``contract_sha256``: once, on the day it was issued, before the offer's
    deadline; the same acceptance again answers as the first did, another one is AlreadyAccepted.

    The acceptance is recorded (with the document itself), audited, then hands the workflow its result. A workflow
    whose own deadline passed first refuses the result: the acceptance lapses (removed, audited) and the answer is
    offer_expired. A resume that failed otherwise is made again by the repeat, which the borrower's retry is.
    """
    now = clock.now()
    application = applications.get_owned(application_id, borrower_id)
    if application.get("accepted"):
        return _repeat(application, contract_sha256, audit=audit, applications=applications, resume=resume)
    if _expired(application, now):
        raise OfferExpired(f"the offer of application {application_id} has expired")
    if application["status"] != Status.APPROVED.value or "acceptance_task_token" not in application:
        raise NotAwaitingAcceptance(f"application {application_id} has no offer open for acceptance")
    terms = application.get("contracts", {}).get(contract_sha256)
    if terms is None:
        raise ContractMismatch(f"{contract_sha256} is not a contract issued for application {application_id}")
    contract = _rebuild(application, dict(terms), catalogue, sources)
    if terms["issued_on"] != business_date().isoformat() or contract.sha256 != contract_sha256:
        # Issued on another day (its schedule starts then), or the terms behind it changed since: read it again.
        raise ContractMismatch(f"contract {contract_sha256} is no longer current; read the contract again")
    document = contract.document
    accepted = {
        "contract_sha256": contract_sha256,
        "contract_id": contract.contract_id,
        "accepted_at": rfc3339_utc(now),
        "amount": document["amount"],
        "term_months": document["term_months"],
        "issued_on": document["issued_on"],
        "apr": document["apr"],
        "total_cost_of_credit": document["total_cost_of_credit"],
        "net_disbursement": document["net_disbursement"],
        "document": canonical_bytes(document).decode(),
    }
    if not applications.record_acceptance(application_id, contract_sha256, accepted):
        current = applications.get(application_id)
        if current.get("accepted"):
            return _repeat(current, contract_sha256, audit=audit, applications=applications, resume=resume)
        raise OfferExpired(f"the offer of application {application_id} is no longer open")
    audit.append(
        application_id,
        "contract_accepted",
        now,
        {"contract_sha256": contract_sha256, "amount": accepted["amount"], "term_months": accepted["term_months"]},
    )
    _hand_over(application, accepted, audit=audit, applications=applications, resume=resume)
    return _answer(application_id, accepted)


def _hand_over(
    application: dict[str, Any],
    accepted: dict[str, Any],
    *,
    audit: Audit,
    applications: Applications,
    resume: Resume,
) -> None:
    """Resume the waiting workflow with the acceptance. When the token is refused: past the deadline, the workflow
    has expired the offer and the acceptance lapses; otherwise a retried wait holds a newer token (and takes up an
    acceptance it finds on its own), which is resumed instead."""
    application_id = application["application_id"]
    result = {"contract_sha256": accepted["contract_sha256"]}
    token = application["acceptance_task_token"]
    if resume(token, result):
        return
    current = applications.get(application_id)
    if _expired(current, clock.now()):
        if applications.withdraw_acceptance(application_id, accepted["contract_sha256"]):
            audit.append(application_id, "contract_acceptance_lapsed", clock.now(), {"reason": "offer_expired"})
        raise OfferExpired(f"the offer of application {application_id} expired before it could be accepted")
    fresh = current.get("acceptance_task_token")
    if fresh and fresh != token:
        resume(fresh, result)


def _repeat(
    application: dict[str, Any],
    contract_sha256: str,
    *,
    audit: Audit,
    applications: Applications,
    resume: Resume,
) -> dict[str, Any]:
    """The same acceptance again: the first answer once the workflow took it up; while it still waits (a resume
    that failed), the resume made again."""
    previous = application["accepted"]
    if previous["contract_sha256"] != contract_sha256:
        raise AlreadyAccepted(f"application {application['application_id']} accepted another contract")
    if application["status"] == Status.APPROVED.value:
        _hand_over(application, previous, audit=audit, applications=applications, resume=resume)
    elif application["status"] not in _AFTER_ACCEPTANCE:
        raise OfferExpired(f"the offer of application {application['application_id']} has expired")
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
