"""What the steps need from the outside world, as protocols: the adapters provide them, tests may fake them."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    # Annotations only: every step imports this module, and a step that never services a loan (the notification,
    # the identity steps) must not load servicing, the ledger and the catalogue at its Lambda init.
    from lending.anchoring import Anchor, Seal
    from lending.audit import AuditEvent
    from lending.ledger import Account, Transaction
    from lending.money import Money
    from lending.origination import Status
    from lending.portfolio import Cell, Figures, Roll
    from lending.serviced_loan import ServicedLoan
    from lending.servicing import Position


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
    def get_owned(self, application_id: str, borrower_id: str) -> dict[str, Any]: ...
    def issue_contract(self, application_id: str, sha256: str, terms: Mapping[str, Any]) -> None: ...
    def record_acceptance(self, application_id: str, sha256: str, accepted: Mapping[str, Any]) -> bool: ...
    def withdraw_acceptance(self, application_id: str, sha256: str) -> bool: ...


class Audit(Protocol):
    """The audit chain (lending.adapters.audit_store.DynamoAuditStore)."""

    def append(self, subject: str, kind: str, occurred_at: datetime, data: Mapping[str, Any]) -> Any: ...


class AuditTrails(Protocol):
    """Reading a subject's audit chain (lending.adapters.audit_store.DynamoAuditStore)."""

    def events(self, subject: str) -> list[AuditEvent]: ...
    def anchor(self, subject: str) -> Anchor | None: ...


class AuditChains(Protocol):
    """Every audit chain and its head, and each chain's anchors (lending.adapters.audit_store.DynamoAuditStore)."""

    def chains(self) -> Iterator[str]: ...
    def head(self, subject: str) -> AuditEvent | None: ...
    def record_anchor(self, anchor: Anchor) -> bool: ...


class Seals(Protocol):
    """The daily seals in the write-once bucket (lending.adapters.seal_store.S3SealStore)."""

    def get(self, day: date) -> Seal | None: ...
    def put(self, seal: Seal) -> bool: ...


class Loans(Protocol):
    """Loan records (lending.adapters.loans.LoanRepository)."""

    def get(self, loan_id: str) -> dict[str, Any]: ...
    def get_owned(self, loan_id: str, borrower_id: str) -> dict[str, Any]: ...
    def create(self, loan: dict[str, Any]) -> bool: ...


class Decrypt(Protocol):
    """Personal data fields of a record, decrypted (lending.adapters.pii.decrypt_fields)."""

    def __call__(self, record_id: str, ciphertexts: Mapping[str, Any], fields: tuple[str, ...]) -> dict[str, str]: ...


class Resume(Protocol):
    """Hand a waiting workflow task its result (lending.adapters.workflow.resume)."""

    def __call__(self, task_token: str, output: dict[str, Any]) -> bool: ...


class Ledger(Protocol):
    """The ledger (lending.adapters.ledger_store.DynamoLedgerStore)."""

    def record(self, transaction: Transaction, bounds: Any = None) -> bool: ...
    def reserve(self, transaction: Transaction, bounds: Any = None) -> bool: ...
    def post_pending(self, pending_id: str, post_id: str) -> bool: ...
    def void_pending(self, pending_id: str, void_id: str) -> bool: ...
    def balance(self, account: Account) -> Money: ...
    def pending_balance(self, account: Account) -> Money: ...
    def transaction(self, transaction_id: str) -> Transaction | None: ...


class Payouts(Protocol):
    """The payout provider (lending.adapters.vendors.payouts.PayoutClient): raises lending.errors'
    PayoutUnavailable (retry with the same key) or PayoutRejected (refused for good)."""

    def pay(self, idempotency_key: str, amount: Money, bank_account: str, reference: str) -> Any: ...


class LoanStore(Protocol):
    """Serviced loans (lending.adapters.servicing.LoanServicingStore): ``save`` raises lending.errors'
    ConcurrentChange, writing nothing, when the loan changed since it was read."""

    @property
    def ledger(self) -> Ledger: ...
    def load(self, loan_id: str) -> ServicedLoan: ...
    def save(
        self,
        loan: ServicedLoan,
        *,
        changes: Mapping[str, Any],
        position: Position | None,
        transaction: Transaction | None,
        audit: tuple[str, datetime, Mapping[str, Any]] | None,
    ) -> None: ...


class DueLoans(LoanStore, Protocol):
    """A loan store that can list the loans with something due or overdue on a day (the DueLoans index)."""

    def due(self, day: date) -> Iterator[str]: ...


class PortfolioFigures(Protocol):
    """The portfolio's running figures and snapshots (lending.adapters.portfolio)."""

    def cells(self) -> list[tuple[Cell, Figures]]: ...
    def rolls(self, month: str) -> list[tuple[Roll, int]]: ...
    def previous(self, day: date) -> dict[str, Any] | None: ...
    def save_snapshot(self, snapshot: Mapping[str, Any]) -> None: ...
