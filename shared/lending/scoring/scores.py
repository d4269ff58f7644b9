"""What the credit model answers: a score with its grade and reasons. Plain values, apart from the model itself, so
a step that reads a stored score (the decision) imports no onnxruntime or numpy."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class ModelReason:
    """A feature that lowered the score: its name, words for the borrower, and the points it cost."""

    feature: str
    text: str
    points: Decimal


@dataclass(frozen=True, slots=True)
class ModelScore:
    probability_of_default: float
    score: int
    grade: str
    reasons: tuple[ModelReason, ...]
    model_id: str
