"""One applicant through the model: raw inputs in, the decision's ScoreOutcome out."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from lending.money import Money
from lending.risk.facts import Reason, ScoreOutcome
from lending.scoring.features import BureauFacts, raw_inputs
from lending.scoring.scores import ModelScore

if TYPE_CHECKING:  # the model (onnxruntime, numpy) is the scoring function's alone
    from lending.scoring.model import CreditModel


def to_outcome(result: ModelScore) -> ScoreOutcome:
    """The model's result in the decision's terms (PD as an exact six-place decimal)."""
    return ScoreOutcome(
        probability_of_default=Decimal(f"{result.probability_of_default:.6f}"),
        score=result.score,
        grade=result.grade,
        reasons=tuple(Reason(f"model_{r.feature}", r.text, r.points) for r in result.reasons),
    )


def score_applicant(
    model: CreditModel, amount: Money, term_months: int, age_years: int, report: Any
) -> tuple[ScoreOutcome, ModelScore]:
    """Score one applicant from the requested amount and term, their age and their bureau report."""
    result = model.score(raw_inputs(amount, term_months, age_years, BureauFacts.from_report(report)))
    return to_outcome(result), result


@dataclass(frozen=True, slots=True)
class ShadowScored:
    """The champion's score (the one the decision uses), the challenger's beside it, and the bin of each input."""

    champion: ModelScore
    challenger: ModelScore | None
    feature_bins: dict[str, int] | None
    #: The error's name when the challenger could not score (the champion's score stands without it).
    challenger_failed: str | None = None


def score_beside(
    champion: CreditModel, challenger: CreditModel | None, amount: Money, term_months: int, age_years: int, report: Any
) -> ShadowScored:
    """Score one applicant with the champion and, on the same input row when it reads the same inputs, the
    challenger; the row's bins are the champion card's training bins."""
    raw = raw_inputs(amount, term_months, age_years, BureauFacts.from_report(report))
    row = champion.vector(raw)
    result = champion.score_row(row)
    bins = None if champion.binning is None else champion.binning.bins(row[0].tolist())
    if challenger is None:
        return ShadowScored(result, None, bins)
    try:
        shadow = challenger.score_row(row if challenger.reads_as(champion) else challenger.vector(raw))
    except Exception as exc:  # a shadow model's fault must never stop or change the champion's decision
        return ShadowScored(result, None, bins, type(exc).__name__)
    return ShadowScored(result, shadow, bins)


def score_json(result: ModelScore) -> dict[str, Any]:
    """A JSON line for analysts and for the application record."""
    return {
        "model_id": result.model_id,
        "probability_of_default": f"{result.probability_of_default:.6f}",
        "score": result.score,
        "grade": result.grade,
        "reasons": [{"code": f"model_{r.feature}", "message": r.text, "points": str(r.points)} for r in result.reasons],
    }
