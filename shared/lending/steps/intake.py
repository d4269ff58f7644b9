"""Application intake: store the application with its personal data encrypted, then start the workflow.

Safe to retry: the application id derives from the borrower and the Idempotency-Key, so a retried request that
got past the idempotency record (a crash in between) writes nothing new and starts no second execution.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Protocol

from lending import clock
from lending.api.models import ApplicationRequest
from lending.audit import rfc3339_utc
from lending.origination import Status
from lending.steps.ports import Applications, Audit


class Encrypt(Protocol):
    def __call__(self, record_id: str, values: dict[str, str]) -> dict[str, bytes]: ...


class StartWorkflow(Protocol):
    def __call__(self, application_id: str) -> None: ...


def application_id_for(borrower_id: str, idempotency_key: str) -> str:
    """A stable id for one borrower's one request."""
    digest = hashlib.sha256(f"{borrower_id}\x1f{idempotency_key}".encode()).hexdigest()
    return f"app_{digest[:26]}"


def submit_application(
    request: ApplicationRequest,
    borrower_id: str,
    idempotency_key: str,
    *,
    applications: Applications,
    audit: Audit,
    encrypt: Encrypt,
    start_workflow: StartWorkflow,
    now: datetime | None = None,
) -> dict[str, str]:
    """Store the application (RECEIVED) and start its origination; returns the 202 body."""
    now = now or clock.now()
    application_id = application_id_for(borrower_id, idempotency_key)
    applicant = request.applicant
    pii = encrypt(
        application_id,
        {
            "name": applicant.name,
            "id_number": applicant.id_number,
            "phone": applicant.phone,
            "bank_account": applicant.bank_account,
        },
    )
    created = applications.create(
        {
            "application_id": application_id,
            "borrower_id": borrower_id,
            "created_at": rfc3339_utc(now),
            "status": Status.RECEIVED.value,
            "product": request.product,
            "amount": str(request.amount),
            "term_months": request.term_months,
            "method": request.method.value if request.method else None,
            "purpose": request.purpose,
            "business": request.business.model_dump(mode="json"),
            "consent": request.consent.model_dump(mode="json"),
            "human_review": request.human_review,
            "pii": pii,
        }
    )
    if created:
        audit.append(
            application_id,
            "application_received",
            now,
            {"product": request.product, "amount": str(request.amount), "term_months": request.term_months},
        )
    start_workflow(application_id)
    return {"application_id": application_id, "status": Status.RECEIVED.value}
