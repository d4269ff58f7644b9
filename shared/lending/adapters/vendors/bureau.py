"""The credit bureau: the applicant's behaviour data, as a credit model of the ``credit_data`` kind reads it.

Wire contract
-------------
::

    POST {base_url}/v1/reports
    Content-Type: application/json
    {"consent_reference": "<our record of the applicant's consent to the credit report>",
     "subject": {"name": "…", "id_number": "<18 characters>", "phone": "+86…"}}

    200 {"report_id": "<the bureau's id>", "generated_at": "<RFC 3339 UTC>",
         "seniority_years": <int ≥ 0: years with the current employer>,
         "home": "rent" | "owner" | "parents" | "priv" | "other" | "ignore",
         "marital": "single" | "married" | "widow" | "separated" | "divorced",
         "derogatory_records": true | false,
         "job": "fixed" | "freelance" | "partime" | "others",
         "monthly_expenses": "<decimal, 2 places>", "monthly_income": "<decimal, 2 places>",
         "assets": "<decimal, 2 places>", "debt": "<decimal, 2 places>",
         "defaults": [{"reported_on": "YYYY-MM-DD", "amount": "<decimal, 2 places>"}, …]}   (optional)
    422 {"error": {"code": "invalid_request" | "consent_required", …}}

Amounts are CNY: monthly income and expenses, total assets and total debt of the person. ``defaults`` lists the
person's defaults the bureau holds from other lenders, each with the day it was reported (none: an empty list or
no key). A report is read-only, so asking again is harmless.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationError,
    field_validator,
)

from lending.adapters.vendors.applicant import subject
from lending.adapters.vendors.transport import VendorTransport
from lending.applicant import Person
from lending.money import Money
from lending.scoring.features import BureauFacts

VENDOR = "credit_bureau"


class Home(StrEnum):
    """Housing, as the bureau records it."""

    RENT = "rent"
    OWNER = "owner"
    PARENTS = "parents"
    PRIV = "priv"
    OTHER = "other"
    IGNORE = "ignore"


class Marital(StrEnum):
    """Marital status, as the bureau records it."""

    SINGLE = "single"
    MARRIED = "married"
    WIDOW = "widow"
    SEPARATED = "separated"
    DIVORCED = "divorced"


class JobType(StrEnum):
    """Kind of employment, as the bureau records it."""

    FIXED = "fixed"
    FREELANCE = "freelance"
    PARTIME = "partime"
    OTHERS = "others"


class ReportedDefault(BaseModel):
    """A default at another lender, as the bureau reports it."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    reported_on: date
    amount: Money


class CreditReport(BaseModel):
    """The bureau's report on one applicant: behaviour data for the credit model."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    report_id: Annotated[str, Field(min_length=1, max_length=255)]
    generated_at: AwareDatetime
    seniority_years: Annotated[StrictInt, Field(ge=0, le=80)]
    home: Home
    marital: Marital
    derogatory_records: StrictBool
    job: JobType
    monthly_expenses: Money
    monthly_income: Money
    assets: Money
    debt: Money
    defaults: tuple[ReportedDefault, ...] = ()

    @field_validator("monthly_expenses", "monthly_income", "assets", "debt")
    @classmethod
    def _not_negative(cls, value: Money) -> Money:
        if value.is_negative:
            raise ValueError("bureau amounts are never negative")
        return value

    def facts(self) -> BureauFacts:
        """What the credit model reads from this report: its fields as validated here, not validated again."""
        return BureauFacts(
            self.seniority_years,
            self.home.value,
            self.marital.value,
            self.derogatory_records,
            self.job.value,
            self.monthly_expenses,
            self.monthly_income,
            self.assets,
            self.debt,
        )


class CreditBureauClient:
    """Fetches credit reports, with the applicant's consent reference."""

    def __init__(self, base_url: str, *, timeout: float = 5.0, api_key: str | None = None) -> None:
        self._http = VendorTransport(VENDOR, base_url, timeout=timeout, api_key=api_key)

    def fetch_report(self, applicant: Person, consent_reference: str) -> CreditReport:
        """The applicant's current credit report (read-only, safe to retry)."""
        if not consent_reference:
            raise ValueError("a credit report needs the reference of the applicant's consent")
        response = self._http.send(
            "POST",
            "/v1/reports",
            body={"consent_reference": consent_reference, "subject": subject(applicant)},
            expect=(200,),
        )
        try:
            return CreditReport.model_validate(response.body)
        except ValidationError:
            raise self._http.malformed("credit report", response.status) from None
