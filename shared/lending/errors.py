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


class UnbalancedTransaction(LendingError, ValueError):
    """A ledger transaction whose postings do not sum to zero."""

    code = "unbalanced_transaction"


class TransactionConflict(LendingError):
    """A transaction id seen before with different content (the same id and content is a no-op)."""

    code = "transaction_conflict"


class PendingTransferError(LendingError):
    """A post or void of a pending transfer that does not exist or is already resolved."""

    code = "pending_transfer_error"
