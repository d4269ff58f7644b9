"""From an application and its credit-bureau report to the model's raw inputs: the mapping, in one place.

The models were trained on the public ``credit_data`` set (see the model card), whose money fields are in units
of about a hundred yuan of today's money for the amounts our borrowers deal in; ``MODEL_UNIT`` converts. Its
``Price`` (the price of the good a loan finances) has no counterpart in a working-capital loan: we assume the loan
finances 80% of what the borrower spends (``ASSUMED_FINANCED_SHARE``), the training set's median share. Both
assumptions are recorded beside each score (``FEATURE_MAP_VERSION``) so an analyst can revisit them.

Missing values: a bureau field that is absent is NaN, which the model card says how each model handles.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from lending.money import Money

FEATURE_MAP_VERSION = "2026-11-28.1"
MODEL_UNIT = Decimal(100)  # yuan per unit of credit_data's money fields
ASSUMED_FINANCED_SHARE = Decimal("0.80")


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
        """Read a bureau report object or its JSON dict; absent fields are None."""

        def get(name: str) -> Any:
            return report.get(name) if isinstance(report, dict) else getattr(report, name, None)

        def money(name: str) -> Money | None:
            value = get(name)
            return None if value is None else value if isinstance(value, Money) else Money.of(str(value))

        return cls(
            seniority_years=get("seniority_years"),
            home=get("home"),
            marital=get("marital"),
            derogatory_records=get("derogatory_records"),
            job=get("job"),
            monthly_expenses=money("monthly_expenses"),
            monthly_income=money("monthly_income"),
            assets=money("assets"),
            debt=money("debt"),
        )


def _units(amount: Money | None) -> float:
    return math.nan if amount is None else float(amount.to_decimal() / MODEL_UNIT)


def raw_inputs(amount: Money, term_months: int, age_years: int, bureau: BureauFacts) -> dict[str, Any]:
    """The model's raw fields by the card's feature names (before categorical codes and ratios)."""
    return {
        "seniority_years": math.nan if bureau.seniority_years is None else float(bureau.seniority_years),
        "term_months": float(term_months),
        "age_years": float(age_years),
        "expenses": _units(bureau.monthly_expenses),
        "income": _units(bureau.monthly_income),
        "assets": _units(bureau.assets),
        "debt": _units(bureau.debt),
        "amount": _units(amount),
        "price": float(amount.to_decimal() / ASSUMED_FINANCED_SHARE / MODEL_UNIT),
        "home": bureau.home,
        "marital": bureau.marital,
        "records": None if bureau.derogatory_records is None else ("yes" if bureau.derogatory_records else "no"),
        "job": bureau.job,
    }
