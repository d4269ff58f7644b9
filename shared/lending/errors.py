"""Every failure the domain reports, one class each, with a stable machine-readable code.

The API maps these to its error body in one place; the workflow's Retry/Catch clauses name the classes.
"""

from __future__ import annotations


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


# Raised by the DynamoDB adapters (lending.adapters.*, which still export them under these names). They live here
# so that code naming them (the API's error mapping, a step's except clause) needs no adapter module, and with it
# no AWS client code, imported.


class ApplicationNotFound(LendingError):
    """No such application (or not the caller's: the API cannot tell the two apart, on purpose)."""

    code = "not_found"


class StatusConflict(LendingError):
    """The application is not in a status this change may come from."""

    code = "conflict"


class AuditContention(LendingError):
    """Other writers kept taking the next link of a chain; the append did not happen and may be retried."""

    code = "audit_contention"


class BalanceBoundExceeded(LendingError):
    """A write would take an account's posted + pending credit balance above its bound (a quota, a credit limit)."""

    code = "balance_bound_exceeded"


class LedgerContention(LendingError):
    """DynamoDB kept cancelling a write for concurrent transactions on the same items; safe to retry later."""

    code = "ledger_contention"
