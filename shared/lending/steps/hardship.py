"""Hardship relief, end to end: a borrower asks, an underwriter decides, the borrower accepts the restructured
plan as a new contract, and the loan is restructured (the HardshipFlow workflow, one execution per request).

A request moves ``UNDER_REVIEW → APPROVED (offer waiting for acceptance) → RESTRUCTURED``, or ends ``DECLINED``
(by the underwriter, or its APR would be above the cap) or ``EXPIRED`` (a deadline passed), with a reason. A loan
has at most one request open: opening one claims the loan in the same write (lending.adapters.hardship), so of two
at once exactly one wins and the other is ``hardship_in_progress``; the claim is released when the request ends.

The acceptance is the origination's mechanism (lending.steps.acceptance): the workflow waits on a task token, the
offer expires a little before the workflow's own timeout, the borrower accepts exactly the hash of the canonical
document (lending.contract), the acceptance is recorded once and audited, then resumes the workflow; an acceptance
the workflow refuses after its deadline lapses.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol

from lending import clock
from lending.api.models import (
    ContractScheduleRow,
    HardshipContractView,
    HardshipOfferView,
    HardshipReviewItem,
    HardshipView,
    ReliefPlanSummary,
)
from lending.audit import rfc3339_utc
from lending.calendar import business_date
from lending.catalogue import Catalogue
from lending.classification import observation_ends
from lending.contract import Contract, canonical_bytes, digest, render_restructure
from lending.errors import (
    AlreadyAccepted,
    ContractMismatch,
    HardshipNotFound,
    IdempotencyConflict,
    LoanClosed,
    LoanNotFound,
    LoanWrittenOff,
    MakerCheckerViolation,
    NotAwaitingAcceptance,
    OfferExpired,
    ReliefNotAvailable,
    StatusConflict,
)
from lending.restructuring import ReliefKind, Restructure, RestructuredPlan
from lending.serviced_loan import ServicedLoan
from lending.servicing import LoanTerms, difference, relief_plan, replay
from lending.steps.acceptance import deadline_passed, offer_deadline
from lending.steps.daily_close import grade as grade_of
from lending.steps.daily_close import restructures as restructures_of
from lending.steps.ports import Audit, LoanStore, Resume
from lending.steps.servicing import redo

REQUEST_PREFIX = "hr_"
#: The underwriters' queue the requests wait in (the sparse HardshipQueue index's partition).
QUEUE = "hardship"


class RequestStatus(StrEnum):
    UNDER_REVIEW = "UNDER_REVIEW"
    APPROVED = "APPROVED"
    RESTRUCTURED = "RESTRUCTURED"
    DECLINED = "DECLINED"
    EXPIRED = "EXPIRED"


ENDED = frozenset({RequestStatus.RESTRUCTURED, RequestStatus.DECLINED, RequestStatus.EXPIRED})


class HardshipRequests(Protocol):
    """Hardship requests and each loan's claim by its open request (lending.adapters.hardship)."""

    def find(self, request_id: str) -> dict[str, Any] | None: ...
    def get(self, request_id: str) -> dict[str, Any]: ...
    def open(self, request: Mapping[str, Any]) -> bool: ...
    def update(
        self,
        request_id: str,
        updates: Mapping[str, Any],
        *,
        status_in: tuple[str, ...],
        absent: str | None = None,
        removes: tuple[str, ...] = (),
    ) -> dict[str, Any] | None: ...
    def close(self, request: Mapping[str, Any], status: str, updates: Mapping[str, Any]) -> bool: ...
    def queue(self, limit: int = 100) -> list[dict[str, Any]]: ...


Publish = Callable[[str, Mapping[str, Any]], None]  # (detail type, detail) on the lending event bus


def is_request_id(identifier: str) -> bool:
    """A hardship request's id (an application's starts ``app_``)."""
    return identifier.startswith(REQUEST_PREFIX)


def request_id_for(borrower_id: str, loan_id: str, idempotency_key: str) -> str:
    """The same borrower, loan and Idempotency-Key always name the same request."""
    raw = json.dumps([borrower_id, loan_id, idempotency_key]).encode()
    return REQUEST_PREFIX + hashlib.sha256(raw).hexdigest()[:26]


def _fingerprint(kind: str, months: int, reason: str) -> str:
    return hashlib.sha256(json.dumps([kind, months, reason]).encode()).hexdigest()


def plan_summary(plan: RestructuredPlan) -> dict[str, Any]:
    """What the underwriter and the borrower see of a plan before its contract."""
    rows = [p.instalment for p in plan.instalments]
    return {
        "on": plan.on.isoformat(),
        "instalments": len(rows),
        "first_due_date": rows[0].due_date.isoformat(),
        "last_due_date": rows[-1].due_date.isoformat(),
        "largest_instalment": str(max(r.total for r in rows)),
        "principal": str(plan.principal),
        "holiday_interest": str(plan.holiday_interest),
        "total_interest": str(plan.total_interest),
        "total_repayable": str(plan.total_repayable),
        "apr": f"{plan.apr:.4f}",
    }


def request_relief(
    loan_id: str,
    borrower_id: str,
    kind: ReliefKind,
    months: int,
    reason: str,
    idempotency_key: str,
    *,
    store: LoanStore,
    requests: HardshipRequests,
    catalogue: Catalogue,
    audit: Audit,
    start: Callable[[str], None],
) -> dict[str, Any]:
    """Open a request for relief on the borrower's own loan and start its workflow; the same key again answers as
    the first time did (another body under it is idempotency_conflict). Refused: a line, a closed or written-off loan,
    a loan with a request open."""
    loan = store.load(loan_id)
    if loan.record.get("borrower_id") != borrower_id:
        raise LoanNotFound(f"no loan {loan_id}")
    request_id = request_id_for(borrower_id, loan_id, idempotency_key)
    fingerprint = _fingerprint(kind.value, months, reason)
    existing = requests.find(request_id)
    if existing is None:
        today = business_date()
        terms = _terms(loan, catalogue)
        plan = relief_plan(terms, loan.events, today, kind, months, rate_cap=None)
        now = clock.now()
        request = {
            "request_id": request_id,
            "loan_id": loan_id,
            "borrower_id": borrower_id,
            "application_id": loan.chain,
            "product": loan.record["product"],
            "kind": kind.value,
            "months": months,
            "reason": reason,
            "requested_by": borrower_id,
            "requested_at": rfc3339_utc(now),
            "fingerprint": fingerprint,
            "status": RequestStatus.UNDER_REVIEW.value,
            "days_past_due": replay(terms, loan.events, loan.through(loan.events, today)).days_past_due,
            "proposal": plan_summary(plan),
        }
        if requests.open(request):
            audit.append(loan.chain, "hardship_requested", now, {"request_id": request_id, "kind": kind.value})
        existing = requests.get(request_id)
    if existing["fingerprint"] != fingerprint:
        raise IdempotencyConflict("this Idempotency-Key was used for another hardship request")
    if existing["status"] == RequestStatus.UNDER_REVIEW.value:
        start(request_id)  # named by the request: a repeat (after a failed start) starts it once
    # The first answer again, whatever became of the request since (GET …/hardship/{request_id} follows it).
    return {"request_id": request_id, "status": RequestStatus.UNDER_REVIEW.value}


def _terms(loan: ServicedLoan, catalogue: Catalogue) -> LoanTerms:
    """The loan's terms, or the refusal that says why it cannot have relief."""
    status = str(loan.record.get("status") or "ACTIVE")
    if status == "WRITTEN_OFF":
        raise LoanWrittenOff(f"loan {loan.loan_id} was written off")
    if status == "CLOSED":
        raise LoanClosed(f"loan {loan.loan_id} is repaid")
    if catalogue.product(str(loan.record["product"])).kind == "revolving":
        raise ReliefNotAvailable(f"{loan.loan_id} is a credit line: relief is for instalment loans")
    return LoanTerms.from_record(loan.record, catalogue)


def owned_request(requests: HardshipRequests, loan_id: str, request_id: str, borrower_id: str) -> dict[str, Any]:
    """The borrower's own request on that loan; anything else is exactly as if it did not exist."""
    request = requests.find(request_id) if is_request_id(request_id) else None
    if request is None or request["loan_id"] != loan_id or request["borrower_id"] != borrower_id:
        raise HardshipNotFound(f"no hardship request {request_id} on loan {loan_id}")
    return request


# The workflow's steps


def await_review(request_id: str, task_token: str, *, requests: HardshipRequests) -> dict[str, str]:
    """Put the request in the underwriters' queue with the token their decision resumes (a retry keeps its place:
    the queue is ordered by when it was asked)."""
    updated = requests.update(
        request_id,
        {"review_queue": QUEUE, "review_task_token": task_token},
        status_in=(RequestStatus.UNDER_REVIEW.value,),
        absent="review",
    )
    if updated is None:
        raise StatusConflict(f"hardship request {request_id} is no longer waiting for a review")
    return {"request_id": request_id, "status": RequestStatus.UNDER_REVIEW.value}


def decide(
    request_id: str,
    decision: str,
    note: str,
    underwriter_id: str,
    *,
    requests: HardshipRequests,
    audit: Audit,
    resume: Resume,
) -> dict[str, str]:
    """The underwriter's decision, once; never by the person who raised the request (maker-checker)."""
    request = requests.get(request_id)
    if underwriter_id == request["requested_by"]:
        raise MakerCheckerViolation("the person who raised a hardship request may not decide it")
    now = clock.now()
    review = {"decision": decision, "note": note, "underwriter_id": underwriter_id, "at": rfc3339_utc(now)}
    decided = requests.update(
        request_id,
        {"review": review},
        status_in=(RequestStatus.UNDER_REVIEW.value,),
        absent="review",
        removes=("review_queue",),
    )
    if decided is None or "review_task_token" not in decided:
        raise StatusConflict(f"hardship request {request_id} is not waiting for a decision")
    audit.append(request["application_id"], "hardship_decided", now, {"request_id": request_id, "decision": decision})
    resume(decided["review_task_token"], {"decision": decision})
    return {"request_id": request_id, "status": decided["status"]}


def offer_relief(
    request_id: str,
    task_token: str,
    timeout_seconds: int,
    *,
    requests: HardshipRequests,
    store: LoanStore,
    catalogue: Catalogue,
    rate_cap: Decimal,
    audit: Audit,
    publish: Publish,
) -> dict[str, str]:
    """Build the restructured plan from the loan's standing today and offer it as a contract until the deadline,
    keeping the token the acceptance resumes. RateCapExceeded (the workflow declines the request) when its APR
    would be above the cap. A retry keeps the first offer and its deadline."""
    request = requests.get(request_id)
    offer = request.get("offer")
    now = clock.now()
    if offer is None:
        loan = store.load(request["loan_id"])
        today = business_date()
        plan = relief_plan(
            _terms(loan, catalogue),
            loan.events,
            today,
            ReliefKind(request["kind"]),
            int(request["months"]),
            rate_cap=rate_cap,
        )
        contract = render_restructure(
            loan.record, request_id, plan, catalogue, expires_at=offer_deadline(now, timeout_seconds)
        )
        offer = {
            "on": today.isoformat(),
            "expires_at": contract.document["expires_at"],
            "contract_sha256": contract.sha256,
            "contract_id": contract.contract_id,
            "apr": contract.document["apr"],
            "summary": plan_summary(plan),
            "document": canonical_bytes(contract.document).decode(),
        }
    updated = requests.update(
        request_id,
        {"status": RequestStatus.APPROVED.value, "offer": offer, "acceptance_task_token": task_token},
        status_in=(RequestStatus.UNDER_REVIEW.value, RequestStatus.APPROVED.value),
    )
    if updated is None:
        raise StatusConflict(f"hardship request {request_id} has ended")
    if request.get("offer") is None:
        audit.append(
            request["application_id"],
            "hardship_offered",
            now,
            {"request_id": request_id, "contract_sha256": offer["contract_sha256"], "apr": offer["apr"]},
        )
        publish("HardshipDecided", _decided(request, "approved", None) | {"apr": offer["apr"]})
    return {"request_id": request_id, "status": RequestStatus.APPROVED.value}


def _decided(request: Mapping[str, Any], outcome: str, reason: str | None) -> dict[str, Any]:
    return {
        "request_id": request["request_id"],
        "loan_id": request["loan_id"],
        "kind": request["kind"],
        "months": int(request["months"]),
        "outcome": outcome,
        "reason": reason,
    }


def offered_contract(request: Mapping[str, Any]) -> Contract:
    """The contract offered, exactly as it was issued (its document is kept with the offer)."""
    offer = request.get("offer")
    if request["status"] == RequestStatus.EXPIRED.value and offer is not None:
        raise OfferExpired(f"the offer of hardship request {request['request_id']} has expired")
    if offer is None:
        raise NotAwaitingAcceptance(f"hardship request {request['request_id']} has no offer")
    document = json.loads(offer["document"])
    return Contract(document, digest(document))


def accept_relief(
    request: Mapping[str, Any], contract_sha256: str, *, requests: HardshipRequests, audit: Audit, resume: Resume
) -> dict[str, Any]:
    """Accept exactly the offered contract, once, before its deadline; the same acceptance again answers as the
    first did, another is already_accepted. Recorded, audited, then the workflow resumes; a workflow whose own
    deadline passed first refuses it: the acceptance lapses and the answer is offer_expired."""
    request_id = request["request_id"]
    now = clock.now()
    if request.get("accepted"):
        return _repeat(request, contract_sha256, requests=requests, resume=resume)
    offer = request.get("offer") or {}
    if request["status"] == RequestStatus.EXPIRED.value or deadline_passed(offer.get("expires_at"), now):
        raise OfferExpired(f"the offer of hardship request {request_id} has expired")
    if request["status"] != RequestStatus.APPROVED.value or "acceptance_task_token" not in request:
        raise NotAwaitingAcceptance(f"hardship request {request_id} has no offer open for acceptance")
    if contract_sha256 != offer["contract_sha256"]:
        raise ContractMismatch(f"{contract_sha256} is not the contract offered for hardship request {request_id}")
    accepted = {"contract_sha256": contract_sha256, "accepted_at": rfc3339_utc(now)}
    current = requests.update(
        request_id, {"accepted": accepted}, status_in=(RequestStatus.APPROVED.value,), absent="accepted"
    )
    if current is None:
        latest = requests.get(request_id)
        if latest.get("accepted"):
            return _repeat(latest, contract_sha256, requests=requests, resume=resume)
        raise OfferExpired(f"the offer of hardship request {request_id} is no longer open")
    audit.append(
        request["application_id"],
        "hardship_contract_accepted",
        now,
        {"request_id": request_id, "contract_sha256": contract_sha256},
    )
    _hand_over(current, requests=requests, resume=resume)
    return _answer(current)


def _hand_over(request: Mapping[str, Any], *, requests: HardshipRequests, resume: Resume) -> None:
    """Resume the waiting workflow; refused after the deadline, the acceptance lapses (offer_expired); refused
    otherwise, a retried wait holds a newer token, which is resumed instead."""
    token = request["acceptance_task_token"]
    result = {"contract_sha256": request["accepted"]["contract_sha256"]}
    if resume(token, result):
        return
    current = requests.get(request["request_id"])
    offer = current.get("offer") or {}
    if current["status"] == RequestStatus.EXPIRED.value or deadline_passed(offer.get("expires_at"), clock.now()):
        requests.update(request["request_id"], {}, status_in=(RequestStatus.APPROVED.value,), removes=("accepted",))
        raise OfferExpired(f"the offer of hardship request {request['request_id']} expired before it was accepted")
    fresh = current.get("acceptance_task_token")
    if fresh and fresh != token:
        resume(fresh, result)


def _repeat(
    request: Mapping[str, Any], contract_sha256: str, *, requests: HardshipRequests, resume: Resume
) -> dict[str, Any]:
    if request["accepted"]["contract_sha256"] != contract_sha256:
        raise AlreadyAccepted(f"hardship request {request['request_id']} accepted another contract")
    if request["status"] == RequestStatus.APPROVED.value:
        _hand_over(request, requests=requests, resume=resume)
    elif request["status"] != RequestStatus.RESTRUCTURED.value:
        raise OfferExpired(f"the offer of hardship request {request['request_id']} has expired")
    return _answer(request)


def _answer(request: Mapping[str, Any]) -> dict[str, Any]:
    offer = request["offer"]
    return {
        "request_id": request["request_id"],
        "contract_id": offer["contract_id"],
        "contract_sha256": request["accepted"]["contract_sha256"],
        "accepted_at": request["accepted"]["accepted_at"],
        "apr": offer["apr"],
        "status": request["status"],
    }


def apply_restructure(
    request_id: str,
    *,
    requests: HardshipRequests,
    store: LoanStore,
    catalogue: Catalogue,
    publish: Publish,
) -> dict[str, str]:
    """Restructure the loan from the offer's day: one servicing write adds the restructure to the loan's
    ``servicing.restructures`` (its inputs, and the loan's classification before it) with the audit event
    ``restructured``, and posts what the new plan changes in the books (the restructure moves no money). Safe to
    retry: a restructure already on the loan is not added again."""
    request = requests.get(request_id)
    if not request.get("accepted"):
        raise NotAwaitingAcceptance(f"hardship request {request_id} accepted nothing")
    on = date.fromisoformat(request["offer"]["on"])

    def work(loan: ServicedLoan) -> None:
        recorded = list(loan.state.get("restructures") or [])
        if any(r["request_id"] == request_id for r in recorded):
            return
        restructure = Restructure(
            request_id, ReliefKind(request["kind"]), int(request["months"]), on, loan.state.get("classification")
        )
        recorded.append(restructure.to_record())
        record = {**loan.record, "servicing": {**loan.state, "restructures": recorded}}
        terms = LoanTerms.from_record(record, catalogue)
        today = business_date()
        through = loan.through(loan.events, today)
        position = replay(terms, loan.events, through)
        # Graded at once (at least special mention, substandard if it was non-performing), not at its next due date,
        # months away after a holiday: the allowance follows the grade from today.
        watched = restructures_of(record["servicing"])
        grade = grade_of(position, today, terms, record["servicing"])
        if grade is not terms.classification:
            terms = replace(terms, classification=grade)
            position = replay(terms, loan.events, through)
        latest = max(watched, key=lambda r: r.on)
        store.save(
            loan,
            changes={
                "restructures": recorded,
                "classification": grade.value,
                "classified_on": today.isoformat(),
                "observation_ends": observation_ends(latest, terms.rules).isoformat(),
            },
            position=position,
            transaction=difference(
                f"{loan.loan_id}/restructure/{request_id}",
                "restructure",
                today,
                loan.booked,
                position.booked,
                f"loan {loan.loan_id}",
            ),
            audit=(
                "restructured",
                clock.now(),
                {
                    "request_id": request_id,
                    "kind": restructure.kind.value,
                    "months": restructure.months,
                    "on": on.isoformat(),
                    "contract_sha256": request["accepted"]["contract_sha256"],
                    "class_before": restructure.class_before,
                },
            ),
        )

    redo(store, request["loan_id"], work)
    if requests.close(request, RequestStatus.RESTRUCTURED.value, {"restructured_on": on.isoformat()}):
        publish(
            "LoanRestructured",
            {
                "request_id": request_id,
                "loan_id": request["loan_id"],
                "kind": request["kind"],
                "months": int(request["months"]),
                "on": on.isoformat(),
                "contract_sha256": request["accepted"]["contract_sha256"],
            },
        )
    return {"request_id": request_id, "status": RequestStatus.RESTRUCTURED.value}


def end_request(
    request_id: str, status: RequestStatus, reason: str, *, requests: HardshipRequests, audit: Audit, publish: Publish
) -> dict[str, str]:
    """End a request DECLINED or EXPIRED with its reason, releasing the loan for another; once."""
    request = requests.get(request_id)
    now = clock.now()
    if requests.close(request, status.value, {"outcome": {"reason": reason, "at": rfc3339_utc(now)}}):
        audit.append(
            request["application_id"],
            "hardship_ended",
            now,
            {"request_id": request_id, "status": status.value, "reason": reason},
        )
        if status is RequestStatus.DECLINED:
            publish("HardshipDecided", _decided(request, "declined", reason))
    return {"request_id": request_id, "status": requests.get(request_id)["status"]}


# What the API shows


def hardship_view(request: Mapping[str, Any]) -> HardshipView:
    offer = request.get("offer")
    return HardshipView(
        request_id=request["request_id"],
        loan_id=request["loan_id"],
        kind=request["kind"],
        months=int(request["months"]),
        reason=request["reason"],
        status=request["status"],
        requested_at=request["requested_at"],
        proposal=ReliefPlanSummary(**request["proposal"]),
        decision=(request.get("review") or {}).get("decision"),
        outcome_reason=(request.get("outcome") or {}).get("reason"),
        offer=None
        if offer is None
        else HardshipOfferView(
            contract_id=offer["contract_id"],
            contract_sha256=offer["contract_sha256"],
            apr=offer["apr"],
            expires_at=offer["expires_at"],
            plan=ReliefPlanSummary(**offer["summary"]),
        ),
        accepted_at=(request.get("accepted") or {}).get("accepted_at"),
        restructured_on=request.get("restructured_on"),
    )


def contract_view(contract: Contract, language: str) -> HardshipContractView:
    d = contract.document
    return HardshipContractView(
        contract_id=contract.contract_id,
        sha256=contract.sha256,
        language="en" if language == "en" else "zh-CN",
        apr=d["apr"],
        total_cost_of_credit=d["total_cost_of_credit"],
        total_interest=d["total_interest"],
        total_fees=d["total_fees"],
        total_repayable=d["total_repayable"],
        holiday_interest=d["holiday_interest"],
        text=contract.text(language),
        kind=d["relief"]["kind"],
        months=int(d["relief"]["months"]),
        amount=d["amount"],
        schedule=[ContractScheduleRow(**row) for row in d["schedule"]],
        expires_at=d["expires_at"],
        document=dict(d),
    )


def review_item(request: Mapping[str, Any]) -> HardshipReviewItem:
    return HardshipReviewItem(
        request_id=request["request_id"],
        loan_id=request["loan_id"],
        requested_at=request["requested_at"],
        product=request["product"],
        kind=request["kind"],
        months=int(request["months"]),
        reason=request["reason"],
        days_past_due=int(request["days_past_due"]),
        proposal=ReliefPlanSummary(**request["proposal"]),
    )
