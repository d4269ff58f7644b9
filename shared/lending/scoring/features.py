"""From an application and its credit-bureau report to the model's raw inputs: the mapping, in one place.

The models were trained on the public ``credit_data`` set (see the model card), whose money fields are in units
of about a hundred yuan of today's money for the amounts our borrowers deal in; ``MODEL_UNIT`` converts. Its
``Price`` (the price of the good a loan finances) has no counterpart in a working-capital loan: we assume the loan
finances 80% of what the borrower spends (``ASSUMED_FINANCED_SHARE``), the training set's median share. Both
assumptions are recorded beside each score (``FEATURE_MAP_VERSION``) so an analyst can revisit them.

Missing values: a bureau field that is absent is NaN, which the model card says how each model handles.
"""

from __future__ import annotations

import decimal
import math
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, ValidationError, field_validator

from lending.errors import LendingError
from lending.money import Money

FEATURE_MAP_VERSION = "2026-11-28.1"
MODEL_UNIT = Decimal(100)  # yuan per unit of credit_data's money fields
ASSUMED_FINANCED_SHARE = Decimal("0.80")


class ScoringInputError(LendingError, ValueError):
    """An applicant the model cannot be given: a field of the wrong type or out of range."""

    code = "invalid_scoring_input"


class _BureauInput(BaseModel):
    """A bureau report given as JSON (an analyst's file): typed strictly, absent fields allowed."""

    model_config = ConfigDict(extra="ignore", hide_input_in_errors=True)

    seniority_years: StrictInt | None = Field(default=None, ge=0, le=80)
    home: StrictStr | None = None
    marital: StrictStr | None = None
    derogatory_records: StrictBool | None = None
    job: StrictStr | None = None
    monthly_expenses: Money | None = None
    monthly_income: Money | None = None
    assets: Money | None = None
    debt: Money | None = None

    @field_validator("monthly_expenses", "monthly_income", "assets", "debt")
    @classmethod
    def _not_negative(cls, value: Money | None) -> Money | None:
        if value is not None and value.is_negative:
            raise ValueError("bureau amounts are never negative")
        return value


@dataclass(frozen=True, slots=True)
class BureauFacts:
    """What the model needs from a credit-bureau report (names as the bureau client returns them)."""

    seniority_years: int | None
    home: str | None
    marital: str | None
    derogatory_records: bool | None
    job: str | None
    monthly_expenses: Money | None
    monthly_income: Money | None
    assets: Money | None
    debt: Money | None

    @classmethod
    def from_report(cls, report: Any) -> BureauFacts:
        """Read a bureau report strictly: facts as they are (the bureau client's ``CreditReport.facts()``), or a
        report as JSON (an analyst's file) or as a model, validated here; absent fields are None."""
        if type(report) is BureauFacts:
            return report
        if not isinstance(report, dict):
            report = report.model_dump() if hasattr(report, "model_dump") else None
        if report is None:
            raise ScoringInputError("a bureau report must be an object")
        try:
            facts = _BureauInput.model_validate(
                {k: (str(v) if isinstance(v, StrEnum) else v) for k, v in report.items()}
            )
        except ValidationError as exc:
            fields = ", ".join(".".join(str(p) for p in e["loc"]) for e in exc.errors())
            raise ScoringInputError(f"bureau report: invalid {fields}") from None
        # The validated fields as they are (what model_dump would hand over in Python mode), without dumping them.
        return cls(
            facts.seniority_years,
            facts.home,
            facts.marital,
            facts.derogatory_records,
            facts.job,
            facts.monthly_expenses,
            facts.monthly_income,
            facts.assets,
            facts.debt,
        )


#: Fen below this divide by MODEL_UNIT (and the financed share) exactly within the default decimal context's 28
#: digits: the float of that exact quotient is then the correctly rounded one Python's ``int / int`` gives.
_EXACT_FEN = 10**20
_MODEL_UNIT_FEN = 10_000  # fen per model unit: MODEL_UNIT yuan × 100
_PRICE_FEN = 8_000  # fen per model unit of price: MODEL_UNIT × ASSUMED_FINANCED_SHARE × 100


def _exact_in_context() -> bool:
    """Whether the ambient decimal context divides these amounts exactly, as the default one does."""
    return decimal.getcontext().prec >= 28


def _units(amount: Money | None, exact: bool = False) -> float:
    if amount is None:
        return math.nan
    if exact and -_EXACT_FEN < amount.fen < _EXACT_FEN:
        return amount.fen / _MODEL_UNIT_FEN
    return float(amount.to_decimal() / MODEL_UNIT)


def _price(amount: Money, exact: bool) -> float:
    if exact and -_EXACT_FEN < amount.fen < _EXACT_FEN:
        return amount.fen / _PRICE_FEN
    return float(amount.to_decimal() / ASSUMED_FINANCED_SHARE / MODEL_UNIT)


# The ages the model was trained on and can score: no product lends outside them (the catalogue's ranges lie
# within), so an applicant outside is declined on age before any score is needed.
SCORABLE_AGES = range(18, 101)


def raw_inputs(amount: Money, term_months: int, age_years: int, bureau: BureauFacts) -> dict[str, Any]:
    """The model's raw fields by the card's feature names (before categorical codes and ratios)."""
    if not amount.is_positive:
        raise ScoringInputError("the amount must be positive")
    if type(term_months) is not int or not 1 <= term_months <= 36:
        raise ScoringInputError("the term must be 1 to 36 months")
    if type(age_years) is not int or age_years not in SCORABLE_AGES:
        raise ScoringInputError(f"the applicant's age must be {SCORABLE_AGES.start} to {SCORABLE_AGES[-1]}")
    exact = _exact_in_context()
    return {
        "seniority_years": math.nan if bureau.seniority_years is None else float(bureau.seniority_years),
        "term_months": float(term_months),
        "age_years": float(age_years),
        "expenses": _units(bureau.monthly_expenses, exact),
        "income": _units(bureau.monthly_income, exact),
        "assets": _units(bureau.assets, exact),
        "debt": _units(bureau.debt, exact),
        "amount": _units(amount, exact),
        "price": _price(amount, exact),
        "home": bureau.home,
        "marital": bureau.marital,
        "records": None if bureau.derogatory_records is None else ("yes" if bureau.derogatory_records else "no"),
        "job": bureau.job,
    }
