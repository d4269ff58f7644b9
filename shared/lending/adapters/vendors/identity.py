"""The identity-verification vendor: face match with liveness against the ID photo, and the ID number check.

Wire contract
-------------
Request a check::

    POST {base_url}/v1/checks
    Content-Type: application/json
    {"reference": "<our reference: the application id>",
     "callback_url": "<absolute http(s) URL of our identity webhook>",
     "applicant": {"name": "…", "id_number": "<18 characters>", "phone": "+86…"}}

    202 {"check_id": "<the vendor's id>", "reference": "<as sent>", "status": "pending"}
    409 {"error": {"code": "idempotency_conflict", …}}  the reference was used with another applicant
    422 {"error": {"code": "invalid_request", …}}       a field is missing or invalid

The vendor keys checks by ``reference``: asking again with the same reference and applicant answers the same
``check_id`` and delivers the same result again (same ``event_id``), so a retried request step is harmless.

The result, some time later, is POSTed to ``callback_url`` (:class:`lending.identity.IdentityNotice`)::

    Content-Type: application/json
    X-Signature: t=<unix seconds>,v1=<hex>     (see lending.webhooks; HMAC with the shared identity secret)
    {"event_id": "<unique per result>", "reference": "<as sent>", "result": "passed" | "failed",
     "face_match": <JSON number 0.0–1.0>, "liveness": true | false, "checked_at": "<RFC 3339 UTC>"}

Any 2xx acknowledges the result. On a 5xx, or no answer, the vendor retries a few times with the same body and
``event_id``, signed afresh; a 4xx is final (the vendor does not resend what we refused). Our webhook must therefore
be idempotent on ``event_id`` and check the signature before reading the body.
"""

from __future__ import annotations

import urllib.parse

from lending.adapters.vendors.applicant import subject
from lending.adapters.vendors.transport import VendorTransport
from lending.applicant import Person
from lending.identity import MAX_REFERENCE_LENGTH

VENDOR = "identity"


def _check_callback_url(url: str) -> None:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("the identity callback URL must be an absolute http(s) URL")


class IdentityVendorClient:
    """Asks the identity vendor to verify an applicant; the answer comes later through the signed webhook."""

    def __init__(self, base_url: str, *, timeout: float = 5.0, api_key: str | None = None) -> None:
        self._http = VendorTransport(VENDOR, base_url, timeout=timeout, api_key=api_key)

    def request_check(self, reference: str, callback_url: str, applicant: Person) -> str:
        """Start a check for ``applicant`` under ``reference``; returns the vendor's check id (idempotent)."""
        if not reference or len(reference) > MAX_REFERENCE_LENGTH:
            raise ValueError(f"a check reference is 1 to {MAX_REFERENCE_LENGTH} characters")
        _check_callback_url(callback_url)
        response = self._http.send(
            "POST",
            "/v1/checks",
            body={"reference": reference, "callback_url": callback_url, "applicant": subject(applicant)},
            expect=(202,),
        )
        check_id = response.body.get("check_id")
        if not isinstance(check_id, str) or not check_id:
            raise self._http.malformed("check acknowledgement", response.status)
        return check_id
