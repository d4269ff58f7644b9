"""The sandbox collection provider: debits by Idempotency-Key, then calls our payments webhook back, signed.

Decided by the bank account: ending ``3333`` every collection fails (``insufficient_funds``); ending ``4444`` the
first collection of each due amount (each ``reference``) fails and the next one succeeds; anything else is collected.
The wire contract is :mod:`lending.adapters.vendors.collections`'s, plus one sandbox-only inspection endpoint::

    GET /v1/collections?loan_id=<ours>   200 {"collections": [{"collection_id", "idempotency_key", "reference",
                                               "repayment_id", "loan_id", "amount", "status", "failure_reason",
                                               "bank_account_last4", "created_at"}, …]}

A request repeated with a key it has seen (a retry after a timeout, the answer lost) answers the collection already
made: no second debit, no second webhook. The webhook is delivered from a thread after ``callback_delay`` seconds,
retried on a 5xx or no answer, like the identity vendor's callbacks.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from infra.local.vendors.callbacks import CALLBACK_TIMEOUT_SECONDS, CallbackVendor
from infra.local.vendors.server import (
    Answer,
    Request,
    claim_key,
    idempotency_key,
    invalid,
    money_order,
    require_text,
    utc_now,
)
from lending.money import Money

logger = logging.getLogger(__name__)

FAILING_ACCOUNT_SUFFIX = "3333"
FIRST_FAILS_ACCOUNT_SUFFIX = "4444"
INSUFFICIENT_FUNDS = "insufficient_funds"


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class SandboxCollection:
    """A collection the sandbox made (or failed to make). Only the account's last four digits are kept."""

    collection_id: str
    idempotency_key: str
    reference: str
    repayment_id: str
    loan_id: str
    amount: Money
    succeeded: bool
    bank_account_last4: str
    created_at: datetime

    @property
    def failure_reason(self) -> str | None:
        return None if self.succeeded else INSUFFICIENT_FUNDS

    def to_json(self) -> dict[str, Any]:
        return {
            "collection_id": self.collection_id,
            "idempotency_key": self.idempotency_key,
            "reference": self.reference,
            "repayment_id": self.repayment_id,
            "loan_id": self.loan_id,
            "amount": str(self.amount),
            "currency": "CNY",
            "status": "succeeded" if self.succeeded else "failed",
            "failure_reason": self.failure_reason,
            "bank_account_last4": self.bank_account_last4,
            "created_at": _rfc3339(self.created_at),
        }

    def notice(self) -> bytes:
        """The payments webhook's body for this collection (one event id per collection)."""
        body = {
            "event_id": f"evt_{self.collection_id}",
            "loan_id": self.loan_id,
            "amount": str(self.amount),
            "paid_at": _rfc3339(self.created_at),
            "kind": "repayment",
            "repayment_id": self.repayment_id,
            "status": "succeeded" if self.succeeded else "failed",
            "failure_reason": self.failure_reason,
        }
        return json.dumps(body, separators=(",", ":")).encode()


class SandboxCollectionProvider(CallbackVendor):
    """Collections on loopback, idempotent by key, each outcome sent to the platform's webhook."""

    name = "collection_provider"
    secret_name = "payments webhook"

    def __init__(
        self,
        secret: bytes | str | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = None,
        callback_delay: float = 0.2,
        callback_attempts: int = 4,
        callback_backoff: float = 0.2,
        callback_timeout: float = CALLBACK_TIMEOUT_SECONDS,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        super().__init__(
            secret,
            host=host,
            port=port,
            api_key=api_key,
            callback_delay=callback_delay,
            callback_attempts=callback_attempts,
            callback_backoff=callback_backoff,
            callback_timeout=callback_timeout,
        )
        self._clock = clock
        self._collections: dict[str, SandboxCollection] = {}  # by idempotency key
        self._fingerprints: dict[str, str] = {}
        self._failed_references: set[str] = set()  # the 4444 accounts' due amounts whose first collection failed
        self._deliveries: list[tuple[str, int | None]] = []  # (repayment id, webhook status)
        self.route("POST", "/v1/collections", self._collect)
        self.route("GET", "/v1/collections", self._list)

    def collections(self, loan_id: str | None = None) -> list[SandboxCollection]:
        """Collections made, oldest first (all, or one loan's)."""
        with self._lock:
            made = sorted(self._collections.values(), key=lambda collection: collection.created_at)
        return [collection for collection in made if loan_id is None or collection.loan_id == loan_id]

    def deliveries(self) -> list[tuple[str, int | None]]:
        """Every webhook attempt: the repayment id and our webhook's HTTP status (None: no answer)."""
        with self._lock:
            return list(self._deliveries)

    # ------------------------------------------------------------------------------------------------------ routes

    def _collect(self, request: Request) -> Answer:
        key = idempotency_key(request)
        body = request.body
        problems: dict[str, str] = {}
        account, reference, amount = money_order(body, problems)
        repayment_id = require_text(body, "repayment_id", problems)
        loan_id = require_text(body, "loan_id", problems)
        notify_url = require_text(body, "notify_url", problems)
        parts = urllib.parse.urlsplit(notify_url)
        if notify_url and (parts.scheme not in ("http", "https") or not parts.netloc):
            problems["notify_url"] = "an absolute http(s) URL"
        if problems:
            raise invalid(problems)
        with self._lock:
            claim_key(self._fingerprints, key, str(amount), account, reference, repayment_id, loan_id)
            made = self._collections.get(key)
            if made is not None:
                logger.info("collection %s replayed for repayment %s", made.collection_id, repayment_id)
                return Answer(HTTPStatus.OK, self._wire(made), {"Idempotent-Replayed": "true"})
            succeeded = self._outcome(account, reference)
            made = SandboxCollection(
                collection_id=f"co_{uuid.uuid4().hex[:24]}",
                idempotency_key=key,
                reference=reference,
                repayment_id=repayment_id,
                loan_id=loan_id,
                amount=amount,
                succeeded=succeeded,
                bank_account_last4=account[-4:],
                created_at=self._clock(),
            )
            self._collections[key] = made
            self._schedule(made, notify_url)
        logger.info("collection %s for repayment %s: %s", made.collection_id, repayment_id, made.to_json()["status"])
        return Answer(HTTPStatus.CREATED, self._wire(made))

    def _outcome(self, account: str, reference: str) -> bool:
        """Whether this collection succeeds (called with the lock held)."""
        if account.endswith(FAILING_ACCOUNT_SUFFIX):
            return False
        if account.endswith(FIRST_FAILS_ACCOUNT_SUFFIX) and reference not in self._failed_references:
            self._failed_references.add(reference)
            return False
        return True

    @staticmethod
    def _wire(collection: SandboxCollection) -> dict[str, Any]:
        """The collection as the provider's API answers it: accepted, its outcome to come by webhook."""
        return {
            "collection_id": collection.collection_id,
            "status": "processing",
            "amount": str(collection.amount),
            "currency": "CNY",
            "reference": collection.reference,
            "repayment_id": collection.repayment_id,
            "created_at": _rfc3339(collection.created_at),
        }

    def _list(self, request: Request) -> Answer:
        loan_id = request.query.get("loan_id")
        return Answer(HTTPStatus.OK, {"collections": [c.to_json() for c in self.collections(loan_id)]})

    # -------------------------------------------------------------------------------------------------- callbacks

    def _schedule(self, collection: SandboxCollection, notify_url: str) -> None:
        """Deliver the collection's notice from a worker thread after the delay (called with the lock held)."""

        def attempted(attempt: int, status: int | None) -> None:
            with self._lock:
                self._deliveries.append((collection.repayment_id, status))

        self._call_back(collection.repayment_id, notify_url, collection.notice(), attempted)
