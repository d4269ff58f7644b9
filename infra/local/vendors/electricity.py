"""The sandbox electricity data vendor: monthly use of a business's premises, from :mod:`infra.local.vendors.profiles`.

The wire contract is :mod:`lending.adapters.vendors.electricity`'s. The holder's phone and ID number pick the
profile, as at the bank and the bureau, so the vendors tell one story; use is steady, at a level the business's
revenue sets. A business whose name contains ``电力`` or ``POWER`` uses 70% less from the second month after the
sandbox bank first paid its holder (:mod:`infra.local.vendors.bank_book`): the early-warning trigger. Today is the
platform's business date, read at each request, so the window moves with the local test clock.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from infra.local.vendors.bank_book import BankBookServer, months_asked
from infra.local.vendors.profiles import electricity_readings, profile_for
from infra.local.vendors.server import Answer, Request, invalid, require_text

logger = logging.getLogger(__name__)

MAX_MONTHS = 24


class SandboxElectricityData(BankBookServer):
    """Electricity readings on loopback."""

    name = "electricity_data"

    def __init__(self, **settings: Any) -> None:
        super().__init__(**settings)
        self.route("GET", "/v1/consumption", self._consumption)

    def _consumption(self, request: Request) -> Answer:
        problems: dict[str, str] = {}
        business_name = require_text(request.query, "business_name", problems)
        id_number = require_text(request.query, "id_number", problems)
        phone = require_text(request.query, "phone", problems)
        months = months_asked(request.query, problems, 2, MAX_MONTHS)
        if problems:
            raise invalid(problems)
        profile = profile_for(phone, id_number)
        paid_on = self.book.first_paid_to(id_number, phone)
        logger.info("electricity readings of %d months (profile %s)", months, profile.name)
        readings = electricity_readings(profile, id_number, business_name, self._today(), months, paid_on)
        return Answer(HTTPStatus.OK, {"readings": readings})
