"""Signed webhooks: how a vendor signs what it sends us, and how we check it before believing a byte of it.

Header ``X-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>…]``, where each ``<hex>`` is the lowercase hex
HMAC-SHA256, keyed with a secret shared with the sender, over ``f"{t}.".encode() + raw_body``. Several ``v1``
values may be present while a sender rotates its secret; the receiver may likewise hold several secrets (the current
and the previous one). Schemes other than ``v1`` are ignored, so a sender can add a stronger one later.

A request is authentic when some ``v1`` matches some secret and ``t`` lies within ``tolerance`` seconds of the
receiver's clock, in either direction (a replayed old request and a forged future one are both refused). Every
failure raises :class:`InvalidSignature`, whose ``reason`` says which check failed (safe to log: it never holds
the body, the header or a secret). Pure: no clock, no I/O; the caller passes ``now``.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

from lending.errors import InvalidSignature, SignatureFailure

SIGNATURE_HEADER = "X-Signature"
DEFAULT_TOLERANCE_SECONDS = 300
SCHEME = "v1"

#: A header longer than this, or with more signatures, is not one a sender would make: refuse it unread.
MAX_HEADER_LENGTH = 2048
MAX_SIGNATURES = 8
_HEX_DIGITS = frozenset("0123456789abcdef")
_DIGEST_HEX_LENGTH = hashlib.sha256().digest_size * 2


def _digest(secret: bytes, body: bytes, timestamp: int) -> str:
    return hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign(secret: bytes, body: bytes, timestamp: int) -> str:
    """The ``X-Signature`` header value for ``body`` sent at ``timestamp`` (unix seconds)."""
    if not secret:
        raise ValueError("a webhook secret must not be empty")
    if timestamp < 0:
        raise ValueError("a webhook timestamp is unix seconds, never negative")
    return f"t={timestamp},{SCHEME}={_digest(secret, body, timestamp)}"


def _parse(header: str) -> tuple[int, list[str]]:
    """The timestamp and the ``v1`` signatures of a header; raises on anything a sender would not write."""
    if len(header) > MAX_HEADER_LENGTH:
        raise InvalidSignature(SignatureFailure.MALFORMED, "the signature header is too long")
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(","):
        key, separator, value = item.strip().partition("=")
        if not separator or not key:
            raise InvalidSignature(SignatureFailure.MALFORMED, "the signature header is not a list of key=value")
        if key == "t":
            if timestamp is not None or not value.isascii() or not value.isdigit() or len(value) > 12:
                raise InvalidSignature(SignatureFailure.MALFORMED, "the signature header needs one t=<unix seconds>")
            timestamp = int(value)
        elif key == SCHEME:
            signature = value.lower()
            if len(signature) != _DIGEST_HEX_LENGTH or not set(signature) <= _HEX_DIGITS:
                raise InvalidSignature(SignatureFailure.MALFORMED, f"a {SCHEME} signature is not a SHA-256 hex digest")
            signatures.append(signature)
    if timestamp is None:
        raise InvalidSignature(SignatureFailure.MALFORMED, "the signature header has no t=<unix seconds>")
    if not signatures:
        raise InvalidSignature(SignatureFailure.MALFORMED, f"the signature header has no {SCHEME} signature")
    if len(signatures) > MAX_SIGNATURES:
        raise InvalidSignature(SignatureFailure.MALFORMED, "the signature header has too many signatures")
    return timestamp, signatures


def verify(
    header: str | None,
    body: bytes,
    secrets: Sequence[bytes],
    now: int,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
) -> None:
    """Return if ``header`` signs ``body`` with one of ``secrets`` within ``tolerance`` s of ``now``; else raise."""
    if header is None or not header.strip():
        raise InvalidSignature(SignatureFailure.MISSING, f"the {SIGNATURE_HEADER} header is missing")
    timestamp, signatures = _parse(header)
    if timestamp < now - tolerance:
        raise InvalidSignature(SignatureFailure.STALE, "the webhook was signed too long ago")
    if timestamp > now + tolerance:
        raise InvalidSignature(SignatureFailure.FUTURE, "the webhook is signed with a time in the future")
    matched = False
    for secret in secrets:
        if not secret:
            continue  # an unset secret must never verify anything
        expected = _digest(secret, body, timestamp).encode()
        for signature in signatures:
            # Every pair is compared, in constant time each, so timing says nothing about which one matched.
            matched |= hmac.compare_digest(expected, signature.encode())
    if not matched:
        raise InvalidSignature(SignatureFailure.MISMATCH, "no signature matches a known secret")
