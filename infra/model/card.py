"""The model card: the one file the run time reads to build inputs, scale scores, grade and watch stability."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from infra.model import metrics
from infra.model.dataset import HOLDOUT_SHARE, SOURCE
from infra.model.runtime import INPUT_NAME, sha256_file, versions

CARD_FILE = "card.json"
CARD_VERSION = 1


@dataclass(frozen=True)
class Prepared:
    """The applicants, their outcome, the split and the encoded float32 inputs."""

    features: np.ndarray
    bad: np.ndarray
    train_rows: np.ndarray
    holdout_rows: np.ndarray
    entries: list[dict[str, Any]]
    fingerprint: str
    seed: int

    @property
    def train(self) -> tuple[np.ndarray, np.ndarray]:
        """Inputs and outcomes of the training part."""
        return self.features[self.train_rows], self.bad[self.train_rows]

    @property
    def holdout(self) -> tuple[np.ndarray, np.ndarray]:
        """Inputs and outcomes of the holdout."""
        return self.features[self.holdout_rows], self.bad[self.holdout_rows]


def header(model_id: str, kind: str, role: str, summary: str, data: Prepared) -> dict[str, Any]:
    """Identity, data provenance, split and input contract: the part every card shares."""
    _, holdout_bad = data.holdout
    _, train_bad = data.train
    return {
        "card_version": CARD_VERSION,
        "model_id": model_id,
        "kind": kind,
        "role": role,
        "summary": summary,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "target": {
            "name": "bad",
            "definition": "Status == 'bad' in the source data",
            "probability_column": 1,
        },
        "data": {
            **SOURCE,
            "rows": int(data.bad.shape[0]),
            "bad_rate": round(float(data.bad.mean()), 6),
            "fingerprint_sha256": data.fingerprint,
            "fingerprint_rule": "SHA-256 of the table as CSV (pandas to_csv, no index, LF line ends)",
        },
        "split": {
            "method": "stratified on the outcome, scikit-learn train_test_split",
            "holdout_share": HOLDOUT_SHARE,
            "seed": data.seed,
            "train_rows": int(train_bad.shape[0]),
            "holdout_rows": int(holdout_bad.shape[0]),
            "train_bad_rate": round(float(train_bad.mean()), 6),
            "holdout_bad_rate": round(float(holdout_bad.mean()), 6),
        },
        "input": {
            "name": INPUT_NAME,
            "dtype": "float32",
            "shape": [None, len(data.entries)],
            "column_order": "features[i].index",
        },
    }


def scoring_sections(
    scale: metrics.ScoreScale,
    holdout_bad: np.ndarray,
    holdout_p: np.ndarray,
    holdout_scores: np.ndarray,
    train_bad: np.ndarray,
    train_p: np.ndarray,
    train_scores: np.ndarray,
) -> dict[str, Any]:
    """Metrics, calibration, score scale, grades and the PSI baseline, from the ONNX predictions."""
    cutoffs = metrics.grade_cutoffs(holdout_scores)
    baseline = metrics.psi_baseline(train_scores)
    return {
        "metrics": {
            "source": "onnxruntime predictions of the shipped graph",
            "holdout": metrics.ranking_metrics(holdout_bad, holdout_p),
            "train": metrics.ranking_metrics(train_bad, train_p),
        },
        "calibration_holdout": metrics.calibration_table(holdout_bad, holdout_p),
        "score_scale": scale.card(),
        "grades": {
            "cutoffs": cutoffs,
            "rule": "the best grade whose min_score the score reaches; E has no floor",
            "how_chosen": "holdout score quantiles 0.85, 0.60, 0.35, 0.15 rounded to whole points, so A-E hold "
            "about 15/25/25/20/15% of holdout applicants",
            "holdout": metrics.grade_table(holdout_scores, holdout_bad, cutoffs),
        },
        "psi_baseline": {
            **baseline,
            "population": "training part, scores of the shipped graph",
            "psi_holdout": round(metrics.population_stability(baseline, holdout_scores), 6),
        },
    }


def feature_baseline_section(data: Prepared) -> dict[str, Any]:
    """The training inputs' reference bins: the same for every model fitted on this split."""
    x_train, _ = data.train
    return {"feature_baseline": metrics.feature_baseline(x_train, data.entries)}


def file_entries(directory: Path, names: list[str]) -> dict[str, dict[str, Any]]:
    """SHA-256 and size of each artefact file the card describes."""
    return {
        name: {"sha256": sha256_file(directory / name), "bytes": (directory / name).stat().st_size} for name in names
    }


def opset_entry(model: Any, target_opset: int) -> dict[str, Any]:
    """The opsets a graph imports and the IR version it was saved with."""
    return {
        "target_opset": target_opset,
        "opset_imports": {entry.domain or "ai.onnx": entry.version for entry in model.opset_import},
        "ir_version": int(model.ir_version),
        "producer": f"{model.producer_name} {model.producer_version}".strip(),
    }


def tail(parity: dict[str, Any], files: dict[str, dict[str, Any]], limitations: list[str]) -> dict[str, Any]:
    """Parity figures, library versions, file hashes and known limits: the part written last."""
    return {"parity": parity, "versions": versions(), "files": files, "limitations": limitations}


def write(directory: Path, card: dict[str, Any]) -> Path:
    """Write the card as indented JSON (no NaN or infinity, which JSON does not have)."""
    path = directory / CARD_FILE
    path.write_text(json.dumps(card, indent=2, ensure_ascii=False, allow_nan=False) + "\n", encoding="utf-8")
    return path


def read(directory: Path) -> dict[str, Any]:
    """A card, with every artefact file it lists checked against its SHA-256."""
    card: dict[str, Any] = json.loads((directory / CARD_FILE).read_text(encoding="utf-8"))
    for name, entry in card["files"].items():
        actual = sha256_file(directory / name)
        if actual != entry["sha256"]:
            raise ValueError(f"{directory / name}: SHA-256 {actual} does not match the card's {entry['sha256']}")
    return card


def common_limitations(train_rows: int) -> list[str]:
    """Limits every model fitted on this data shares."""
    return [
        f"Fitted on {train_rows:,} applicants of a public research data set of unknown date and country; not "
        "validated on this platform's applicants. Recalibrate and re-cut grades on own outcomes before use.",
        "Age and marital status are inputs because the data has them; many jurisdictions restrict their use in "
        "credit decisions. Review against local law before production use, or retrain without them.",
        "The source does not state the currency units of the monetary fields; inputs must use the same units.",
    ]
