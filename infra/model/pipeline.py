"""Train both credit models from scratch and write their artefacts; reload and check them with onnxruntime.

``train`` refuses to write a graph that does not reproduce its native model within ``PARITY_LIMIT`` on the
holdout, on rows sitting on every split threshold, and on rows with each feature missing. ``evaluate`` reads only
the artefacts and their cards for the metrics, then refits the native models from the same code and seed to
repeat the parity checks against the shipped graphs.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from infra.model import card as cards
from infra.model import gbdt, metrics, scorecard
from infra.model.card import Prepared
from infra.model.dataset import SEED, bad_flags, fingerprint, holdout_split, load_applicants
from infra.model.features import encode, feature_entries, monotone_directions
from infra.model.runtime import microseconds_per_row, open_session, run

GBDT_ID = "credit_gbdt_v2"
SCORECARD_ID = "credit_scorecard_v2"
MODEL_FILE = "model.onnx"
#: Largest gap tolerated between a graph's probability of bad and the native library's.
PARITY_LIMIT = 1e-5
#: Largest gap tolerated between the contributions' row sum and LightGBM's margin, and between score outputs.
MARGIN_LIMIT = 1e-5
#: The gaps each model's parity must keep within those limits.
GBDT_GAPS = ("max_abs_dp", "max_abs_margin_gap_of_contributions")
SCORECARD_GAPS = ("max_abs_dp", "max_abs_score_gap")


class ParityError(RuntimeError):
    """A graph does not reproduce its native model within the limits."""


def default_models_dir() -> Path:
    """``shared/lending/models`` in this repository, where the run time finds the artefacts."""
    return Path(__file__).resolve().parents[2] / "shared" / "lending" / "models"


def prepare(entries: list[dict[str, Any]] | None = None, seed: int = SEED) -> Prepared:
    """Load, split and encode the applicants; fit the categorical codes on the training part unless given."""
    frame = load_applicants()
    bad = bad_flags(frame)
    train_rows, holdout_rows = holdout_split(bad, seed)
    if entries is None:
        entries = feature_entries(frame.iloc[train_rows], bad[train_rows])
    return Prepared(encode(frame, entries), bad, train_rows, holdout_rows, entries, fingerprint(frame), seed)


def train(out_dir: Path | str | None = None) -> dict[str, Any]:
    """Retrain both models from scratch with the fixed seed, check them and write their artefacts and cards."""
    started = time.perf_counter()
    out = Path(out_dir) if out_dir else default_models_dir()
    data = prepare()
    champion = _train_gbdt(data, out / GBDT_ID)
    challenger = _train_scorecard(data, out / SCORECARD_ID)
    return {
        "out_dir": str(out),
        "seconds": round(time.perf_counter() - started, 1),
        GBDT_ID: champion,
        SCORECARD_ID: challenger,
    }


def evaluate(directory: Path | str | None = None) -> dict[str, Any]:
    """Reload the artefacts with onnxruntime, recompute holdout metrics and repeat the parity checks."""
    root = Path(directory) if directory else default_models_dir()
    champion = _evaluate_gbdt(root / GBDT_ID)
    challenger = _evaluate_scorecard(root / SCORECARD_ID)
    return {"dir": str(root), "ok": champion["ok"] and challenger["ok"], GBDT_ID: champion, SCORECARD_ID: challenger}


# --- probes and parity ------------------------------------------------------------------------------------


def missing_probes(base_rows: np.ndarray) -> np.ndarray:
    """The base rows once per feature with that feature NaN, and one row with every feature NaN."""
    blocks = []
    for column in range(base_rows.shape[1]):
        block = base_rows.copy()
        block[:, column] = np.nan
        blocks.append(block)
    blocks.append(np.full((1, base_rows.shape[1]), np.nan, dtype=np.float32))
    return np.vstack(blocks)


def _gbdt_probes(booster: Any, holdout: np.ndarray) -> dict[str, np.ndarray]:
    """The holdout, rows on every split threshold, and rows with each feature missing."""
    trees = gbdt.tree_structures(booster)
    return {
        "holdout": holdout,
        "on_thresholds": gbdt.threshold_probes(trees, holdout),
        "missing": missing_probes(holdout),
    }


def _probability_gaps(booster: Any, session: Any, probes: dict[str, np.ndarray]) -> dict[str, Any]:
    """Largest |ONNX - LightGBM| probability per probe set, and how many rows differ by more than the limit."""
    gaps = {}
    for name, rows in probes.items():
        gap = np.abs(run(session, rows, gbdt.PROBABILITIES_OUTPUT)[:, 1] - booster.predict(rows))
        gaps[name] = {
            "rows": int(rows.shape[0]),
            "max_abs_dp": float(gap.max()),
            "over_limit": int((gap > PARITY_LIMIT).sum()),
        }
    return gaps


def _gbdt_parity(
    booster: Any, tables: gbdt.SaabasTables, session: Any, probes: dict[str, np.ndarray]
) -> dict[str, Any]:
    """Probability, margin and contribution gaps between the champion graph and LightGBM, per probe set."""
    gaps = _probability_gaps(booster, session, probes)
    for name, rows in probes.items():
        margin = booster.predict(rows, raw_score=True)
        contributions = run(session, rows, gbdt.CONTRIBUTIONS_OUTPUT).astype(np.float64)
        reference = gbdt.saabas_reference(booster, tables, rows)
        gaps[name] |= {
            "max_abs_margin_gap_of_contributions": float(np.max(np.abs(contributions.sum(axis=1) - margin))),
            "max_abs_contribution_gap": float(np.max(np.abs(contributions - reference))),
            "float64_saabas_sum_vs_margin": float(np.max(np.abs(reference.sum(axis=1) - margin))),
        }
    return {"limit_dp": PARITY_LIMIT, "limit_margin": MARGIN_LIMIT, **gaps}


def _scorecard_parity(
    fitted: scorecard.FittedScorecard,
    session: Any,
    names: list[str],
    entries: list[dict[str, Any]],
    probes: dict[str, np.ndarray],
) -> dict[str, Any]:
    """Probability and score gaps between the scorecard graph and optbinning, per probe set."""
    gaps: dict[str, Any] = {"limit_dp": PARITY_LIMIT, "limit_score": MARGIN_LIMIT}
    for name, rows in probes.items():
        p_gap = np.abs(
            run(session, rows, scorecard.PROBABILITIES_OUTPUT)[:, 1] - scorecard.native_probability(fitted, rows, names)
        )
        # optbinning's score() indexes an unseen category as bin -1, so only rows without one are comparable.
        known = _known_categories(rows, entries)
        score_gap = np.abs(
            run(session, rows[known], scorecard.SCORE_OUTPUT) - scorecard.native_score(fitted, rows[known], names)
        )
        gaps[name] = {
            "rows": int(rows.shape[0]),
            "max_abs_dp": float(p_gap.max()),
            "over_limit": int((p_gap > PARITY_LIMIT).sum()),
            "score_rows": int(known.sum()),
            "max_abs_score_gap": float(score_gap.max()),
        }
    return gaps


def _known_categories(rows: np.ndarray, entries: list[dict[str, Any]]) -> np.ndarray:
    """Rows whose every categorical input is a listed code or NaN."""
    known = np.ones(rows.shape[0], dtype=bool)
    for entry in entries:
        if entry["kind"] == "categorical":
            values = rows[:, entry["index"]]
            codes = np.array(sorted(entry["codes"].values()), dtype=np.float32)
            known &= np.isnan(values) | np.isin(values, codes)
    return known


def _breaches(parity: dict[str, Any], keys: tuple[str, ...]) -> list[str]:
    """Each probe set's named gap that exceeds its limit, as a sentence."""
    found = []
    for name, figures in parity.items():
        if not isinstance(figures, dict) or name == "onnxmltools_export":
            continue
        for key in keys:
            limit = PARITY_LIMIT if key == "max_abs_dp" else MARGIN_LIMIT
            if figures[key] > limit:
                found.append(f"{name}: {key} = {figures[key]:.3g} exceeds {limit:g}")
    return found


def _require(parity: dict[str, Any], keys: tuple[str, ...]) -> None:
    """Raise unless every probe set's named gaps are within their limits."""
    breaches = _breaches(parity, keys)
    if breaches:
        raise ParityError("; ".join(breaches))


# --- champion ----------------------------------------------------------------------------------------------


def _train_gbdt(data: Prepared, directory: Path) -> dict[str, Any]:
    """Fit, export, check and write the LightGBM champion: one graph for P(bad) and the reason codes."""
    started = time.perf_counter()
    x_train, y_train = data.train
    x_holdout, y_holdout = data.holdout
    n_features = x_train.shape[1]
    monotone = monotone_directions(data.entries)
    booster = gbdt.fit_booster(x_train, y_train, monotone)
    fit_seconds = time.perf_counter() - started
    cv_auc = gbdt.cross_validated_auc(x_train, y_train, monotone)
    trees = gbdt.tree_structures(booster)
    tables = gbdt.saabas_tables(trees, n_features)
    model = gbdt.champion_graph(trees, tables, GBDT_ID)
    session = open_session(model.SerializeToString())
    probes = _gbdt_probes(booster, x_holdout)
    parity = _gbdt_parity(booster, tables, session, probes)
    _require(parity, GBDT_GAPS)
    parity["onnxmltools_export"] = _onnxmltools_gaps(booster, n_features, probes)

    directory.mkdir(parents=True, exist_ok=True)
    (directory / MODEL_FILE).write_bytes(model.SerializeToString())
    p_holdout = run(session, x_holdout, gbdt.PROBABILITIES_OUTPUT)[:, 1]
    p_train = run(session, x_train, gbdt.PROBABILITIES_OUTPUT)[:, 1]
    scale = metrics.ScoreScale()
    saabas = gbdt.saabas_reference(booster, tables, x_holdout)[:, :n_features]
    shap = np.asarray(booster.predict(x_holdout, pred_contrib=True))[:, :n_features]
    agreement = float(np.mean(np.argmax(saabas, axis=1) == np.argmax(shap, axis=1)))
    card = {
        **cards.header(
            GBDT_ID,
            "gbdt",
            "champion",
            "LightGBM gradient-boosted trees with monotone constraints, as one ONNX tree ensemble that gives the "
            "probability of bad and each feature's path contribution",
            data,
        ),
        "features": _gbdt_features(data, monotone),
        "outputs": _gbdt_outputs(n_features),
        "training": {
            "library": "lightgbm",
            "params": {**gbdt.PARAMS, "monotone_constraints": monotone},
            "num_trees": booster.num_trees(),
            "hyperparameter_selection": "5-fold stratified cross-validation on the training part only; the "
            "holdout was not used to choose anything",
            "cv_auc_train_5fold": round(cv_auc, 6),
            "fit_seconds": round(fit_seconds, 2),
        },
        **cards.scoring_sections(
            scale,
            y_holdout,
            p_holdout,
            scale.from_probability(p_holdout),
            y_train,
            p_train,
            scale.from_probability(p_train),
        ),
        **cards.feature_baseline_section(data),
        "reason_codes": _gbdt_reason_codes(n_features, tables.bias, agreement),
        "onnx": {
            MODEL_FILE: {
                **cards.opset_entry(model, gbdt.TARGET_OPSET),
                "converter": "infra.model.gbdt.champion_graph: LightGBM's dumped trees, float32 thresholds at or "
                "below LightGBM's, NaN routed as LightGBM routes it",
            },
        },
        **cards.tail(
            parity,
            cards.file_entries(directory, [MODEL_FILE]),
            [
                *cards.common_limitations(int(y_train.shape[0])),
                "Saabas contributions depend on the order of splits and can differ from Shapley values; they are "
                "exact in sum but approximate in attribution.",
            ],
        ),
    }
    cards.write(directory, card)
    return _summary(card, directory, time.perf_counter() - started)


def _onnxmltools_gaps(booster: Any, n_features: int, probes: dict[str, np.ndarray]) -> dict[str, Any]:
    """How far onnxmltools' classifier export strays from LightGBM, with the routing corrections and without."""
    corrected, corrections = gbdt.export_onnx(booster, n_features, GBDT_ID)
    uncorrected, _ = gbdt.export_onnx(booster, n_features, GBDT_ID, correct=False)
    return {
        "why": "the reference export the champion graph replaces; it routes like LightGBM only once corrected",
        "corrections": corrections,
        "corrected": _probability_gaps(booster, open_session(corrected.SerializeToString()), probes),
        "uncorrected": _probability_gaps(booster, open_session(uncorrected.SerializeToString()), probes),
    }


def _gbdt_features(data: Prepared, monotone: list[int]) -> list[dict[str, Any]]:
    """The shared feature entries with the champion's monotone direction and NaN routing."""
    x_train, _ = data.train
    annotated = []
    for entry, direction in zip(data.entries, monotone, strict=True):
        missing = int(np.isnan(x_train[:, entry["index"]]).sum())
        routing = (
            "follows the branch LightGBM learned for missing values"
            if missing
            else "scored as 0.0 (LightGBM's rule for a feature with no NaN in training); avoid sending NaN"
        )
        annotated.append({**entry, "monotone": direction, "missing_in_training": missing, "nan_routing": routing})
    return annotated


def _gbdt_outputs(n_features: int) -> dict[str, Any]:
    """What the champion graph returns."""
    return {
        MODEL_FILE: {
            "probabilities": "float32 [N, 2]: P(good), P(bad); P(bad) = 1 / (1 + exp(-sum of contributions))",
            "contributions": f"float32 [N, {n_features + 1}]: columns 0..{n_features - 1} each feature's "
            f"contribution to the log-odds of bad (positive pushes towards bad), column {n_features} the bias; "
            "the row sums to the margin",
        },
    }


def _gbdt_reason_codes(n_features: int, bias: float, agreement: float) -> dict[str, Any]:
    """How the run time turns the graph's contributions into reason codes."""
    return {
        "method": "Saabas path contributions: each split on the way to a leaf credits its feature with the "
        "change in the node's mean prediction (leaf values weighted by in-bag training counts)",
        "file": MODEL_FILE,
        "output": gbdt.CONTRIBUTIONS_OUTPUT,
        "bias": bias,
        "points_cost": "score points a feature costs = factor * contribution (factor from score_scale)",
        "adverse_first": "order features by contribution, largest positive first",
        "top_adverse_feature_agreement_with_treeshap_holdout": round(agreement, 6),
        "n_features": n_features,
    }


def _evaluate_gbdt(directory: Path) -> dict[str, Any]:
    """Metrics of the shipped champion graph and its parity with a fresh LightGBM fit."""
    card = cards.read(directory)
    data = prepare(card["features"], card["split"]["seed"])
    x_train, y_train = data.train
    x_holdout, y_holdout = data.holdout
    session = open_session(directory / MODEL_FILE)
    p_holdout = run(session, x_holdout, gbdt.PROBABILITIES_OUTPUT)[:, 1]
    scale = metrics.ScoreScale()
    booster = gbdt.fit_booster(x_train, y_train, [entry["monotone"] for entry in card["features"]])
    tables = gbdt.saabas_tables(gbdt.tree_structures(booster), x_train.shape[1])
    parity = _gbdt_parity(booster, tables, session, _gbdt_probes(booster, x_holdout))
    checked = _metrics_against_card(card, data, y_holdout, p_holdout, scale.from_probability(p_holdout))
    return {
        "ok": _ok(checked, parity, GBDT_GAPS),
        **checked,
        "parity_with_refit_lightgbm": parity,
        "microseconds_per_row": {
            MODEL_FILE: microseconds_per_row(
                session, x_holdout[0], [gbdt.PROBABILITIES_OUTPUT, gbdt.CONTRIBUTIONS_OUTPUT]
            ),
        },
    }


# --- challenger --------------------------------------------------------------------------------------------


def _train_scorecard(data: Prepared, directory: Path) -> dict[str, Any]:
    """Fit, build, check and write the WoE scorecard challenger."""
    started = time.perf_counter()
    x_train, y_train = data.train
    x_holdout, _ = data.holdout
    names = [entry["name"] for entry in data.entries]
    directions = dict(zip(names, monotone_directions(data.entries), strict=True))
    fitted = scorecard.fit_scorecard(x_train, y_train, data.entries, directions)
    fit_seconds = time.perf_counter() - started
    slots = scorecard.feature_slots(fitted, data.entries)
    model = scorecard.build_graph(fitted, slots, x_train.shape[1], SCORECARD_ID)
    session = open_session(model.SerializeToString())
    probes = _scorecard_probes(slots, x_holdout)
    parity = _scorecard_parity(fitted, session, names, data.entries, probes)
    _require(parity, SCORECARD_GAPS)

    directory.mkdir(parents=True, exist_ok=True)
    (directory / MODEL_FILE).write_bytes(model.SerializeToString())
    estimator = fitted.scorecard.estimator_
    table = scorecard.points_table(fitted, slots, data.entries)
    card = {
        **cards.header(
            SCORECARD_ID,
            "scorecard",
            "challenger",
            "Monotone WoE scorecard: optbinning optimal binning and logistic regression, as a hand-built ONNX graph",
            data,
        ),
        "features": _scorecard_features(data, fitted, directions),
        "outputs": {
            MODEL_FILE: {
                "probabilities": "float32 [N, 2]: P(good), P(bad)",
                "points": f"float64 [N, {len(slots)}]: points per selected feature, in scorecard.selected order",
                "score": "float64 [N]: sum of points = offset - factor * ln(P(bad) / P(good))",
            }
        },
        "training": {
            "library": "optbinning Scorecard (BinningProcess + scikit-learn LogisticRegression, L2, C=1)",
            "fit_seconds": round(fit_seconds, 2),
        },
        "scorecard": {
            "selected": fitted.selected,
            "dropped": fitted.dropped,
            "selection_rule": f"information value >= {scorecard.MIN_INFORMATION_VALUE}, then drop, one at a time, "
            "the feature with the largest positive WoE coefficient until none is positive",
            "intercept": float(estimator.intercept_[0]),
            "missing_rule": "a missing value scores WoE 0, as optbinning's predict_proba does (its binning table "
            "shows the empirical WoE of the missing bin, which the model does not use)",
            "unknown_category_rule": "a code not listed scores optbinning's WoE for an unseen category",
            "points_rule": "points = -factor * coefficient * woe + (offset - factor * intercept) / n_selected",
            "best_points_rule": "best_points is the highest points of a regular bin (not missing or unknown); "
            "reason codes rank features by best_points - points",
            "points_table": table,
        },
        **_scorecard_scoring(session, data),
        **cards.feature_baseline_section(data),
        "onnx": {MODEL_FILE: {**cards.opset_entry(model, scorecard.OPSET), "converter": "infra.model.scorecard"}},
        **cards.tail(
            parity,
            cards.file_entries(directory, [MODEL_FILE]),
            [*cards.common_limitations(int(y_train.shape[0])), *_missing_value_limitations(table)],
        ),
    }
    cards.write(directory, card)
    return _summary(card, directory, time.perf_counter() - started)


def _missing_value_limitations(table: list[dict[str, Any]]) -> list[str]:
    """A sentence for each feature whose missing values score as average although they were not."""
    found = []
    for row in table:
        missing = row["bins"][-1]
        # A handful of missing values says nothing about their risk; thirty begin to.
        if missing["count"] >= 30 and missing["bad_rate"] is not None:
            found.append(
                f"A missing {row['feature']} scores WoE 0 (average risk), as optbinning predicts, although the "
                f"{missing['count']} training applicants without it had a bad rate of {missing['bad_rate']:.1%}."
            )
    return found


def _scorecard_probes(slots: list[scorecard.Slots], holdout: np.ndarray) -> dict[str, np.ndarray]:
    """The holdout, rows on every bin edge, and rows with each feature missing."""
    return {
        "holdout": holdout,
        "on_thresholds": scorecard.threshold_probes(slots, holdout),
        "missing": missing_probes(holdout),
    }


def _scorecard_scoring(session: Any, data: Prepared) -> dict[str, Any]:
    """Metrics, calibration, grades and PSI baseline from the scorecard graph's own probabilities and scores."""
    x_train, y_train = data.train
    x_holdout, y_holdout = data.holdout
    return cards.scoring_sections(
        metrics.ScoreScale(),
        y_holdout,
        run(session, x_holdout, scorecard.PROBABILITIES_OUTPUT)[:, 1],
        run(session, x_holdout, scorecard.SCORE_OUTPUT),
        y_train,
        run(session, x_train, scorecard.PROBABILITIES_OUTPUT)[:, 1],
        run(session, x_train, scorecard.SCORE_OUTPUT),
    )


def _scorecard_features(
    data: Prepared, fitted: scorecard.FittedScorecard, directions: dict[str, int]
) -> list[dict[str, Any]]:
    """The shared feature entries with whether the scorecard uses each and the trend it asked for."""
    annotated = []
    for entry in data.entries:
        name = entry["name"]
        trend = (
            "categories ordered by bad rate" if entry["kind"] == "categorical" else scorecard.TRENDS[directions[name]]
        )
        annotated.append(
            {
                **entry,
                "used": name in fitted.selected,
                "dropped_because": fitted.dropped.get(name),
                "monotonic_trend": trend,
            }
        )
    return annotated


def _evaluate_scorecard(directory: Path) -> dict[str, Any]:
    """Metrics of the shipped scorecard graph and its parity with a fresh optbinning fit."""
    card = cards.read(directory)
    data = prepare(card["features"], card["split"]["seed"])
    x_train, y_train = data.train
    x_holdout, y_holdout = data.holdout
    session = open_session(directory / MODEL_FILE)
    names = [entry["name"] for entry in data.entries]
    directions = dict(zip(names, monotone_directions(data.entries), strict=True))
    fitted = scorecard.fit_scorecard(x_train, y_train, data.entries, directions)
    if fitted.selected != card["scorecard"]["selected"]:
        raise ParityError(f"refit selected {fitted.selected}, the card says {card['scorecard']['selected']}")
    slots = scorecard.feature_slots(fitted, data.entries)
    parity = _scorecard_parity(fitted, session, names, data.entries, _scorecard_probes(slots, x_holdout))
    p_holdout = run(session, x_holdout, scorecard.PROBABILITIES_OUTPUT)[:, 1]
    checked = _metrics_against_card(card, data, y_holdout, p_holdout, run(session, x_holdout, scorecard.SCORE_OUTPUT))
    return {
        "ok": _ok(checked, parity, SCORECARD_GAPS),
        **checked,
        "parity_with_refit_optbinning": parity,
        "microseconds_per_row": {
            MODEL_FILE: microseconds_per_row(
                session, x_holdout[0], [scorecard.PROBABILITIES_OUTPUT, scorecard.POINTS_OUTPUT]
            )
        },
    }


# --- shared ------------------------------------------------------------------------------------------------


def _metrics_against_card(
    card: dict[str, Any], data: Prepared, bad: np.ndarray, p_bad: np.ndarray, scores: np.ndarray
) -> dict[str, Any]:
    """Holdout metrics recomputed from the graph, whether they match the card, and PSI against its baseline."""
    holdout = metrics.ranking_metrics(bad, p_bad)
    recorded = card["metrics"]["holdout"]
    return {
        "data_matches_card": data.fingerprint == card["data"]["fingerprint_sha256"],
        "holdout": holdout,
        "metrics_match_card": all(abs(holdout[key] - recorded[key]) <= 1e-6 for key in ("auc", "gini", "ks")),
        # The inputs' training bins the run time monitors against, recomputed from the same split.
        "feature_baseline_matches_card": cards.feature_baseline_section(data)["feature_baseline"]
        == card.get("feature_baseline"),
        "psi_holdout_vs_train_baseline": round(metrics.population_stability(card["psi_baseline"], scores), 6),
    }


def _ok(checked: dict[str, Any], parity: dict[str, Any], keys: tuple[str, ...]) -> bool:
    """Same data, same metrics and input baselines as the card, and parity within limits."""
    matches = ("data_matches_card", "metrics_match_card", "feature_baseline_matches_card")
    return all(checked[key] for key in matches) and not _breaches(parity, keys)


def _summary(card: dict[str, Any], directory: Path, seconds: float) -> dict[str, Any]:
    """The figures ``train`` prints for one model."""
    parity = {
        name: figures["max_abs_dp"]
        for name, figures in card["parity"].items()
        if isinstance(figures, dict) and "max_abs_dp" in figures
    }
    return {
        "dir": str(directory),
        "holdout": card["metrics"]["holdout"],
        "max_abs_dp": parity,
        "files_bytes": {name: entry["bytes"] for name, entry in card["files"].items()},
        "seconds": round(seconds, 1),
    }
