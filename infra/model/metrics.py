"""Ranking and calibration metrics, the score scale, grade cut-offs and the stability baseline, in numpy only."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

#: Grades from best to worst and the share of holdout applicants each is cut to hold.
GRADE_SHARES: tuple[tuple[str, float], ...] = (("A", 0.15), ("B", 0.25), ("C", 0.25), ("D", 0.20), ("E", 0.15))
#: Empty PSI bins would make the logarithm infinite; a floor keeps the index finite and still large.
PSI_FLOOR = 1e-4


def roc_auc(bad: np.ndarray, p_bad: np.ndarray) -> float:
    """Area under the ROC curve by the rank-sum (Mann-Whitney) formula, ties counted as halves."""
    _, inverse, counts = np.unique(p_bad, return_inverse=True, return_counts=True)
    # Average rank of each distinct value, so tied scores share their ranks.
    upper = np.cumsum(counts)
    mean_rank = upper - (counts - 1) / 2.0
    ranks = mean_rank[inverse]
    positives = bad == 1
    n_pos = int(positives.sum())
    n_neg = bad.shape[0] - n_pos
    return float((ranks[positives].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def ks_statistic(bad: np.ndarray, p_bad: np.ndarray) -> float:
    """Largest gap between the cumulative shares of bads and goods, over every cut on the prediction."""
    order = np.argsort(-p_bad, kind="stable")
    sorted_p = p_bad[order]
    sorted_bad = bad[order]
    cum_bad = np.cumsum(sorted_bad) / sorted_bad.sum()
    cum_good = np.cumsum(1 - sorted_bad) / (1 - sorted_bad).sum()
    # Only the last row of a run of equal predictions is a cut a threshold can make.
    last_of_run = np.r_[sorted_p[1:] != sorted_p[:-1], True]
    return float(np.max(np.abs(cum_bad - cum_good)[last_of_run]))


def ranking_metrics(bad: np.ndarray, p_bad: np.ndarray) -> dict[str, float]:
    """AUC, Gini, KS, the observed bad rate and the count."""
    auc = roc_auc(bad, p_bad)
    return {
        "auc": round(auc, 6),
        "gini": round(2.0 * auc - 1.0, 6),
        "ks": round(ks_statistic(bad, p_bad), 6),
        "bad_rate": round(float(bad.mean()), 6),
        "n": int(bad.shape[0]),
    }


def calibration_table(bad: np.ndarray, p_bad: np.ndarray, groups: int = 10) -> list[dict[str, Any]]:
    """Mean predicted against observed bad rate in equal-count groups of the prediction, lowest first."""
    order = np.argsort(p_bad, kind="stable")
    rows = []
    for decile, members in enumerate(np.array_split(order, groups), start=1):
        rows.append(
            {
                "decile": decile,
                "n": int(members.shape[0]),
                "p_min": round(float(p_bad[members].min()), 6),
                "p_max": round(float(p_bad[members].max()), 6),
                "mean_predicted": round(float(p_bad[members].mean()), 6),
                "observed_bad_rate": round(float(bad[members].mean()), 6),
            }
        )
    return rows


@dataclass(frozen=True)
class ScoreScale:
    """Points on a log-odds scale: ``base_points`` at good:bad odds ``base_odds``, ``pdo`` points per doubling."""

    base_points: float = 600.0
    base_odds: float = 50.0
    pdo: float = 20.0

    @property
    def factor(self) -> float:
        """Points per unit of natural log-odds."""
        return self.pdo / math.log(2.0)

    @property
    def offset(self) -> float:
        """Points at even odds."""
        return self.base_points - self.factor * math.log(self.base_odds)

    def from_margin(self, margin: np.ndarray) -> np.ndarray:
        """Scores from the log-odds of bad (the models' raw margin)."""
        return self.offset - self.factor * margin

    def from_probability(self, p_bad: np.ndarray) -> np.ndarray:
        """Scores from the probability of bad."""
        p = np.asarray(p_bad, dtype=np.float64)
        return self.from_margin(np.log(p) - np.log1p(-p))

    def card(self) -> dict[str, Any]:
        """The scale as the card records it."""
        return {
            "formula": "score = offset - factor * ln(p_bad / (1 - p_bad)) = offset + factor * ln(odds good:bad)",
            "base_points": self.base_points,
            "base_odds_good_to_bad": self.base_odds,
            "points_to_double_odds": self.pdo,
            "factor": self.factor,
            "offset": self.offset,
            "factor_definition": "pdo / ln 2",
            "offset_definition": "base_points - factor * ln(base_odds)",
        }


def grade_cutoffs(holdout_scores: np.ndarray) -> dict[str, int | None]:
    """Lowest whole score of each grade, so the grades hold the planned shares of the holdout; E has no floor."""
    cutoffs: dict[str, int | None] = {}
    above = 0.0
    for grade, share in GRADE_SHARES[:-1]:
        above += share
        cutoffs[grade] = round(float(np.quantile(holdout_scores, 1.0 - above)))
    cutoffs[GRADE_SHARES[-1][0]] = None
    return cutoffs


def assign_grades(scores: np.ndarray, cutoffs: dict[str, int | None]) -> np.ndarray:
    """The grade letter of each score: the best grade whose cut-off the score reaches."""
    grades = np.full(scores.shape, GRADE_SHARES[-1][0], dtype="<U1")
    for grade, _ in reversed(GRADE_SHARES[:-1]):
        floor = cutoffs[grade]
        if floor is not None:
            grades[scores >= floor] = grade
    return grades


def grade_table(scores: np.ndarray, bad: np.ndarray, cutoffs: dict[str, int | None]) -> list[dict[str, Any]]:
    """Share of applicants and observed bad rate per grade."""
    grades = assign_grades(scores, cutoffs)
    rows = []
    for grade, planned in GRADE_SHARES:
        members = grades == grade
        rows.append(
            {
                "grade": grade,
                "min_score": cutoffs[grade],
                "planned_share": planned,
                "share": round(float(members.mean()), 6),
                "observed_bad_rate": round(float(bad[members].mean()), 6) if members.any() else None,
            }
        )
    return rows


def psi_baseline(train_scores: np.ndarray, bins: int = 10) -> dict[str, Any]:
    """Fixed score bins (training deciles rounded to whole points) and the training share in each."""
    inner = np.unique(np.round(np.quantile(train_scores, np.linspace(0, 1, bins + 1)[1:-1])))
    counts = np.bincount(np.searchsorted(inner, train_scores, side="right"), minlength=inner.shape[0] + 1)
    return {
        "edges": [float(edge) for edge in inner],
        "bin_rule": "bin i holds edges[i-1] <= score < edges[i]; the first and last bins are open-ended",
        "expected_share": [round(float(c) / train_scores.shape[0], 6) for c in counts],
        "psi_formula": f"sum((actual - expected) * ln(actual / expected)), each share floored at {PSI_FLOOR}",
        "n": int(train_scores.shape[0]),
    }


def feature_baseline(train: np.ndarray, entries: list[dict[str, Any]], bins: int = 10) -> dict[str, Any]:
    """Each input's reference distribution on the training part, for the run time's population stability.

    A numeric or ratio input gets fixed bins at its training deciles (the distinct ones: an input with few values
    has fewer bins), a categorical one a bin per code; every input has a last bin for missing (NaN, which is also
    where a category the card does not list lands), so a month's missing values are watched too.
    """
    features = []
    for entry in entries:
        values = train[:, entry["index"]].astype(np.float64)
        present = values[~np.isnan(values)]
        if entry["kind"] == "categorical":
            categories = sorted(int(code) for code in entry["codes"].values())
            counts = [int((present == code).sum()) for code in categories]
            shape: dict[str, Any] = {"categories": categories}
        else:
            inner = np.unique(np.quantile(present, np.linspace(0, 1, bins + 1)[1:-1], method="inverted_cdf"))
            inner = inner[inner > present.min()]  # an edge at the least value would leave the bin below it empty
            counts = np.bincount(np.searchsorted(inner, present, side="right"), minlength=inner.shape[0] + 1).tolist()
            shape = {"edges": [float(edge) for edge in inner]}
        counts.append(int(values.shape[0] - present.shape[0]))
        features.append(
            {
                "name": entry["name"],
                "kind": entry["kind"],
                **shape,
                "expected_share": [round(count / values.shape[0], 6) for count in counts],
            }
        )
    return {
        "features": features,
        "bin_rule": "numeric and ratio inputs: bin i holds edges[i-1] <= value < edges[i] (the first and last "
        "open-ended); categorical inputs: a bin per code in categories; the last bin of every input holds the "
        "missing values (NaN, and any category the card does not list)",
        "edges_rule": f"the distinct {bins}-quantiles of the input's non-missing training values above its least "
        "value (each a value the training part holds, as float32)",
        "psi_formula": f"sum((actual - expected) * ln(actual / expected)), each share floored at {PSI_FLOOR}",
        "n": int(train.shape[0]),
        "population": "training part, the float32 inputs the models read",
    }


def population_stability(baseline: dict[str, Any], scores: np.ndarray) -> float:
    """PSI of a new score sample against the card's baseline."""
    edges = np.asarray(baseline["edges"], dtype=np.float64)
    counts = np.bincount(np.searchsorted(edges, scores, side="right"), minlength=edges.shape[0] + 1)
    actual = np.maximum(counts / scores.shape[0], PSI_FLOOR)
    expected = np.maximum(np.asarray(baseline["expected_share"], dtype=np.float64), PSI_FLOOR)
    return float(np.sum((actual - expected) * np.log(actual / expected)))
