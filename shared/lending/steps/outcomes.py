"""Terminal outcomes the workflow records itself (expired, failed), and what the borrower is told."""

from __future__ import annotations

from typing import Any

from lending import clock
from lending.origination import Status
from lending.steps.ports import Applications, Audit

#: What a borrower reads for each status; no amounts, no personal data.
MESSAGES = {
    Status.DISBURSED: "Your loan has been paid out to your bank account.",
    Status.LINE_OPENED: "Your credit line is open: draw on it any time in the app.",
    Status.DECLINED: "We cannot offer you a loan this time. The app shows the main reasons.",
    Status.EXPIRED: "Your application expired before it could be completed. You are welcome to apply again.",
    Status.FAILED: "We could not pay out your loan. Nothing was charged; please check your bank details.",
    Status.UNDER_REVIEW: "A member of our team is looking at your application.",
}


def record_outcome(
    application_id: str, status: Status, error: dict[str, Any] | None, *, applications: Applications, audit: Audit
) -> dict[str, str]:
    """Move the application to EXPIRED or FAILED, keeping the workflow's error name (never its cause text)."""
    if status not in (Status.EXPIRED, Status.FAILED):
        raise ValueError(f"the workflow records only EXPIRED and FAILED, not {status}")
    now = clock.now()
    reason = str((error or {}).get("Error", "unknown"))
    before = applications.get(application_id)
    applications.move(application_id, status, {"failure_reason": reason})
    if before["status"] != status.value:
        audit.append(application_id, f"application_{status.value.lower()}", now, {"reason": reason})
    return {"application_id": application_id, "status": status.value}


def notification_for(application: dict[str, Any]) -> dict[str, str] | None:
    """The message for the application's current status, or None when there is nothing to say."""
    status = Status(application["status"])
    if status not in MESSAGES:
        return None
    return {
        "application_id": application["application_id"],
        "borrower_id": application["borrower_id"],
        "status": status.value,
        "message": MESSAGES[status],
    }
