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

import http.client
import json
import logging
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from infra.local.vendors.server import (
    Answer,
    Request,
    SandboxServer,
    claim_key,
    idempotency_key,
    invalid,
    money_order,
    require_text,
    utc_now,
)
from lending.money import Money
from lending.webhooks import SIGNATURE_HEADER, sign

logger = logging.getLogger(__name__)

FAILING_ACCOUNT_SUFFIX = "3333"
FIRST_FAILS_ACCOUNT_SUFFIX = "4444"
INSUFFICIENT_FUNDS = "insufficient_funds"
CALLBACK_TIMEOUT_SECONDS = 30.0


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


class SandboxCollectionProvider(SandboxServer):
    """Collections on loopback, idempotent by key, each outcome sent to the platform's webhook."""

    name = "collection_provider"

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
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        super().__init__(host=host, port=port, api_key=api_key)
        self._secret = b""
        if secret is not None:
            self.secret = secret
        self.callback_delay = callback_delay
        self.callback_attempts = callback_attempts
        self.callback_backoff = callback_backoff
        self._clock = clock
        self._lock = threading.Lock()
        self._collections: dict[str, SandboxCollection] = {}  # by idempotency key
        self._fingerprints: dict[str, str] = {}
        self._failed_references: set[str] = set()  # the 4444 accounts' due amounts whose first collection failed
        self._deliveries: list[tuple[str, int | None]] = []  # (repayment id, webhook status)
        self._workers: set[threading.Thread] = set()
        self._stopping = threading.Event()
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        self.route("POST", "/v1/collections", self._collect)
        self.route("GET", "/v1/collections", self._list)

    @property
    def secret(self) -> bytes:
        """The payments webhook secret the notices are signed with (set once the stack has created it)."""
        return self._secret

    @secret.setter
    def secret(self, value: bytes | str) -> None:
        secret = value.encode() if isinstance(value, str) else bytes(value)
        if not secret:
            raise ValueError("the payments webhook secret must not be empty")
        self._secret = secret

    def collections(self, loan_id: str | None = None) -> list[SandboxCollection]:
        """Collections made, oldest first (all, or one loan's)."""
        with self._lock:
            made = sorted(self._collections.values(), key=lambda collection: collection.created_at)
        return [collection for collection in made if loan_id is None or collection.loan_id == loan_id]

    def deliveries(self) -> list[tuple[str, int | None]]:
        """Every webhook attempt: the repayment id and our webhook's HTTP status (None: no answer)."""
        with self._lock:
            return list(self._deliveries)

    def start(self) -> None:
        self._stopping.clear()
        super().start()

    def stop(self) -> None:
        """Stop taking collections, abandon pending notices and wait for the delivery threads."""
        self._stopping.set()
        super().stop()
        self.settle(timeout=CALLBACK_TIMEOUT_SECONDS + 1)

    def settle(self, timeout: float = 60.0) -> bool:
        """Wait until every notice scheduled so far was delivered or given up; whether they all ended in time."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                workers = list(self._workers)
            if not workers:
                return True
            for worker in workers:
                worker.join(max(0.0, deadline - time.monotonic()))
            if time.monotonic() >= deadline:
                with self._lock:
                    return not self._workers

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
        worker = threading.Thread(
            target=self._deliver,
            args=(collection, notify_url),
            name=f"collection-notice-{collection.collection_id}",
            daemon=True,
        )
        self._workers.add(worker)
        worker.start()

    def _deliver(self, collection: SandboxCollection, notify_url: str) -> None:
        body = collection.notice()
        try:
            if self._stopping.wait(self.callback_delay):
                return
            for attempt in range(1, self.callback_attempts + 1):
                status = self._post(notify_url, body)
                with self._lock:
                    self._deliveries.append((collection.repayment_id, status))
                logger.info("collection notice for %s, attempt %d: %s", collection.repayment_id, attempt, status)
                if status is not None and status < 500:
                    return
                if attempt < self.callback_attempts and self._stopping.wait(self.callback_backoff * 2 ** (attempt - 1)):
                    return
            logger.warning("collection notice for %s gave up after %d attempts", collection.repayment_id, attempt)
        except Exception:  # a bug here must not end the thread without a word
            logger.exception("collection notice for %s failed", collection.repayment_id)
        finally:
            with self._lock:
                self._workers.discard(threading.current_thread())

    def _post(self, notify_url: str, body: bytes) -> int | None:
        """POST the signed notice; our webhook's HTTP status, or None if it did not answer."""
        if not self._secret:
            logger.warning("collection notice not sent: no payments webhook secret set")
            return None
        request = urllib.request.Request(
            notify_url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", SIGNATURE_HEADER: sign(self._secret, body, int(time.time()))},
        )
        try:
            with self._opener.open(request, timeout=CALLBACK_TIMEOUT_SECONDS) as response:
                response.read()
                return int(response.status)
        except urllib.error.HTTPError as error:
            error.close()
            return int(error.code)
        except (urllib.error.URLError, OSError, http.client.HTTPException):
            return None
