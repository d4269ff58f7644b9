"""Identity verification: ask the vendor with the task token kept, and resume the workflow from its webhook."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Protocol

from lending import clock
from lending.applicant import PERSON_FIELDS, Person
from lending.identity import IdentityNotice, IdentityOutcome
from lending.origination import Status
from lending.steps.ports import Applications, Audit, Decrypt, Resume


class IdentityVendor(Protocol):
    def request_check(self, reference: str, callback_url: str, applicant: Person) -> str: ...


def request_check(
    application_id: str,
    task_token: str,
    *,
    applications: Applications,
    audit: Audit,
    vendor: IdentityVendor,
    decrypt: Decrypt,
    callback_url: str,
) -> dict[str, str]:
    """Keep the task token, then send the check; the vendor's webhook hands the token its result."""
    now = clock.now()
    application = applications.get(application_id)
    applications.move(application_id, Status.VERIFYING_IDENTITY, {"identity_task_token": task_token})
    applicant = Person.model_validate(decrypt(application_id, application["pii"], PERSON_FIELDS))
    check_id = vendor.request_check(application_id, callback_url, applicant)
    applications.set_fields(application_id, {"identity_check_id": check_id})
    audit.append(application_id, "identity_check_requested", now, {"check_id": check_id})
    return {"application_id": application_id, "check_id": check_id}


def workflow_result(result: IdentityNotice) -> dict[str, Any]:
    """What the waiting workflow receives: plain facts, no personal data."""
    return {
        "passed": result.result is IdentityOutcome.PASSED,
        "face_match": str(result.face_match.quantize(Decimal("0.0001"))),
        "liveness": result.liveness,
        "checked_at": result.checked_at.isoformat(),
    }


def record_result(
    result: IdentityNotice, *, applications: Applications, audit: Audit, resume: Resume
) -> dict[str, Any]:
    """Record the vendor's result once per event and resume the workflow.

    A second copy of the same event records nothing, but resumes again: if the first copy stopped between the two,
    the workflow would otherwise wait until its deadline. Resuming a task that has moved on is a harmless no-op.
    """
    application = applications.get(result.reference)
    facts = workflow_result(result)
    first = applications.set_fields(
        result.reference, {"identity": facts, "identity_event_id": result.event_id}, only_once="identity_event_id"
    )
    if first:
        audit.append(result.reference, "identity_checked", clock.now(), {"passed": facts["passed"]})
    if application.get("status") != Status.VERIFYING_IDENTITY.value or not application.get("identity_task_token"):
        return {"accepted": True, "resumed": False}
    if not first:
        facts = applications.get(result.reference)["identity"]
    resumed = resume(application["identity_task_token"], facts)
    return {"accepted": True, "resumed": resumed}
