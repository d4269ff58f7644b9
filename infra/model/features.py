"""The model input: one float32 vector per applicant, built from the application by rules a card can carry.

Both models read the same vector, so the run time builds it once from the card's ``features`` list:

* ``numeric``: the field as a number; missing is NaN.
* ``categorical``: a small integer code from the card's ``codes``; missing, or a category the card does not list,
  is NaN. Codes are ordered by the training bad rate (0 = lowest), so a tree split on a code separates safer
  from riskier categories instead of an arbitrary alphabetical cut.
* ``ratio``: the numerator divided by each denominator in turn, in float64, then rounded to float32 like every
  other input; NaN when an input is missing. A denominator below its floor, the least value the training part
  holds, counts as that floor: a declared income of zero reads as the lowest income the model saw (the ratio at
  its riskiest), never as a missing ratio, and the training rows themselves are unchanged by it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

Kind = Literal["numeric", "categorical", "ratio"]


@dataclass(frozen=True)
class Feature:
    """One input column: how it is made from the application, and which way risk should move with it."""

    name: str
    kind: Kind
    source: tuple[str, ...]
    #: +1: a larger value may only raise the risk; -1: may only lower it; 0: no constraint.
    risk_direction: int
    description: str


FEATURES: tuple[Feature, ...] = (
    Feature("seniority_years", "numeric", ("Seniority",), -1, "years with the current employer"),
    Feature("term_months", "numeric", ("Time",), 0, "requested loan term in months"),
    Feature("age_years", "numeric", ("Age",), 0, "applicant's age in years"),
    Feature("expenses", "numeric", ("Expenses",), 0, "declared living expenses (currency unit not stated)"),
    Feature("income", "numeric", ("Income",), -1, "declared income (currency unit not stated)"),
    Feature("assets", "numeric", ("Assets",), -1, "declared assets (currency unit not stated)"),
    Feature("debt", "numeric", ("Debt",), 1, "declared existing debt (currency unit not stated)"),
    Feature("amount", "numeric", ("Amount",), 1, "loan amount requested"),
    Feature("price", "numeric", ("Price",), 0, "price of the good the loan finances"),
    Feature("home", "categorical", ("Home",), 0, "housing: owner, rent, parents, priv, other, ignore"),
    Feature("marital", "categorical", ("Marital",), 0, "marital status"),
    Feature("records", "categorical", ("Records",), 1, "whether arrears records exist: no or yes"),
    Feature("job", "categorical", ("Job",), 0, "type of job: fixed, freelance, partime, others"),
    Feature("amount_to_price", "ratio", ("Amount", "Price"), 1, "share of the good's price that is borrowed"),
    Feature("instalment_to_income", "ratio", ("Amount", "Time", "Income"), 1, "straight-line instalment over income"),
    Feature("debt_to_income", "ratio", ("Debt", "Income"), 1, "existing debt over income"),
    Feature("expenses_to_income", "ratio", ("Expenses", "Income"), 1, "living expenses over income"),
)


def category_codes(values: pd.Series, bad: np.ndarray) -> tuple[dict[str, int], dict[str, float]]:
    """Codes 0, 1, … for the categories seen, ordered by bad rate (ties by name), and those bad rates."""
    import pandas as pd

    rates = pd.Series(bad, index=values.index).groupby(values.to_numpy(), dropna=True).mean()
    ordered = sorted(rates.index, key=lambda category: (float(rates[category]), str(category)))
    return {str(c): code for code, c in enumerate(ordered)}, {str(c): round(float(rates[c]), 6) for c in ordered}


def feature_entries(train: pd.DataFrame, bad: np.ndarray) -> list[dict[str, Any]]:
    """The card's ``features`` list, with categorical codes and ratio floors fitted on the training part only."""
    entries: list[dict[str, Any]] = []
    for index, feature in enumerate(FEATURES):
        entry: dict[str, Any] = {
            "index": index,
            "name": feature.name,
            "kind": feature.kind,
            "dtype": "float32",
            "source": list(feature.source),
            "description": feature.description,
        }
        if feature.kind == "numeric":
            entry["missing"] = "NaN"
        elif feature.kind == "categorical":
            codes, rates = category_codes(train[feature.source[0]], bad)
            entry["codes"] = codes
            entry["training_bad_rate"] = rates
            entry["missing"] = "NaN, also for a category not listed in codes"
        else:
            inputs = [_numeric_name(column) for column in feature.source]
            entry["inputs"] = inputs
            entry["denominator_floors"] = [denominator_floor(train[column]) for column in feature.source[1:]]
            entry["formula"] = (
                " / ".join(inputs) + ", left to right in float64 on the raw values, each denominator raised to "
                "its floor when below it, then rounded to float32"
            )
            entry["missing"] = (
                "NaN when an input is missing; a denominator below its floor (the least value in training, "
                "denominator_floors in input order) counts as the floor, so a zero is never a missing ratio"
            )
        entries.append(entry)
    return entries


def denominator_floor(column: pd.Series) -> float:
    """The least value a denominator takes in training: what a smaller one (a declared zero) is read as."""
    values = _float64(column)
    least = float(np.nanmin(values))
    if not least > 0:
        raise ValueError(f"{column.name}: a ratio's denominator must be positive throughout training")
    return least


def _numeric_name(column: str) -> str:
    """The numeric feature made from a source column, which names that column in ratio formulas."""
    return next(f.name for f in FEATURES if f.kind == "numeric" and f.source == (column,))


def encode(frame: pd.DataFrame, entries: list[dict[str, Any]]) -> np.ndarray:
    """The float32 matrix the models read, built only from what the card's feature entries say."""
    columns = [_encode_column(frame, entry) for entry in entries]
    return np.column_stack(columns).astype(np.float32)


def _encode_column(frame: pd.DataFrame, entry: dict[str, Any]) -> np.ndarray:
    """One feature as float64 values, NaN where missing."""
    source = entry["source"]
    if entry["kind"] == "numeric":
        return _float64(frame[source[0]])
    if entry["kind"] == "categorical":
        codes = {category: float(code) for category, code in entry["codes"].items()}
        return _float64(frame[source[0]].map(codes))
    values = _float64(frame[source[0]])
    for denominator_name, floor in zip(source[1:], entry["denominator_floors"], strict=True):
        # np.maximum keeps NaN (missing stays missing) and raises what is below the floor to it.
        values = values / np.maximum(_float64(frame[denominator_name]), floor)
    return values


def _float64(column: pd.Series) -> np.ndarray:
    """A column as float64 with NaN for missing (pandas' NA included)."""
    return np.asarray(column.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)


def monotone_directions(entries: list[dict[str, Any]]) -> list[int]:
    """The risk direction of each card feature, in input order."""
    by_name = {feature.name: feature.risk_direction for feature in FEATURES}
    return [by_name[entry["name"]] for entry in entries]
