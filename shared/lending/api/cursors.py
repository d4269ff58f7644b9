"""Opaque list cursors: where the next page starts, signed so a client can neither read nor forge one.

A cursor is ``<payload>.<mac>``, both base64url without padding: the payload is the JSON position (a DynamoDB key's
plain values, or an offset into a derived list); the MAC is HMAC-SHA256 over the list it belongs to (``scope``: which
list, and for whom: the borrower's subject and, for a loan's list, the loan) and the payload. A cursor made for one
borrower's list is refused on any other list, so a client cannot turn it into another borrower's key; anything that
does not verify is a :class:`BadCursor` (the API's 422 naming ``cursor``), never a read.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping

#: Longer than any cursor this module makes (a key of three short strings, signed): refused unread.
MAX_CURSOR_CHARS = 1024


class BadCursor(ValueError):
    """A cursor that was not made by this API for this list."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: bytes, scope: str, payload: str) -> bytes:
    return hmac.new(secret, f"{scope}\n{payload}".encode(), hashlib.sha256).digest()


def encode(position: Mapping[str, str | int], *, scope: str, secret: bytes) -> str:
    """The cursor of ``position`` on the list ``scope``."""
    payload = _b64(json.dumps(dict(position), sort_keys=True, separators=(",", ":")).encode())
    return f"{payload}.{_b64(_mac(secret, scope, payload))}"


def decode(cursor: str, *, scope: str, secret: bytes) -> dict[str, str | int]:
    """The position a cursor made by :func:`encode` for ``scope`` holds; :class:`BadCursor` for anything else."""
    if len(cursor) > MAX_CURSOR_CHARS or not cursor.isascii() or cursor.count(".") != 1:
        raise BadCursor("not a cursor this API gave")
    payload, mac = cursor.split(".")
    try:
        given = _unb64(mac)
    except (binascii.Error, ValueError):
        raise BadCursor("not a cursor this API gave") from None
    if not hmac.compare_digest(given, _mac(secret, scope, payload)):
        raise BadCursor("not a cursor this API gave for this list")
    try:
        position = json.loads(_unb64(payload))
    except (binascii.Error, ValueError):  # signed by us, so never; but a read must not fail on it
        raise BadCursor("not a cursor this API gave") from None
    if not isinstance(position, dict) or not all(isinstance(v, str | int) for v in position.values()):
        raise BadCursor("not a cursor this API gave")
    return position
