"""Fixed bins of the training sample, as a model card stores them: a score's (``psi_baseline``) and each model
input's (``feature_baseline``), and which bin a value falls in. The scoring model bins each applicant's inputs with
them (so monitoring keeps the bins, never the inputs); :mod:`lending.monitoring` compares a month against them."""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Reference:
    """One quantity's training distribution: fixed bins and the training share in each."""

    name: str
    expected_share: tuple[float, ...]
    edges: tuple[float, ...] = ()
    categories: tuple[int, ...] | None = None
    #: Whether the last bin holds missing values (the inputs' references; a score is never missing).
    has_missing_bin: bool = False

    def __post_init__(self) -> None:
        regular = len(self.categories) if self.categories is not None else len(self.edges) + 1
        if len(self.expected_share) != regular + self.has_missing_bin:
            raise ValueError(f"{self.name}: {len(self.expected_share)} shares for {regular} bins")

    def bin_of(self, value: float) -> int:
        """The bin a value falls in: edges[i-1] <= value < edges[i], a category's own bin, or the missing bin."""
        missing = len(self.expected_share) - 1
        if math.isnan(value):
            if not self.has_missing_bin:
                raise ValueError(f"{self.name}: a missing value has no bin")
            return missing
        if self.categories is None:
            return bisect_right(self.edges, value)
        code = int(value) if value.is_integer() else None
        return self.categories.index(code) if code in self.categories else missing


def score_reference(card: Mapping[str, Any]) -> Reference:
    """A model's score distribution on its training sample, from its card."""
    baseline = card["psi_baseline"]
    return Reference(
        f"score {card['model_id']}",
        tuple(float(s) for s in baseline["expected_share"]),
        edges=tuple(float(e) for e in baseline["edges"]),
    )


def feature_references(card: Mapping[str, Any]) -> dict[str, Reference]:
    """Each model input's distribution on the training sample, from the card (by input name, in input order)."""
    if "feature_baseline" not in card:
        raise ValueError(f"the card of {card.get('model_id')} holds no feature_baseline: re-export it")
    references = {}
    for entry in card["feature_baseline"]["features"]:
        categories = entry.get("categories")
        references[entry["name"]] = Reference(
            entry["name"],
            tuple(float(s) for s in entry["expected_share"]),
            edges=tuple(float(e) for e in entry.get("edges", ())),
            categories=None if categories is None else tuple(int(c) for c in categories),
            has_missing_bin=True,
        )
    return references


@dataclass(frozen=True, slots=True)
class FeatureBinning:
    """A card's input references, read once, to bin each scored applicant's model row."""

    references: tuple[tuple[int, Reference], ...]

    @classmethod
    def from_card(cls, card: Mapping[str, Any]) -> FeatureBinning:
        index = {feature["name"]: int(feature["index"]) for feature in card["features"]}
        return cls(tuple((index[name], reference) for name, reference in feature_references(card).items()))

    def bins(self, row: Sequence[float]) -> dict[str, int]:
        """The bin of each input of one applicant's model row (in the card's input order)."""
        return {reference.name: reference.bin_of(float(row[column])) for column, reference in self.references}
