"""The sandbox credit bureau: a report per applicant, from :mod:`infra.local.vendors.profiles`.

The wire contract is :mod:`lending.adapters.vendors.bureau`'s. The same applicant and consent reference always get
the same report (its ``report_id`` included); only ``generated_at`` follows the clock, the platform's one clock
(:func:`lending.clock.now`) unless a test passes its own. A phone ending ``0005`` shows a default at another lender
from 30 days after the sandbox bank first paid the person (:mod:`infra.local.vendors.bank_book`).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from http import HTTPStatus

from infra.local.vendors.bank_book import SandboxBankBook
from infra.local.vendors.profiles import bureau_defaults, credit_report_fields, profile_for
from infra.local.vendors.server import Answer, Request, SandboxError, SandboxServer, invalid, require_text
from lending import clock as platform_clock
from lending.calendar import business_date

logger = logging.getLogger(__name__)


def _platform_now() -> datetime:
    """The platform's moment, read at each request: the local test clock moves it."""
    return platform_clock.now()


class SandboxCreditBureau(SandboxServer):
    """Credit reports on loopback."""

    name = "credit_bureau"

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = None,
        clock: Callable[[], datetime] = _platform_now,
        book: SandboxBankBook | None = None,
    ) -> None:
        super().__init__(host=host, port=port, api_key=api_key)
        self._clock = clock
        self.book = book if book is not None else SandboxBankBook()
        self.route("POST", "/v1/reports", self._report)

    def _report(self, request: Request) -> Answer:
        body = request.body
        consent = body.get("consent_reference") if body is not None else None
        if not isinstance(consent, str) or not consent.strip():
            raise SandboxError(
                HTTPStatus.UNPROCESSABLE_ENTITY, "consent_required", "A credit report needs the applicant's consent."
            )
        subject = body.get("subject") if body is not None else None
        problems: dict[str, str] = {}
        if not isinstance(subject, dict):
            problems["subject"] = "required object"
            subject = {}
        require_text(subject, "name", problems, prefix="subject.")
        id_number = require_text(subject, "id_number", problems, prefix="subject.")
        phone = require_text(subject, "phone", problems, prefix="subject.")
        if problems:
            raise invalid(problems)

        profile = profile_for(phone, id_number)
        report_id = "rpt_" + hashlib.sha256(f"{id_number}\x1f{consent}".encode()).hexdigest()[:24]
        logger.info("credit report %s for consent %s", report_id, consent)
        now = self._clock()
        return Answer(
            HTTPStatus.OK,
            {
                "report_id": report_id,
                "generated_at": now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                **credit_report_fields(
                    profile, bureau_defaults(phone, self.book.first_paid_to(id_number, phone), business_date(now))
                ),
            },
        )
