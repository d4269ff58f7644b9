"""The challenger: a monotone WoE scorecard (optbinning + logistic regression), as a small hand-built ONNX graph.

skl2onnx cannot convert optbinning's ``Scorecard``, so the graph is written here with ``onnx.helper``. Every
feature becomes a slot index by counting the bin edges at or below the value (optbinning's bins are closed on the
left), NaN goes to a missing slot, and the slot selects a WoE and a points value from flat tables. The WoE of each
slot is read back through optbinning's own ``transform`` on a value from that slot, so the graph reproduces
``predict_proba``, which scores missing values with WoE 0 even though the binning table shows an empirical WoE.

Categorical codes get two edges each, ``c`` and the next double above it, so exactly the value ``c`` lands in
its own slot and anything between or outside the codes lands in an 'unknown' slot with optbinning's WoE for a
category it never saw.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from infra.model.dataset import SEED
from infra.model.metrics import ScoreScale
from infra.model.runtime import INPUT_NAME

if TYPE_CHECKING:
    import onnx
    import pandas as pd

#: Features whose information value is below this are left out: too weak to earn points on a card.
MIN_INFORMATION_VALUE = 0.02
#: Monotonic trend of the bad rate asked of optbinning for each risk direction.
TRENDS = {-1: "descending", 1: "ascending", 0: "auto_asc_desc"}
#: The main-domain opset of the hand-built graph; GreaterOrEqual needs 12, ReduceSum with axes input 13.
OPSET = 15
PROBABILITIES_OUTPUT = "probabilities"
POINTS_OUTPUT = "points"
SCORE_OUTPUT = "score"


@dataclass
class FittedScorecard:
    """The optbinning scorecard on the selected features, and why the others were left out."""

    scorecard: Any
    selected: list[str]
    dropped: dict[str, str] = field(default_factory=dict)
    information_value: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Slots:
    """One feature's slot edges and, per slot, its WoE, its bin in the binning table, and a label."""

    feature: str
    column: int
    edges: np.ndarray
    woe: np.ndarray
    bin_ids: list[int | None]
    labels: list[str]
    missing_woe: float


def _frame(features: np.ndarray, names: list[str]) -> pd.DataFrame:
    """The float32 inputs widened to float64, which is what the graph compares in."""
    import pandas as pd

    return pd.DataFrame(features.astype(np.float64), columns=names)


def _binning_process(names: list[str], entries: list[dict[str, Any]], directions: dict[str, int]) -> Any:
    """An unfitted optbinning BinningProcess for these features, with the monotone trends asked."""
    from optbinning import BinningProcess

    kinds = {entry["name"]: entry["kind"] for entry in entries}
    categorical = [name for name in names if kinds[name] == "categorical"]
    # optbinning orders categories by bad rate itself; a trend only applies to numeric features.
    params = {name: {"monotonic_trend": TRENDS[directions[name]]} for name in names if name not in categorical}
    return BinningProcess(names, categorical_variables=categorical, binning_fit_params=params)


def _logistic() -> Any:
    """The logistic regression on WoE (L2, C=1, the scikit-learn default)."""
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=1000, random_state=SEED)


def select_features(
    frame: pd.DataFrame, bad: np.ndarray, entries: list[dict[str, Any]], directions: dict[str, int]
) -> tuple[list[str], dict[str, str], dict[str, float]]:
    """Keep features with enough information value whose coefficient agrees with their WoE."""
    names = [entry["name"] for entry in entries]
    process = _binning_process(names, entries, directions).fit(frame, bad)
    summary = process.summary().set_index("name")
    information_value = {name: round(float(summary.loc[name, "iv"]), 6) for name in names}
    dropped = {
        name: f"information value {information_value[name]:.4f} < {MIN_INFORMATION_VALUE}"
        for name in names
        if information_value[name] < MIN_INFORMATION_VALUE
    }
    kept = [name for name in names if name not in dropped]
    woe = process.transform(frame, metric="woe")
    while True:
        model = _logistic().fit(woe[kept], bad)
        coefficients = dict(zip(kept, model.coef_[0], strict=True))
        # WoE rises as risk falls, so every coefficient must be negative; a positive one means the feature only
        # corrects others (collinearity) and would award points for looking riskier.
        wrong_sign = {name: c for name, c in coefficients.items() if c > 0}
        if not wrong_sign:
            return kept, dropped, information_value
        worst = max(wrong_sign, key=lambda name: wrong_sign[name])
        dropped[worst] = f"coefficient {wrong_sign[worst]:+.4f} on WoE has the wrong sign"
        kept.remove(worst)


def fit_scorecard(
    features: np.ndarray, bad: np.ndarray, entries: list[dict[str, Any]], directions: dict[str, int]
) -> FittedScorecard:
    """Select features, then fit optbinning's Scorecard on them with the card's score scale."""
    from optbinning import Scorecard

    names = [entry["name"] for entry in entries]
    frame = _frame(features, names)
    selected, dropped, information_value = select_features(frame, bad, entries, directions)
    scale = ScoreScale()
    scorecard = Scorecard(
        binning_process=_binning_process(selected, entries, directions),
        estimator=_logistic(),
        scaling_method="pdo_odds",
        scaling_method_params={"pdo": scale.pdo, "odds": scale.base_odds, "scorecard_points": scale.base_points},
    )
    scorecard.fit(frame[selected], bad)
    return FittedScorecard(scorecard, selected, dropped, information_value)


def native_probability(fitted: FittedScorecard, features: np.ndarray, names: list[str]) -> np.ndarray:
    """optbinning's own probability of bad, the reference the graph must match."""
    probabilities = np.asarray(fitted.scorecard.predict_proba(_frame(features, names)[fitted.selected]))
    return probabilities[:, 1]


def native_score(fitted: FittedScorecard, features: np.ndarray, names: list[str]) -> np.ndarray:
    """optbinning's own scaled score (for rows without an unseen category)."""
    return np.asarray(fitted.scorecard.score(_frame(features, names)[fitted.selected]), dtype=np.float64)


def _woe_of(binned: Any, values: np.ndarray) -> np.ndarray:
    """WoE the scorecard's transform gives these values (missing and special scored 0, as predict does)."""
    return np.asarray(binned.transform(values, metric="woe", metric_special=0, metric_missing=0), dtype=float)


def _bin_of(binned: Any, values: np.ndarray) -> np.ndarray:
    """Index of the binning-table row these values fall in."""
    return np.asarray(binned.transform(values, metric="indices", metric_special=0, metric_missing=0))


def feature_slots(fitted: FittedScorecard, entries: list[dict[str, Any]]) -> list[Slots]:
    """Edges, WoE and bin of every slot of every selected feature."""
    by_name = {entry["name"]: entry for entry in entries}
    slots = []
    for name in fitted.selected:
        entry = by_name[name]
        binned = fitted.scorecard.binning_process_.get_binned_variable(name)
        if entry["kind"] == "categorical":
            edges, samples, labels = _categorical_slots(entry)
        else:
            edges, samples, labels = _numeric_slots(np.asarray(binned.splits, dtype=np.float64))
        bins = _bin_of(binned, samples)
        known = [label != "unknown category" for label in labels]
        slots.append(
            Slots(
                feature=name,
                column=int(entry["index"]),
                edges=edges,
                woe=_woe_of(binned, samples),
                bin_ids=[int(b) if k else None for b, k in zip(bins, known, strict=True)],
                labels=labels,
                missing_woe=float(_woe_of(binned, np.array([np.nan]))[0]),
            )
        )
    return slots


def _numeric_slots(splits: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Edges are optbinning's splits; a sample per slot is its left edge (the first slot: below the first)."""
    if splits.shape[0] == 0:
        return splits, np.array([0.0]), ["(-inf, inf)"]
    samples = np.r_[splits[0] - 1.0, splits]
    bounds = np.r_[-np.inf, splits, np.inf]
    labels = [f"[{bounds[i]:.6g}, {bounds[i + 1]:.6g})" for i in range(splits.shape[0] + 1)]
    return splits, samples, labels


def _categorical_slots(entry: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Two edges per code so each code has its own slot; the slots around them are unknown categories."""
    names_by_code = {code: category for category, code in entry["codes"].items()}
    codes = sorted(names_by_code)
    edges = np.array([e for c in codes for e in (float(c), np.nextafter(float(c), np.inf))], dtype=np.float64)
    # A value below the first code, each code, then a value just past it (which no category has).
    samples = np.r_[float(codes[0]) - 1.0, [v for c in codes for v in (float(c), float(c) + 0.5)]]
    labels = ["unknown category"] + [label for c in codes for label in (f"{c}: {names_by_code[c]}", "unknown category")]
    return edges, samples, labels


def points_of(woe: np.ndarray, coefficient: float, intercept: float, n_features: int) -> np.ndarray:
    """Points for these WoE values: this feature's share of the score ``offset - factor * logit``."""
    scale = ScoreScale()
    return -scale.factor * coefficient * woe + (scale.offset - scale.factor * intercept) / n_features


def build_graph(fitted: FittedScorecard, slots: list[Slots], n_inputs: int, model_id: str) -> onnx.ModelProto:
    """The scorecard as ONNX: slots from edges, WoE and points from tables, then the logistic link."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    estimator = fitted.scorecard.estimator_
    coefficients = estimator.coef_[0].astype(np.float64)
    intercept = float(estimator.intercept_[0])
    width = max(s.edges.shape[0] for s in slots)
    missing_slot = width + 1
    edges = np.full((len(slots), width), np.inf)
    woe_table = np.zeros((len(slots), width + 2))
    points_table = np.zeros((len(slots), width + 2))
    for j, feature in enumerate(slots):
        n_edges = feature.edges.shape[0]
        edges[j, :n_edges] = feature.edges
        points = points_of(feature.woe, float(coefficients[j]), intercept, len(slots))
        missing_points = points_of(np.array([feature.missing_woe]), float(coefficients[j]), intercept, len(slots))
        # Slots past this feature's own edges are reached only by +inf, which belongs to its last slot.
        woe_table[j, : n_edges + 1] = feature.woe
        woe_table[j, n_edges + 1 : missing_slot] = feature.woe[-1]
        woe_table[j, missing_slot] = feature.missing_woe
        points_table[j, : n_edges + 1] = points
        points_table[j, n_edges + 1 : missing_slot] = points[-1]
        points_table[j, missing_slot] = missing_points[0]

    initialisers = [
        numpy_helper.from_array(np.array([s.column for s in slots], dtype=np.int64), "columns"),
        numpy_helper.from_array(edges, "edges"),
        numpy_helper.from_array(np.array([2], dtype=np.int64), "edge_axis"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "feature_axis"),
        numpy_helper.from_array(np.array(missing_slot, dtype=np.int64), "missing_slot"),
        numpy_helper.from_array(np.arange(len(slots), dtype=np.int64) * (width + 2), "table_offsets"),
        numpy_helper.from_array(woe_table.ravel(), "woe_table"),
        numpy_helper.from_array(points_table.ravel(), "points_table"),
        numpy_helper.from_array(coefficients.reshape(-1, 1), "coefficients"),
        numpy_helper.from_array(np.array([intercept]), "intercept"),
        numpy_helper.from_array(np.array([1.0]), "one"),
    ]
    nodes = [
        helper.make_node("Cast", [INPUT_NAME], ["x64"], to=TensorProto.DOUBLE),
        helper.make_node("Gather", ["x64", "columns"], ["x_used"], axis=1),
        helper.make_node("Unsqueeze", ["x_used", "edge_axis"], ["x_column"]),
        helper.make_node("GreaterOrEqual", ["x_column", "edges"], ["at_or_above"]),
        helper.make_node("Cast", ["at_or_above"], ["at_or_above_int"], to=TensorProto.INT64),
        helper.make_node("ReduceSum", ["at_or_above_int", "edge_axis"], ["slot_found"], keepdims=0),
        helper.make_node("IsNaN", ["x_used"], ["is_missing"]),
        helper.make_node("Where", ["is_missing", "missing_slot", "slot_found"], ["slot"]),
        helper.make_node("Add", ["slot", "table_offsets"], ["table_index"]),
        helper.make_node("Gather", ["woe_table", "table_index"], ["woe"], axis=0),
        helper.make_node("Gather", ["points_table", "table_index"], [POINTS_OUTPUT], axis=0),
        helper.make_node("ReduceSum", [POINTS_OUTPUT, "feature_axis"], [SCORE_OUTPUT], keepdims=0),
        helper.make_node("MatMul", ["woe", "coefficients"], ["weighted"]),
        helper.make_node("Add", ["weighted", "intercept"], ["logit"]),
        helper.make_node("Sigmoid", ["logit"], ["p_bad"]),
        helper.make_node("Sub", ["one", "p_bad"], ["p_good"]),
        helper.make_node("Concat", ["p_good", "p_bad"], ["p64"], axis=1),
        helper.make_node("Cast", ["p64"], [PROBABILITIES_OUTPUT], to=TensorProto.FLOAT),
    ]
    graph = helper.make_graph(
        nodes,
        model_id,
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, [None, n_inputs])],
        [
            helper.make_tensor_value_info(PROBABILITIES_OUTPUT, TensorProto.FLOAT, [None, 2]),
            helper.make_tensor_value_info(POINTS_OUTPUT, TensorProto.DOUBLE, [None, len(slots)]),
            helper.make_tensor_value_info(SCORE_OUTPUT, TensorProto.DOUBLE, [None]),
        ],
        initializer=initialisers,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="infra.model", ir_version=8
    )
    helper.set_model_props(model, {"model_id": model_id})
    onnx.checker.check_model(model, full_check=True)
    return model


def threshold_probes(slots: list[Slots], base_rows: np.ndarray) -> np.ndarray:
    """Rows with one feature set to the float32 nearest each bin edge and to the float32s either side."""
    settings: set[tuple[int, float]] = set()
    for feature in slots:
        for edge in feature.edges:
            nearest = np.float32(edge)
            below, above = np.nextafter(nearest, np.float32(-np.inf)), np.nextafter(nearest, np.float32(np.inf))
            settings.update((feature.column, float(value)) for value in (below, nearest, above))
    probes = np.array(base_rows[np.arange(len(settings)) % base_rows.shape[0]])
    for row, (column, value) in enumerate(sorted(settings)):
        probes[row, column] = value
    return probes


def points_table(fitted: FittedScorecard, slots: list[Slots], entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The card's points table: per feature its bins with counts, bad rate, WoE and points, and the best bin."""
    estimator = fitted.scorecard.estimator_
    intercept = float(estimator.intercept_[0])
    rows = []
    for j, feature in enumerate(slots):
        coefficient = float(estimator.coef_[0][j])
        points = points_of(feature.woe, coefficient, intercept, len(slots))
        missing_points = float(points_of(np.array([feature.missing_woe]), coefficient, intercept, len(slots))[0])
        binned = fitted.scorecard.binning_process_.get_binned_variable(feature.feature)
        table = binned.binning_table.build(add_totals=False)
        bins = _bins_of_feature(feature, points, table)
        regular = [b["points"] for b in bins if b["bin"] not in ("missing", "unknown category")]
        rows.append(
            {
                "feature": feature.feature,
                "index": feature.column,
                "coefficient": coefficient,
                "information_value": fitted.information_value[feature.feature],
                # Numeric bins in order: bin i holds edges[i-1] <= x < edges[i], x widened to float64.
                **({"edges": [float(e) for e in feature.edges]} if not _is_categorical(feature) else {}),
                "bins": [
                    *bins,
                    {
                        "bin": "missing",
                        "count": int(table["Count"].iloc[-1]),
                        "bad_rate": _rate(table["Event rate"].iloc[-1], int(table["Count"].iloc[-1])),
                        "woe": feature.missing_woe,
                        "points": missing_points,
                    },
                ],
                "best_points": max(regular),
            }
        )
    return rows


def _is_categorical(feature: Slots) -> bool:
    """Whether the slots are a categorical feature's (they carry unknown-category slots)."""
    return "unknown category" in feature.labels


def _bins_of_feature(feature: Slots, points: np.ndarray, table: pd.DataFrame) -> list[dict[str, Any]]:
    """Group a feature's slots by binning-table row; unknown-category slots collapse into one entry."""
    grouped: dict[int, dict[str, Any]] = {}
    unknown: dict[str, Any] | None = None
    for slot, bin_id in enumerate(feature.bin_ids):
        if bin_id is None:
            unknown = {"bin": "unknown category", "count": 0, "bad_rate": None}
            unknown.update(woe=float(feature.woe[slot]), points=float(points[slot]))
            continue
        entry = grouped.setdefault(
            bin_id,
            {
                "bin": [],
                "count": int(table["Count"].iloc[bin_id]),
                "bad_rate": _rate(table["Event rate"].iloc[bin_id], int(table["Count"].iloc[bin_id])),
                "woe": float(feature.woe[slot]),
                "points": float(points[slot]),
            },
        )
        entry["bin"].append(feature.labels[slot])
    bins = []
    for bin_id in sorted(grouped):
        entry = grouped[bin_id]
        entry["bin"] = entry["bin"][0] if len(entry["bin"]) == 1 else entry["bin"]
        bins.append(entry)
    return [*bins, unknown] if unknown else bins


def _rate(value: Any, count: int) -> float | None:
    """A bad rate for JSON: None where the bin is empty (optbinning shows 0 there)."""
    return round(float(value), 6) if count else None
