"""The payment provider's collections: debit the borrower's bound bank account, exactly once per idempotency key,
and tell us the outcome through our payments webhook.

Wire contract
-------------
::

    POST {base_url}/v1/collections
    Idempotency-Key: <1–255 visible ASCII characters; ours is derived from the repayment>
    Content-Type: application/json
    {"amount": "<decimal, 2 places, > 0>", "currency": "CNY", "bank_account": "<digits>",
     "reference": "<the due amount it collects: a repayment id, or <loan>/due/<date> for auto-debit>",
     "repayment_id": "<ours>", "loan_id": "<ours>", "notify_url": "<our payments webhook>"}

    201 {"collection_id": "…", "status": "processing", "amount": "<as sent>", "currency": "CNY",
         "reference": "<as sent>", "repayment_id": "<as sent>", "created_at": "<RFC 3339 UTC>"}   the first time
    200 the same body, header Idempotent-Replayed: true                            the same key and body again
    409 {"error": {"code": "idempotency_conflict", …}}                             the same key, another body
    422 {"error": {"code": "invalid_request", …}}                                  a request it cannot take
    503 (or 429)                                                                   try again later, same key

Once it has debited the account (or failed to), the provider POSTs our payments webhook at ``notify_url``, signed
with the payments secret (lending.webhooks): ``{"event_id", "loan_id", "amount", "paid_at", "kind": "repayment",
"repayment_id", "status": "succeeded" | "failed", "failure_reason"}``. It keeps every key: a request repeated after a
timeout (it collected, the answer was lost) answers the collection already made and never debits again.
"""

from __future__ import annotations

import re
import time
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from lending.adapters.vendors.transport import VendorTransport
from lending.errors import CollectionRejected, CollectionUnavailable, VendorRejected, VendorUnavailable
from lending.money import Money

VENDOR = "collection_provider"
IDEMPOTENCY_HEADER = "Idempotency-Key"
_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


class Collection(BaseModel):
    """A collection the provider accepted for one idempotency key; its outcome comes by webhook."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    collection_id: Annotated[str, Field(min_length=1, max_length=255)]
    status: Literal["processing"]
    amount: Money
    reference: str = ""
    repayment_id: str = ""
    created_at: AwareDatetime | None = None


class CollectionClient:
    """Asks the provider to collect; a call repeated with the same key never debits twice.

    A transient failure (no answer, 5xx, 429) is retried here with the same key, ``attempts`` times in all, after
    ``backoff`` seconds doubling each time; then :class:`CollectionUnavailable`, and the caller may ask again later
    with the same key."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 5.0,
        attempts: int = 3,
        backoff: float = 0.2,
        api_key: str | None = None,
    ) -> None:
        if attempts < 1:
            raise ValueError("a collection is attempted at least once")
        self._http = VendorTransport(VENDOR, base_url, timeout=timeout, api_key=api_key)
        self._attempts = attempts
        self._backoff = backoff

    def collect(
        self,
        idempotency_key: str,
        *,
        amount: Money,
        bank_account: str,
        reference: str,
        repayment_id: str,
        loan_id: str,
        notify_url: str,
    ) -> Collection:
        """Collect ``amount`` from ``bank_account``; the same key answers the same collection."""
        if not _IDEMPOTENCY_KEY.match(idempotency_key):
            raise ValueError("an idempotency key is 1 to 255 visible ASCII characters")
        if not amount.is_positive:
            raise ValueError("a collection amount must be positive")
        if not bank_account.isdigit():
            raise ValueError("a bank account number is digits")
        if not (reference and repayment_id and loan_id and notify_url):
            raise ValueError("a collection needs our reference, repayment, loan and webhook")
        body = {
            "amount": str(amount),
            "currency": "CNY",
            "bank_account": bank_account,
            "reference": reference,
            "repayment_id": repayment_id,
            "loan_id": loan_id,
            "notify_url": notify_url,
        }
        for attempt in range(1, self._attempts + 1):
            try:
                return self._send(idempotency_key, body)
            except CollectionUnavailable:
                if attempt == self._attempts:
                    raise
                time.sleep(self._backoff * 2 ** (attempt - 1))
        raise AssertionError("unreachable")  # pragma: no cover

    def _send(self, idempotency_key: str, body: dict[str, str]) -> Collection:
        try:
            response = self._http.send(
                "POST", "/v1/collections", headers={IDEMPOTENCY_HEADER: idempotency_key}, body=body, expect=(200, 201)
            )
            try:
                return Collection.model_validate(response.body)
            except ValidationError:
                raise self._http.malformed("collection", response.status) from None
        except VendorUnavailable as exc:
            raise CollectionUnavailable(
                exc.message, vendor=exc.vendor, status=exc.status, retry_after=exc.retry_after
            ) from None
        except VendorRejected as exc:
            raise CollectionRejected(
                exc.reason, exc.message, vendor=exc.vendor, status=exc.status, detail=exc.detail
            ) from None
