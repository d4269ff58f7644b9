"""The electricity data vendor (the grid's business-customer data service): monthly use of a business's premises.

Wire contract
-------------
The request names the business and carries the holder's ID number and phone: the vendor releases a business's
readings only to a lender its registered holder consented to (the query holds personal data, so request lines are
never logged, by us or by the vendor)::

    GET {base_url}/v1/consumption?business_name=<registered name>&months=<2–24>&id_number=<18 chars>&phone=<+86…>

    200 {"readings": [{"month": "YYYY-MM-01", "kwh": "<decimal ≥ 0>"}, …]}   the last whole months, oldest first
    422 {"error": {"code": "invalid_request", …}}
    404 {"error": {"code": "premises_not_found", …}}

Read-only and safe to retry. Readings are the assessment's own type (lending.risk.electricity.MeterReading).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from lending.adapters.vendors.transport import VendorTransport
from lending.applicant import Person
from lending.errors import LendingError
from lending.risk.electricity import MeterReading

VENDOR = "electricity_data"
MAX_MONTHS = 24


def _reading(item: Any) -> MeterReading:
    if not isinstance(item, dict) or not isinstance(item.get("month"), str) or not isinstance(item.get("kwh"), str):
        raise ValueError("a reading is {month, kwh} as text")
    try:
        kwh = Decimal(item["kwh"])
    except InvalidOperation:
        raise ValueError("kwh is a decimal") from None
    return MeterReading(date.fromisoformat(item["month"]), kwh)


class ElectricityDataClient:
    """Fetches the monthly electricity use of a business's premises."""

    def __init__(self, base_url: str, *, timeout: float = 10.0, api_key: str | None = None) -> None:
        self._http = VendorTransport(VENDOR, base_url, timeout=timeout, api_key=api_key)

    def fetch_readings(self, business_name: str, months: int = 12, *, holder: Person) -> tuple[MeterReading, ...]:
        """The premises' use over the last ``months`` whole calendar months, oldest first."""
        if not business_name.strip():
            raise ValueError("a business is named")
        if not 2 <= months <= MAX_MONTHS:
            raise ValueError(f"readings cover 2 to {MAX_MONTHS} months")
        response = self._http.send(
            "GET",
            "/v1/consumption",
            query={
                "business_name": business_name,
                "months": str(months),
                "id_number": holder.id_number,
                "phone": holder.phone,
            },
            expect=(200,),
        )
        try:
            readings = response.body["readings"]
            if not isinstance(readings, list):
                raise ValueError("readings are a list")
            return tuple(sorted((_reading(item) for item in readings), key=lambda reading: reading.month))
        except (KeyError, ValueError, TypeError, LendingError):
            raise self._http.malformed("electricity readings", response.status) from None
