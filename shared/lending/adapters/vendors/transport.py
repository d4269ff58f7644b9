"""JSON over HTTP to a vendor, standard library only (urllib: nothing else to import on a cold start).

Every failure becomes one of the two vendor errors (see :mod:`lending.errors`):

- no answer (refused, reset, DNS, timeout), HTTP 5xx, 408, 429, or an answer we cannot read
  → :class:`VendorUnavailable`;
- any other non-success status (4xx, and 3xx: redirects are never followed, a vendor's API does not move)
  → :class:`VendorRejected` with the body's ``error.code``.

``timeout`` bounds each socket operation (connect, and each read), as urllib does. Request lines may carry personal
data in their query string, so only the path (never the query) is logged, at debug level.
"""

from __future__ import annotations

import functools
import http.client
import json
import logging
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from email.message import Message
from typing import Any

from lending.errors import VendorRejected, VendorUnavailable

logger = logging.getLogger(__name__)

#: The largest answer read from a vendor; a year of statements is well under 100 KiB.
MAX_RESPONSE_BYTES = 1024 * 1024
USER_AGENT = "lending-platform/1"
_REASON_CODE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_TRANSIENT_STATUSES = frozenset({408, 429})

JsonObject = dict[str, Any]


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Turn a redirect into an HTTPError instead of following it (with the body and key headers) elsewhere."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: Any,
        code: int,
        msg: str,
        headers: Message,
        newurl: str,
    ) -> urllib.request.Request | None:
        return None


@functools.cache
def _opener() -> urllib.request.OpenerDirector:
    """One opener per process, built on first use: its HTTPS handler loads the CA store (tens of ms)."""
    return urllib.request.build_opener(_NoRedirects())


@dataclass(frozen=True, slots=True)
class VendorResponse:
    """A successful answer: its status, its JSON object and its headers."""

    status: int
    body: JsonObject
    headers: Mapping[str, str]


def _retry_after(headers: Message | None) -> float | None:
    value = headers.get("Retry-After") if headers is not None else None
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None  # an HTTP date: the workflow's own backoff applies
    return seconds if seconds >= 0 else None


def _error_fields(raw: bytes) -> tuple[str | None, str | None]:
    """``error.code`` and ``error.message`` of an error body, when it has the usual shape."""
    try:
        document = json.loads(raw)
    except ValueError:
        return None, None
    error = document.get("error") if isinstance(document, dict) else None
    if not isinstance(error, dict):
        return None, None
    code = error.get("code")
    message = error.get("message")
    return (
        code if isinstance(code, str) and _REASON_CODE.match(code) else None,
        message[:500] if isinstance(message, str) else None,
    )


def validate_base_url(base_url: str) -> str:
    """``base_url`` without its trailing slash, after checking it is an absolute http(s) URL."""
    parts = urllib.parse.urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(f"a vendor base URL is an absolute http(s) URL without query: {base_url!r}")
    return base_url.rstrip("/")


class VendorTransport:
    """Sends JSON requests to one vendor and reads JSON answers, mapping every failure to a vendor error."""

    def __init__(self, vendor: str, base_url: str, *, timeout: float, api_key: str | None = None) -> None:
        if timeout <= 0:
            raise ValueError("a vendor timeout is a positive number of seconds")
        self.vendor = vendor
        self.base_url = validate_base_url(base_url)
        self.timeout = timeout
        self._api_key = api_key

    def __repr__(self) -> str:
        return f"VendorTransport({self.vendor!r}, {self.base_url!r}, timeout={self.timeout})"

    def send(
        self,
        method: str,
        path: str,
        *,
        expect: Collection[int],
        query: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> VendorResponse:
        """Send one request; return the answer if its status is in ``expect``, else raise a vendor error."""
        url = self.base_url + path
        if query:
            url += "?" + urllib.parse.urlencode(query)
        data = None
        request_headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if body is not None:
            data = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
            request_headers["Content-Type"] = "application/json"
        if self._api_key:
            request_headers["Authorization"] = f"Bearer {self._api_key}"
        request_headers.update(headers or {})
        request = urllib.request.Request(url, data=data, headers=request_headers, method=method)

        started = time.perf_counter()
        try:
            with _opener().open(request, timeout=self.timeout) as response:
                status = response.status
                raw = response.read(MAX_RESPONSE_BYTES + 1)
                answer_headers = {key.lower(): value for key, value in response.headers.items()}
        except urllib.error.HTTPError as error:
            self._log(method, path, error.code, started)
            raise self._status_error(error) from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
            self._log(method, path, None, started)
            cause = error.reason if isinstance(error, urllib.error.URLError) else error
            raise VendorUnavailable(
                f"{self.vendor} did not answer {method} {path}: {type(cause).__name__}", vendor=self.vendor
            ) from None
        self._log(method, path, status, started)

        if status not in expect:
            raise VendorUnavailable(
                f"{self.vendor} answered {method} {path} with unexpected status {status}",
                vendor=self.vendor,
                status=status,
            )
        return VendorResponse(status, self._json_object(raw, method, path, status), answer_headers)

    def _status_error(self, error: urllib.error.HTTPError) -> VendorUnavailable | VendorRejected:
        status = error.code
        try:
            raw = error.read(MAX_RESPONSE_BYTES)
        except (OSError, http.client.HTTPException):
            raw = b""
        finally:
            error.close()
        code, message = _error_fields(raw)
        if status >= 500 or status in _TRANSIENT_STATUSES:
            return VendorUnavailable(
                f"{self.vendor} is unavailable: HTTP {status}" + (f" ({code})" if code else ""),
                vendor=self.vendor,
                status=status,
                retry_after=_retry_after(error.headers),
            )
        reason = code or ("unexpected_redirect" if 300 <= status < 400 else f"http_{status}")
        return VendorRejected(
            reason,
            f"{self.vendor} rejected the request: {reason} (HTTP {status})",
            vendor=self.vendor,
            status=status,
            detail=message,
        )

    def _json_object(self, raw: bytes, method: str, path: str, status: int) -> JsonObject:
        if len(raw) > MAX_RESPONSE_BYTES:
            raise VendorUnavailable(f"{self.vendor}'s answer to {method} {path} is too large", vendor=self.vendor)
        try:
            document = json.loads(raw)
        except ValueError:
            document = None
        if not isinstance(document, dict):
            raise VendorUnavailable(
                f"{self.vendor} answered {method} {path} with a body that is not a JSON object",
                vendor=self.vendor,
                status=status,
            )
        return document

    def malformed(self, what: str, status: int | None = None) -> VendorUnavailable:
        """The error for an answer that parsed as JSON but does not hold what the contract promises."""
        return VendorUnavailable(f"{self.vendor} sent a malformed {what}", vendor=self.vendor, status=status)

    def _log(self, method: str, path: str, status: int | None, started: float) -> None:
        logger.debug(
            "vendor call",
            extra={
                "vendor": self.vendor,
                "method": method,
                "path": path,
                "status": status,
                "elapsed_ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )
