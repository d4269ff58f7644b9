"""Referral to an underwriter and the underwriter's decision, which resumes the waiting workflow."""

from __future__ import annotations

from typing import Any

from lending import clock
from lending.api.models import ReasonView, ReviewDecision, ReviewItem
from lending.audit import rfc3339_utc
from lending.origination import Status
from lending.steps.ports import Applications, Audit, Resume


def refer(application_id: str, task_token: str, *, applications: Applications, audit: Audit) -> dict[str, str]:
    """Put the application in the underwriters' queue and keep the token its decision will resume."""
    now = clock.now()
    application = applications.get(application_id)
    referred_at = application.get("referred_at") or rfc3339_utc(now)  # a retry keeps its place in the queue
    applications.queue_for_review(application_id, referred_at, task_token)
    if not application.get("referred_at"):
        audit.append(application_id, "referred_to_underwriter", now, {})
    return {"application_id": application_id, "status": Status.UNDER_REVIEW.value}


def review_item(application: dict[str, Any]) -> ReviewItem:
    """One queue entry: what an underwriter needs to decide."""
    decision = application.get("decision") or {}
    assessment = application.get("business_assessment") or {}
    return ReviewItem(
        application_id=application["application_id"],
        referred_at=application["referred_at"],
        product=application["product"],
        amount=application["amount"],
        score=decision.get("score"),
        risk_grade=decision.get("risk_grade"),
        reasons=[ReasonView(code=r["code"], message=r["text"]) for r in decision.get("reasons", [])],
        findings=[
            {"code": f["code"], "severity": f["severity"], "message": f["message"]}
            for f in assessment.get("findings", [])
        ],
    )


def decide_review(
    application_id: str,
    request: ReviewDecision,
    underwriter_id: str,
    *,
    applications: Applications,
    audit: Audit,
    resume: Resume,
) -> dict[str, Any]:
    """Record the decision once (a second one is a conflict) and resume the workflow with it."""
    now = clock.now()
    applications.get(application_id)  # an unknown id is a 404, not a conflict
    decided = applications.record_review(
        application_id,
        {"decision": request.decision, "note": request.note, "underwriter_id": underwriter_id, "at": rfc3339_utc(now)},
    )
    audit.append(application_id, "underwriter_decided", now, {"decision": request.decision})
    resume(decided["review_task_token"], {"decision": request.decision})
    return {"application_id": application_id, "status": decided["status"]}
