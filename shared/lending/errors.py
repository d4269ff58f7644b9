"""Every failure the workflows and the API react to, one class each, with a stable machine-readable code.

The API maps ``code`` to its error body in one place (lending.api.http); the state machines' Retry/Catch clauses
name the classes (a Lambda's error type is the class's name, so a class named there keeps its name). The adapters
raise these too, translated from what AWS or a vendor said, so a step names a failure without importing an adapter.
What stays elsewhere is a module's own input check that nothing reacts to but a fix (a malformed policy or model).
"""

from __future__ import annotations

from collections.abc import Collection
from enum import StrEnum


class LendingError(Exception):
    """Base of the domain's errors: ``code`` is machine readable, the message is for a person."""

    code = "lending_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidAmount(LendingError, ValueError):
    """An amount that is not an exact decimal CNY value."""

    code = "invalid_amount"


class InvalidRate(LendingError, ValueError):
    """A rate that is not an exact, non-negative decimal."""

    code = "invalid_rate"


class CatalogueError(LendingError, ValueError):
    """The product catalogue is malformed, or a request names something it does not contain."""

    code = "catalogue_error"


class ProductRuleViolation(LendingError, ValueError):
    """A request outside the product's rules: amount, term, method, grace period."""

    code = "product_rule_violation"


class RateCapExceeded(LendingError):
    """An offer whose annual rate or APR is above the legal cap; such an offer cannot be created."""

    code = "rate_cap_exceeded"


class AssessmentInputError(LendingError, ValueError):
    """Bank statements, tax filings or source data that cannot be assessed as given."""

    code = "invalid_assessment_input"


class UnbalancedTransaction(LendingError, ValueError):
    """A ledger transaction whose postings do not sum to zero."""

    code = "unbalanced_transaction"


class TransactionConflict(LendingError):
    """A transaction id seen before with different content (the same id and content is a no-op)."""

    code = "transaction_conflict"


class PendingTransferError(LendingError):
    """A post or void of a pending transfer that does not exist or is already resolved."""

    code = "pending_transfer_error"


class InvalidIdNumber(LendingError, ValueError):
    """An identity number that fails a check; the message names the check and never the number."""

    code = "invalid_id_number"


# Origination


class ApplicationNotFound(LendingError):
    """No such application (or not the caller's: the API cannot tell the two apart, on purpose)."""

    code = "not_found"


class StatusConflict(LendingError):
    """The application is not in a status this change may come from."""

    code = "conflict"


class OfferRefused(LendingError):
    """No offer can be made within the rate cap or the product's rules: the application is declined."""

    code = "offer_refused"


class NotAwaitingAcceptance(LendingError):
    """The application has no offer open for acceptance (not yet approved, still being priced, or ended)."""

    code = "not_awaiting_acceptance"


class ContractMismatch(LendingError):
    """The hash accepted is not that of a contract issued for this application."""

    code = "contract_mismatch"


class OfferExpired(LendingError):
    """The offer's acceptance deadline has passed."""

    code = "offer_expired"


class AlreadyAccepted(LendingError):
    """The application accepted another contract before."""

    code = "already_accepted"


class TooManyContracts(LendingError):
    """The application has been issued as many contract variants as it may keep."""

    code = "too_many_contracts"


class NoFundingAvailable(LendingError):
    """No source (or pair of sources) has enough quota left to fund the amount."""

    code = "no_funding_available"


# Stores (raised by the DynamoDB adapters)


class ConcurrentChange(LendingError):
    """A write conditioned on what was read found it changed by another writer first: nothing was written; read
    again and redo the work. ``changed``: which of the writes made together found their record changed (their
    positions, in the order the caller gave them; empty when not known)."""

    code = "concurrent_change"

    def __init__(self, message: str, changed: Collection[int] = ()) -> None:
        super().__init__(message)
        self.changed = frozenset(changed)


class AuditContention(LendingError):
    """Other writers kept taking the next link of a chain; the append did not happen and may be retried."""

    code = "audit_contention"


class BalanceBoundExceeded(LendingError):
    """A write would take an account's posted + pending credit balance above its bound (a quota, a credit limit)."""

    code = "balance_bound_exceeded"


class LedgerContention(LendingError):
    """DynamoDB kept cancelling a write for concurrent transactions on the same items; safe to retry later."""

    code = "ledger_contention"


# Servicing


class ReportNotFound(LendingError):
    """No reconciliation report is kept for the day asked for."""

    code = "report_not_found"


class LoanNotFound(LendingError):
    """No such loan, or not the caller's."""

    code = "not_found"


class IdempotencyConflict(LendingError):
    """An Idempotency-Key used before with another body."""

    code = "idempotency_conflict"


class ServicingContention(LendingError):
    """The loan kept changing under this write; nothing was written and the request may be retried."""

    code = "servicing_contention"


class UnplaceablePayment(LendingError):
    """A payment that cannot be applied to the loan it names (dated before the loan existed, or no such loan)."""

    code = "unplaceable_payment"


class PaidAtInFuture(LendingError):
    """A payment notice dated later than the platform's clock allows: money cannot arrive after now."""

    code = "paid_at_in_future"


class PayoffDateInPast(LendingError):
    """A payoff asked for a day before today: what was owed then is history, not a quote."""

    code = "invalid_request"


class DrawdownRefused(LendingError):
    """A drawdown over the available limit, or on a frozen line."""

    code = "drawdown_refused"


class DrawdownNotPayable(LendingError):
    """The drawdown is not funded, or was released: it cannot be disbursed."""

    code = "drawdown_not_payable"


class PayoutMade(LendingError):
    """A compensation was asked for a drawdown whose payout is recorded as made."""

    code = "payout_made"


# Vendors. A call fails in one of two ways the workflow tells apart: unavailable (connection refused or reset,
# timeout, HTTP 5xx, 408 or 429, an answer we could not read: the outcome is unknown or transient, and retrying is
# safe because every call that changes something carries an idempotency key), or rejected (the vendor answered and
# said no; the same request gets the same answer). Messages name the vendor, the HTTP status and the reason only:
# never the request, never personal data.


class VendorError(LendingError):
    """Base of every vendor failure."""

    code = "vendor_error"

    def __init__(self, message: str, *, vendor: str = "", status: int | None = None) -> None:
        super().__init__(message)
        self.vendor = vendor
        self.status = status


class VendorUnavailable(VendorError):
    """Transient: the vendor did not answer, or answered 5xx, 408 or 429. The workflow retries."""

    code = "vendor_unavailable"

    def __init__(
        self,
        message: str,
        *,
        vendor: str = "",
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, vendor=vendor, status=status)
        self.retry_after = retry_after


class VendorRejected(VendorError):
    """Permanent: the vendor refused the request (a 4xx other than 408 and 429). ``reason`` is its machine-readable
    code (``error.code`` of its body, else ``http_<status>``); its own message is kept in ``detail``, out of
    ``str(error)``."""

    code = "vendor_rejected"

    def __init__(
        self,
        reason: str,
        message: str | None = None,
        *,
        vendor: str = "",
        status: int | None = None,
        detail: str | None = None,
    ) -> None:
        super().__init__(
            message or f"{vendor or 'the vendor'} rejected the request: {reason}", vendor=vendor, status=status
        )
        self.reason = reason
        self.detail = detail


class PayoutUnavailable(VendorUnavailable):
    """The payout provider could not be reached or answered with a transient error: retry with the same key."""

    code = "payout_unavailable"


class PayoutRejected(VendorRejected):
    """The bank refused the payout for good (closed account, wrong name): nothing was paid."""

    code = "payout_rejected"


# Webhooks


class SignatureFailure(StrEnum):
    """Which check a webhook signature failed."""

    MISSING = "missing"
    MALFORMED = "malformed"
    STALE = "stale"
    FUTURE = "future"
    MISMATCH = "mismatch"


class InvalidSignature(LendingError):
    """A webhook whose signature is missing, malformed, outside the time tolerance, or wrong: answer 401."""

    code = "invalid_signature"

    def __init__(self, reason: SignatureFailure, message: str) -> None:
        super().__init__(message)
        self.reason = reason


# Collections (repay from the app, auto-debit)


class ExceedsPayoff(LendingError):
    """A repayment asked for more than repays the whole loan today: nothing is collected."""

    code = "exceeds_payoff"


class CollectionUnavailable(VendorUnavailable):
    """The payment provider could not be reached or answered with a transient error: ask again with the same key
    (if it did collect, the key makes the retry that same collection)."""

    code = "collection_unavailable"


class CollectionRejected(VendorRejected):
    """The provider refused to start the collection (a malformed request, an account it cannot debit)."""

    code = "collection_rejected"


class WriteOffRefused(LendingError):
    """The loan cannot be written off by hand: it is closed, already written off, or a write-off waits already."""

    code = "write_off_refused"


class NoWriteOffPending(LendingError):
    """Nobody asked to write the loan off, or the request was decided already."""

    code = "no_write_off_pending"


# Hardship relief (lending.steps.hardship)


class HardshipNotFound(LendingError):
    """No such hardship request on this loan (or not the caller's)."""

    code = "not_found"


class HardshipInProgress(LendingError):
    """The loan has a hardship request still open: one at a time."""

    code = "hardship_in_progress"


class ReliefNotAvailable(LendingError):
    """Relief is for instalment loans: a credit line is repaid any time and drawn only while in good standing."""

    code = "relief_not_available"


class LoanClosed(LendingError):
    """The loan is repaid: there is nothing to relieve."""

    code = "loan_closed"


class LoanWrittenOff(LendingError):
    """The loan was written off: relief no longer applies (it is in recovery)."""

    code = "loan_written_off"


class MakerCheckerViolation(LendingError):
    """The person who raised a request may not decide it."""

    code = "maker_checker_violation"
