"""How a vendor call fails, in the two ways the workflow tells apart.

- :class:`VendorUnavailable`: the vendor could not answer now (connection refused or reset, timeout, HTTP 5xx,
  408 or 429, an answer we could not read). The outcome is unknown or transient; the state machine's ``Retry``
  names this class. Retrying is safe because every call that changes something carries an idempotency key.
- :class:`VendorRejected`: the vendor answered and said no (any other 4xx); retrying the same request gets the
  same answer. ``reason`` is the vendor's machine-readable code (``error.code`` of its body, else ``http_<status>``).

Messages name the vendor, the HTTP status and the reason only: never the request, never personal data. The
vendor's own message is kept in ``detail`` for whoever needs it, and is not part of ``str(error)``.
"""

from __future__ import annotations

from lending.errors import LendingError


class VendorError(LendingError):
    """Base of every vendor failure."""

    code = "vendor_error"

    def __init__(self, message: str, *, vendor: str = "", status: int | None = None) -> None:
        super().__init__(message)
        self.vendor = vendor
        self.status = status


class VendorUnavailable(VendorError):
    """Transient: the vendor did not answer, or answered 5xx, 408 or 429. The workflow retries."""

    code = "vendor_unavailable"

    def __init__(
        self,
        message: str,
        *,
        vendor: str = "",
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, vendor=vendor, status=status)
        self.retry_after = retry_after


class VendorRejected(VendorError):
    """Permanent: the vendor refused the request (a 4xx other than 408 and 429), with its reason code."""

    code = "vendor_rejected"

    def __init__(
        self,
        reason: str,
        message: str | None = None,
        *,
        vendor: str = "",
        status: int | None = None,
        detail: str | None = None,
    ) -> None:
        super().__init__(
            message or f"{vendor or 'the vendor'} rejected the request: {reason}", vendor=vendor, status=status
        )
        self.reason = reason
        self.detail = detail
