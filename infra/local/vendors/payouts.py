"""The sandbox payout provider: pays by Idempotency-Key, and keeps a record a test can check.

Decided by the bank account: ending ``0000`` the bank rejects it (422 ``account_rejected``); ending ``1111`` the
first two attempts of each key answer 503 and the third pays; anything else pays at once. The first payout into
each account is noted in the sandbox bank's book (:mod:`infra.local.vendors.bank_book`), which the early-warning
triggers read. The wire contract is
:mod:`lending.adapters.vendors.payouts`'s, plus one sandbox-only inspection endpoint::

    GET /v1/payouts?reference=<ours>   200 {"payouts": [{"payout_id", "idempotency_key", "status", "amount",
                                                         "currency", "reference", "bank_account_last4",
                                                         "created_at"}, …]}
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from infra.local.vendors.bank_book import SandboxBankBook
from infra.local.vendors.server import (
    Answer,
    Request,
    SandboxError,
    SandboxServer,
    claim_key,
    idempotency_key,
    invalid,
    money_order,
    utc_now,
)
from lending.calendar import business_date
from lending.money import Money

logger = logging.getLogger(__name__)

REJECTED_ACCOUNT_SUFFIX = "0000"
FLAKY_ACCOUNT_SUFFIX = "1111"
FLAKY_FAILURES = 2


@dataclass(frozen=True)
class SandboxPayout:
    """A payout the sandbox made. Only the account's last four digits are kept."""

    payout_id: str
    idempotency_key: str
    reference: str
    amount: Money
    bank_account_last4: str
    created_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "payout_id": self.payout_id,
            "idempotency_key": self.idempotency_key,
            "status": "paid",
            "amount": str(self.amount),
            "currency": "CNY",
            "reference": self.reference,
            "bank_account_last4": self.bank_account_last4,
            "created_at": self.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }


class SandboxPayoutProvider(SandboxServer):
    """Payouts on loopback, idempotent by key, with an in-memory record of every payout made."""

    name = "payout_provider"

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = None,
        clock: Callable[[], datetime] = utc_now,
        book: SandboxBankBook | None = None,
    ) -> None:
        super().__init__(host=host, port=port, api_key=api_key)
        self._clock = clock
        self.book = book if book is not None else SandboxBankBook()
        self._lock = threading.Lock()
        self._payouts: dict[str, SandboxPayout] = {}  # by idempotency key
        self._fingerprints: dict[str, str] = {}  # the body first sent with each key
        self._attempts: dict[str, int] = {}
        self.route("POST", "/v1/payouts", self._pay)
        self.route("GET", "/v1/payouts", self._list)

    def payouts(self, reference: str | None = None) -> list[SandboxPayout]:
        """Payouts made, oldest first (all, or for one reference)."""
        with self._lock:
            made = sorted(self._payouts.values(), key=lambda payout: payout.created_at)
        return [payout for payout in made if reference is None or payout.reference == reference]

    def attempts(self, idempotency_key: str) -> int:
        """How many well-formed requests arrived with this key."""
        with self._lock:
            return self._attempts.get(idempotency_key, 0)

    def _pay(self, request: Request) -> Answer:
        key = idempotency_key(request)
        problems: dict[str, str] = {}
        account, reference, amount = money_order(request.body, problems)
        if problems:
            raise invalid(problems)
        with self._lock:
            claim_key(self._fingerprints, key, str(amount), account, reference)
            made = self._payouts.get(key)
            if made is not None:
                logger.info("payout %s replayed for reference %s", made.payout_id, reference)
                return Answer(HTTPStatus.OK, self._wire(made), {"Idempotent-Replayed": "true"})
            attempt = self._attempts[key] = self._attempts.get(key, 0) + 1
            if account.endswith(FLAKY_ACCOUNT_SUFFIX) and attempt <= FLAKY_FAILURES:
                logger.info("payout for reference %s: transient failure %d", reference, attempt)
                return Answer(
                    HTTPStatus.SERVICE_UNAVAILABLE,
                    {"error": {"code": "temporarily_unavailable", "message": "Try again shortly."}},
                    {"Retry-After": "0"},
                )
            if account.endswith(REJECTED_ACCOUNT_SUFFIX):
                logger.info("payout for reference %s rejected by the bank", reference)
                raise SandboxError(
                    HTTPStatus.UNPROCESSABLE_ENTITY, "account_rejected", "The receiving bank rejected the account."
                )
            made = SandboxPayout(
                payout_id=f"po_{uuid.uuid4().hex[:24]}",
                idempotency_key=key,
                reference=reference,
                amount=amount,
                bank_account_last4=account[-4:],
                created_at=self._clock(),
            )
            self._payouts[key] = made
            self.book.paid(account, business_date(made.created_at))
        logger.info("payout %s of %s made for reference %s", made.payout_id, amount, reference)
        return Answer(HTTPStatus.CREATED, self._wire(made))

    @staticmethod
    def _wire(payout: SandboxPayout) -> dict[str, Any]:
        """The payout as the provider's API answers it (the inspection fields left out)."""
        body = payout.to_json()
        del body["idempotency_key"], body["bank_account_last4"]
        return body

    def _list(self, request: Request) -> Answer:
        reference = request.query.get("reference")
        return Answer(HTTPStatus.OK, {"payouts": [payout.to_json() for payout in self.payouts(reference)]})
