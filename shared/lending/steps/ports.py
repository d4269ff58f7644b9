"""What the steps need from the outside world, as protocols: the adapters provide them, tests may fake them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from lending.audit import AuditEvent
from lending.origination import Status


class Applications(Protocol):
    """Application records (lending.adapters.applications.ApplicationRepository)."""

    def create(self, application: Mapping[str, Any]) -> bool: ...
    def get(self, application_id: str) -> dict[str, Any]: ...
    def move(
        self,
        application_id: str,
        target: Status,
        updates: Mapping[str, Any] | None = None,
        removes: tuple[str, ...] = (),
    ) -> dict[str, Any]: ...
    def set_fields(self, application_id: str, updates: Mapping[str, Any], only_once: str | None = None) -> bool: ...
    def queue_for_review(self, application_id: str, referred_at: str, task_token: str) -> dict[str, Any]: ...
    def review_queue(self, limit: int = 100) -> list[dict[str, Any]]: ...
    def record_review(self, application_id: str, decision: Mapping[str, Any]) -> dict[str, Any]: ...


class Audit(Protocol):
    """The audit chain (lending.adapters.audit_store.DynamoAuditStore)."""

    def append(self, subject: str, kind: str, occurred_at: datetime, data: Mapping[str, Any]) -> Any: ...


class AuditTrails(Protocol):
    """Reading a subject's audit chain (lending.adapters.audit_store.DynamoAuditStore)."""

    def events(self, subject: str) -> list[AuditEvent]: ...


class Loans(Protocol):
    """Loan records (lending.adapters.loans.LoanRepository)."""

    def get(self, loan_id: str) -> dict[str, Any]: ...
    def get_owned(self, loan_id: str, borrower_id: str) -> dict[str, Any]: ...


class Decrypt(Protocol):
    """Personal data fields of a record, decrypted (lending.adapters.pii.decrypt_fields)."""

    def __call__(self, record_id: str, ciphertexts: Mapping[str, Any], fields: tuple[str, ...]) -> dict[str, str]: ...


class Resume(Protocol):
    """Hand a waiting workflow task its result (lending.adapters.workflow.resume)."""

    def __call__(self, task_token: str, output: dict[str, Any]) -> bool: ...
