"""The payout provider: sends money to the borrower's bank account, exactly once per idempotency key.

Wire contract
-------------
::

    POST {base_url}/v1/payouts
    Idempotency-Key: <1–255 visible ASCII characters; ours is derived from the application>
    Content-Type: application/json
    {"amount": "<decimal, 2 places, > 0>", "currency": "CNY", "bank_account": "<digits>",
     "reference": "<our reference: the application or drawdown id>"}

    201 {"payout_id": "…", "status": "paid" | "processing", "amount": "<as sent>", "currency": "CNY",
         "reference": "<as sent>", "created_at": "<RFC 3339 UTC>"}           the first time
    200 the same body, header Idempotent-Replayed: true                     the same key and body again
    409 {"error": {"code": "idempotency_conflict", …}}                      the same key with another body
    422 {"error": {"code": "account_rejected" | "invalid_request", …}}     the bank refused the account
    503 (or 429)                                                            try again later, same key

The provider keeps every key: a request repeated after a timeout, a 5xx or a crash on our side answers the payout
already made instead of paying again. That is what makes disbursement exactly-once: retry with the same key.

Failures are the payout's own (lending.errors): :class:`PayoutUnavailable` (retry with the same key) and
:class:`PayoutRejected` (the bank said no for good), the vendor errors of every client, named for what failed.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from lending.adapters.vendors.transport import VendorTransport
from lending.errors import PayoutRejected, PayoutUnavailable, VendorRejected, VendorUnavailable
from lending.money import Money

VENDOR = "payout_provider"
IDEMPOTENCY_HEADER = "Idempotency-Key"
_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


class PayoutStatus(StrEnum):
    """``paid``: the money left; ``processing``: accepted, the bank has not confirmed yet."""

    PAID = "paid"
    PROCESSING = "processing"


class Payout(BaseModel):
    """A payout the provider made (or is making) for one idempotency key."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    payout_id: Annotated[str, Field(min_length=1, max_length=255)]
    status: PayoutStatus
    amount: Money
    reference: str = ""
    created_at: AwareDatetime | None = None


class PayoutClient:
    """Pays out through the provider; retrying a call with the same idempotency key never pays twice."""

    def __init__(self, base_url: str, *, timeout: float = 10.0, api_key: str | None = None) -> None:
        self._http = VendorTransport(VENDOR, base_url, timeout=timeout, api_key=api_key)

    def pay(self, idempotency_key: str, amount: Money, bank_account: str, reference: str) -> Payout:
        """Pay ``amount`` to ``bank_account``; the same key returns the same payout, however often it is sent."""
        if not _IDEMPOTENCY_KEY.match(idempotency_key):
            raise ValueError("an idempotency key is 1 to 255 visible ASCII characters")
        if not amount.is_positive:
            raise ValueError("a payout amount must be positive")
        if not bank_account.isdigit():
            raise ValueError("a bank account number is digits")
        if not reference:
            raise ValueError("a payout needs our reference")
        try:
            response = self._http.send(
                "POST",
                "/v1/payouts",
                headers={IDEMPOTENCY_HEADER: idempotency_key},
                body={"amount": str(amount), "currency": "CNY", "bank_account": bank_account, "reference": reference},
                expect=(200, 201),
            )
            try:
                return Payout.model_validate(response.body)
            except ValidationError:
                raise self._http.malformed("payout", response.status) from None
        except VendorUnavailable as exc:
            raise PayoutUnavailable(
                exc.message, vendor=exc.vendor, status=exc.status, retry_after=exc.retry_after
            ) from None
        except VendorRejected as exc:
            raise PayoutRejected(
                exc.reason, exc.message, vendor=exc.vendor, status=exc.status, detail=exc.detail
            ) from None
