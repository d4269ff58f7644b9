"""The sandbox open-banking and tax data vendor: statements and filings from :mod:`infra.local.vendors.profiles`.

The wire contract is :mod:`lending.adapters.vendors.bank_data`'s. The applicant's phone and ID number pick the
profile, as at the bureau, so the three vendors tell one consistent story about an applicant; the data is a pure
function of the applicant and of today's date (the window is the last whole months before it). Today is the
platform's business date (:func:`lending.clock.today`, China's calendar date on the platform's one clock), so the
window moves with the local test clock and turns at midnight in China, the day the platform's business assessment sees.
An account ending ``5555`` sees its inflows fall from the second month after the sandbox bank's first payout into it
(:mod:`infra.local.vendors.bank_book`): the early-warning trigger.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from infra.local.vendors.bank_book import BankBookServer, months_asked
from infra.local.vendors.profiles import inflows_fall_from, profile_for, statement, tax_filings
from infra.local.vendors.server import Answer, Request, invalid, require_text

logger = logging.getLogger(__name__)

MAX_MONTHS = 24
TAX_FILING_MONTHS = 12


class SandboxBankData(BankBookServer):
    """Bank statements and tax filings on loopback."""

    name = "bank_data"

    def __init__(self, **settings: Any) -> None:
        super().__init__(**settings)
        self.route("GET", "/v1/statements", self._statements)
        self.route("GET", "/v1/tax-filings", self._tax_filings)

    def _statements(self, request: Request) -> Answer:
        problems: dict[str, str] = {}
        account = require_text(request.query, "account", problems)
        id_number = require_text(request.query, "id_number", problems)
        phone = require_text(request.query, "phone", problems)
        if account and not account.isdigit():
            problems["account"] = "digits"
        months = months_asked(request.query, problems, 1, MAX_MONTHS)
        if problems:
            raise invalid(problems)
        profile = profile_for(phone, id_number)
        self.book.banks(id_number, phone, account)
        falls_from = inflows_fall_from(account, self.book.first_paid_into(account))
        logger.info("bank statement of %d months (profile %s)", months, profile.name)
        return Answer(HTTPStatus.OK, statement(profile, id_number, self._today(), months, falls_from=falls_from))

    def _tax_filings(self, request: Request) -> Answer:
        problems: dict[str, str] = {}
        id_number = require_text(request.query, "id_number", problems)
        phone = require_text(request.query, "phone", problems)
        if "tax_id" in request.query and not request.query["tax_id"].strip():
            problems["tax_id"] = "non-empty when given"
        if problems:
            raise invalid(problems)
        profile = profile_for(phone, id_number)
        logger.info("tax filings (profile %s)", profile.name)
        return Answer(HTTPStatus.OK, {"filings": tax_filings(profile, self._today(), TAX_FILING_MONTHS)})
