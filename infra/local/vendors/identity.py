"""The sandbox identity vendor: accepts checks, then calls our webhook back, signed, after a short delay.

Decided by the applicant's phone: ending ``0000`` the check fails (low face match, no liveness); ending ``0009``
the vendor never calls back; anything else passes, with a face match of 0.90–0.99 fixed by the ID number.
The wire contract is :mod:`lending.adapters.vendors.identity`'s.
"""

from __future__ import annotations

import hashlib
import json
import logging
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from http import HTTPStatus
from typing import Any

from infra.local.vendors.callbacks import CALLBACK_TIMEOUT_SECONDS, CallbackVendor
from infra.local.vendors.server import Answer, Request, SandboxError, invalid, require_text, utc_now

logger = logging.getLogger(__name__)

FAILING_PHONE_SUFFIX = "0000"
SILENT_PHONE_SUFFIX = "0009"
FAILED_FACE_MATCH = Decimal("0.31")


@dataclass(frozen=True)
class IdentityCheck:
    """A check the sandbox accepted; ``body`` is None for one it will never answer."""

    check_id: str
    reference: str
    applicant_fingerprint: str
    callback_url: str
    body: bytes | None


@dataclass(frozen=True)
class Delivery:
    """One attempt to deliver a result: HTTP status of our webhook's answer, or None when it did not answer."""

    reference: str
    event_id: str
    attempt: int
    status: int | None


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class SandboxIdentityVendor(CallbackVendor):
    """Identity checks on loopback, with signed callbacks retried on 5xx or no answer.

    Every attempt is recorded (:meth:`deliveries`) and logged; a callback that is never delivered (every attempt
    failed, or the vendor stopped first) is logged as such, so none is lost without a word. :meth:`settle` waits
    until the callbacks scheduled so far are over, after which none of them sends anything more.
    """

    name = "identity"
    secret_name = "identity webhook"

    def __init__(
        self,
        secret: bytes | str,
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
        self._checks: dict[str, IdentityCheck] = {}
        self._deliveries: list[Delivery] = []
        self._scheduled: Counter[str] = Counter()  # callbacks scheduled, by reference
        self.route("POST", "/v1/checks", self._request_check)

    def scheduled(self, reference: str) -> int:
        """How many callbacks were scheduled for ``reference`` (0 for an applicant whose vendor stays silent)."""
        with self._lock:
            return self._scheduled[reference]

    def deliveries(self, reference: str | None = None) -> list[Delivery]:
        """Callback attempts so far, oldest first (all, or for one reference)."""
        with self._lock:
            return [d for d in self._deliveries if reference is None or d.reference == reference]

    def check(self, reference: str) -> IdentityCheck | None:
        """The check accepted under ``reference``, if any."""
        with self._lock:
            return self._checks.get(reference)

    # ------------------------------------------------------------------------------------------------------ routes

    def _request_check(self, request: Request) -> Answer:
        body = request.body
        problems: dict[str, str] = {}
        reference = require_text(body, "reference", problems)
        callback_url = require_text(body, "callback_url", problems)
        applicant = body.get("applicant") if body is not None else None
        if not isinstance(applicant, dict):
            problems["applicant"] = "required object"
            applicant = {}
        name = require_text(applicant, "name", problems, prefix="applicant.")
        id_number = require_text(applicant, "id_number", problems, prefix="applicant.")
        phone = require_text(applicant, "phone", problems, prefix="applicant.")
        if len(reference) > 255:
            problems["reference"] = "at most 255 characters"
        parts = urllib.parse.urlsplit(callback_url)
        if callback_url and (parts.scheme not in ("http", "https") or not parts.netloc):
            problems["callback_url"] = "an absolute http(s) URL"
        if problems:
            raise invalid(problems)

        fingerprint = hashlib.sha256(f"{name}\x1f{id_number}\x1f{phone}".encode()).hexdigest()
        with self._lock:
            check = self._checks.get(reference)
            if check is None:
                check = IdentityCheck(
                    check_id=f"chk_{uuid.uuid4().hex[:24]}",
                    reference=reference,
                    applicant_fingerprint=fingerprint,
                    callback_url=callback_url,
                    body=self._result(reference, id_number, phone),
                )
                self._checks[reference] = check
            elif check.applicant_fingerprint != fingerprint:
                raise SandboxError(
                    HTTPStatus.CONFLICT,
                    "idempotency_conflict",
                    "This reference was used for a check of another applicant.",
                )
            if check.body is not None:
                self._schedule(reference, callback_url, check.body)
        logger.info("identity check %s accepted for reference %s", check.check_id, reference)
        return Answer(HTTPStatus.ACCEPTED, {"check_id": check.check_id, "reference": reference, "status": "pending"})

    def _result(self, reference: str, id_number: str, phone: str) -> bytes | None:
        """The callback body the check will deliver, or None when this applicant's vendor never answers."""
        if phone.endswith(SILENT_PHONE_SUFFIX):
            return None
        passed = not phone.endswith(FAILING_PHONE_SUFFIX)
        spread = hashlib.sha256(id_number.encode()).digest()[0] % 10
        face_match = Decimal("0.90") + Decimal(spread) / 100 if passed else FAILED_FACE_MATCH
        result: dict[str, Any] = {
            "event_id": f"evt_{uuid.uuid4().hex}",
            "reference": reference,
            "result": "passed" if passed else "failed",
            "face_match": float(face_match),
            "liveness": passed,
            "checked_at": _rfc3339(self._clock()),
        }
        return json.dumps(result, separators=(",", ":")).encode()

    # -------------------------------------------------------------------------------------------------- callbacks

    def _schedule(self, reference: str, callback_url: str, body: bytes) -> None:
        """Deliver ``body`` from a worker thread after the delay (called with the lock held)."""
        event_id = json.loads(body)["event_id"]

        def attempted(attempt: int, status: int | None) -> None:
            with self._lock:
                self._deliveries.append(Delivery(reference, event_id, attempt, status))

        self._scheduled[reference] += 1
        self._call_back(reference, callback_url, body, attempted)
