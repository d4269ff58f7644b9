"""The model behind its card: a file that is not the card's is refused, and the card's scale, grades and words hold.

Also: the onnxruntime sessions are made once per process, each on one intra-op thread.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

import onnxruntime as ort
import pytest

from lending.catalogue import load_catalogue
from lending.scoring.model import (
    DEFAULT_MODEL_ID,
    REASON_TEXT,
    CreditModel,
    ModelCardMismatch,
    load_model,
    model_directory,
)

GBDT_ID = "credit_gbdt_v2"
SCORECARD_ID = "credit_scorecard_v2"
MODEL_IDS = (GBDT_ID, SCORECARD_ID)


def _copy(model_id: str, tmp_path: Path) -> Path:
    """A private copy of a shipped model directory that a test may damage."""
    target = tmp_path / model_id
    shutil.copytree(model_directory(model_id), target)
    return target


def _flip_one_byte(path: Path) -> None:
    """Invert the bits of the byte in the middle of a file."""
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def _rewrite_card(directory: Path, change: Any) -> None:
    """Load card.json, let ``change`` edit the dict in place, write it back."""
    card_path = directory / "card.json"
    card = json.loads(card_path.read_text(encoding="utf-8"))
    change(card)
    card_path.write_text(json.dumps(card), encoding="utf-8")


def _p_at(score: float, model: CreditModel) -> float:
    """The probability of bad whose unrounded score on the card's scale is ``score``."""
    return 1.0 / (1.0 + math.exp((score - model.offset) / model.factor))


# --- the card guards its files --------------------------------------------------------------------------------


@pytest.mark.parametrize("model_id", MODEL_IDS)
def test_an_intact_copy_of_a_shipped_model_loads(model_id: str, tmp_path: Path) -> None:
    # Given an untouched copy of the shipped directory (the control for the refusals below)
    directory = _copy(model_id, tmp_path)

    # When it is loaded
    model = CreditModel(directory)

    # Then it is the model its card names
    assert model.model_id == model_id


@pytest.mark.parametrize(
    ("model_id", "file_name"),
    [(GBDT_ID, "model.onnx"), (SCORECARD_ID, "model.onnx")],
)
def test_a_model_file_with_one_byte_flipped_is_refused(model_id: str, file_name: str, tmp_path: Path) -> None:
    # Given a copy of a shipped model whose file differs from the card's SHA-256 in a single byte
    directory = _copy(model_id, tmp_path)
    _flip_one_byte(directory / file_name)

    # When it is loaded, Then the scoring code refuses it and names the file
    with pytest.raises(ModelCardMismatch, match=file_name):
        CreditModel(directory)


@pytest.mark.parametrize("model_id", MODEL_IDS)
def test_a_card_that_lists_no_files_is_refused(model_id: str, tmp_path: Path) -> None:
    # Given a card stripped of its files section (no hashes to check the graphs against)
    directory = _copy(model_id, tmp_path)
    _rewrite_card(directory, lambda card: card.pop("files"))

    # When it is loaded, Then it is refused
    with pytest.raises(ModelCardMismatch, match=r"no model\.onnx"):
        CreditModel(directory)


@pytest.mark.parametrize("model_id", MODEL_IDS)
def test_a_card_entry_without_a_hash_is_refused(model_id: str, tmp_path: Path) -> None:
    # Given a card whose model.onnx entry lost its SHA-256
    directory = _copy(model_id, tmp_path)
    _rewrite_card(directory, lambda card: card["files"]["model.onnx"].pop("sha256"))

    # When it is loaded, Then it is refused
    with pytest.raises(ModelCardMismatch, match=r"model\.onnx"):
        CreditModel(directory)


def test_a_gbdt_card_that_names_no_reason_code_output_is_refused(tmp_path: Path) -> None:
    # Given the champion whose card no longer says which output carries the contributions
    directory = _copy(GBDT_ID, tmp_path)
    _rewrite_card(directory, lambda card: card["reason_codes"].pop("output"))

    # When it is loaded, Then it is refused rather than scoring without reason codes
    with pytest.raises(ModelCardMismatch, match="reason codes"):
        CreditModel(directory)


def test_a_directory_without_a_card_is_refused(tmp_path: Path) -> None:
    # Given model files without their card
    directory = _copy(GBDT_ID, tmp_path)
    (directory / "card.json").unlink()

    # When it is loaded, Then it is refused
    with pytest.raises(ModelCardMismatch, match=r"card\.json"):
        CreditModel(directory)


def test_a_gbdt_card_naming_an_output_its_graph_lacks_is_refused(tmp_path: Path) -> None:
    # Given the champion whose card says the reason codes come from an output the graph does not have
    directory = _copy(GBDT_ID, tmp_path)
    _rewrite_card(directory, lambda card: card["reason_codes"].update(output="shapley_values"))

    # When it is loaded, Then it is refused: the graph cannot give what the card promises
    with pytest.raises(ModelCardMismatch, match="shapley_values"):
        CreditModel(directory)


@pytest.mark.parametrize("model_id", MODEL_IDS)
def test_a_ratio_without_its_denominator_floors_is_refused(model_id: str, tmp_path: Path) -> None:
    # Given a card whose first ratio feature lost the floors its denominators are read with
    directory = _copy(model_id, tmp_path)

    def drop_floors(card: dict[str, Any]) -> None:
        ratio = next(feature for feature in card["features"] if feature["kind"] == "ratio")
        del ratio["denominator_floors"]

    _rewrite_card(directory, drop_floors)

    # When it is loaded, Then it is refused and names the feature, instead of failing on the first applicant
    with pytest.raises(ModelCardMismatch, match="amount_to_price"):
        CreditModel(directory)


# --- words for every feature ------------------------------------------------------------------------------------


@pytest.mark.parametrize("model_id", MODEL_IDS)
def test_every_card_feature_has_words_a_borrower_understands(model_id: str) -> None:
    # Given the features a shipped card lists
    model = load_model(model_id)

    # When each is looked up in the reason texts
    missing = [name for name in model.names if not REASON_TEXT.get(name, "").strip()]

    # Then every one has a sentence, and none is a bare identifier
    assert missing == []
    for name in model.names:
        assert " " in REASON_TEXT[name]
        assert REASON_TEXT[name].endswith(".")


# --- the score scale --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("model_id", MODEL_IDS)
def test_the_scale_is_the_card_formula(model_id: str) -> None:
    # Given the card's scale: base points at base odds, points to double the odds
    model = load_model(model_id)
    scale = model.card["score_scale"]
    pdo, base_points, base_odds = scale["points_to_double_odds"], scale["base_points"], scale["base_odds_good_to_bad"]

    # When its factor and offset are recomputed from those three numbers
    factor = pdo / math.log(2.0)
    offset = base_points - factor * math.log(base_odds)

    # Then they are the ones the model scores with
    assert model.factor == pytest.approx(factor, rel=1e-12)
    assert model.offset == pytest.approx(offset, rel=1e-12)
    assert (pdo, base_points, base_odds) == (20.0, 600.0, 50.0)


@pytest.mark.parametrize("model_id", MODEL_IDS)
@pytest.mark.parametrize(
    ("odds_good_to_bad", "expected"), [(12.5, 560), (25.0, 580), (50.0, 600), (100.0, 620), (200.0, 640)]
)
def test_twenty_points_double_the_odds(model_id: str, odds_good_to_bad: float, expected: int) -> None:
    # Given an applicant whose odds of good to bad are exactly these
    model = load_model(model_id)
    p_bad = 1.0 / (1.0 + odds_good_to_bad)

    # When the probability is put on the scale
    score = model.score_of(p_bad)

    # Then 50:1 is 600 and every doubling of the odds adds 20 points
    assert score == expected


@pytest.mark.parametrize("model_id", MODEL_IDS)
def test_scores_are_rounded_half_up_to_a_whole_point(model_id: str) -> None:
    # Given probabilities just either side of the score 599.5
    model = load_model(model_id)

    # When they are scored
    above, below = model.score_of(_p_at(599.5 + 1e-6, model)), model.score_of(_p_at(599.5 - 1e-6, model))

    # Then the half point goes up, anything short of it down
    assert (above, below) == (600, 599)


@pytest.mark.parametrize("model_id", MODEL_IDS)
def test_a_scored_applicant_carries_the_card_formula_score(model_id: str) -> None:
    # Given an applicant scored end to end
    model = load_model(model_id)
    raw = {
        "seniority_years": 4.0,
        "term_months": 36.0,
        "age_years": 33.0,
        "expenses": 70.0,
        "income": 180.0,
        "assets": 2500.0,
        "debt": 300.0,
        "amount": 1100.0,
        "price": 1375.0,
        "home": "rent",
        "marital": "single",
        "records": "no",
        "job": "fixed",
    }
    result = model.score(raw)

    # When the card's formula is applied to the probability it reports
    scale = model.card["score_scale"]
    p = result.probability_of_default
    unrounded = scale["offset"] - scale["factor"] * math.log(p / (1.0 - p))

    # Then the score is that value rounded half up
    assert result.score == math.floor(unrounded + 0.5)


# --- grades -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("model_id", MODEL_IDS)
def test_a_score_exactly_at_a_cut_off_gets_that_grade(model_id: str) -> None:
    # Given the card's cut-offs, best grade first
    model = load_model(model_id)
    cutoffs: dict[str, int | None] = model.card["grades"]["cutoffs"]
    graded = [(grade, minimum) for grade, minimum in cutoffs.items() if minimum is not None]

    for index, (grade, minimum) in enumerate(graded):
        # When a score sits exactly on the cut-off, or one point below it
        at, below = model.grade_of(minimum), model.grade_of(minimum - 1)

        # Then the cut-off itself earns the grade and one point less earns the next one down
        next_grade = graded[index + 1][0] if index + 1 < len(graded) else model.floor_grade
        assert (at, below) == (grade, next_grade)


@pytest.mark.parametrize("model_id", MODEL_IDS)
def test_a_probability_that_scores_exactly_a_cut_off_gets_that_grade(model_id: str) -> None:
    # Given, for each cut-off, the probability whose score is exactly that cut-off
    model = load_model(model_id)
    for grade, minimum in model.card["grades"]["cutoffs"].items():
        if minimum is None:
            continue
        p_bad = _p_at(minimum, model)

        # When the probability is scored and graded
        score = model.score_of(p_bad)

        # Then the score is the cut-off and the grade is the cut-off's
        assert (score, model.grade_of(score)) == (minimum, grade)


@pytest.mark.parametrize("model_id", MODEL_IDS)
def test_the_grades_are_the_catalogues_and_the_worst_has_no_floor(model_id: str) -> None:
    # Given the card's grades and the product catalogue
    model = load_model(model_id)
    cutoffs = model.card["grades"]["cutoffs"]

    # When they are compared
    catalogue_grades = set(load_catalogue().risk_grades)

    # Then every grade the model can give is a catalogue grade, and the lowest scores still get one
    assert set(cutoffs) == catalogue_grades
    assert model.grade_of(-10_000) == model.floor_grade == "E"
    assert model.grade_of(10_000) == "A"


# --- sessions ---------------------------------------------------------------------------------------------------


class _SessionSpy:
    """Stands in for ort.InferenceSession: records the options each session is built with, then builds it."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.options: list[ort.SessionOptions] = []
        self.providers: list[Any] = []

    def __call__(self, path: str, sess_options: ort.SessionOptions, providers: Any) -> Any:
        self.options.append(sess_options)
        self.providers.append(providers)
        return self.real(path, sess_options=sess_options, providers=providers)


def test_load_model_is_cached_so_the_sessions_are_made_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the default model loaded once, and then every new session watched
    first = load_model()
    spy = _SessionSpy(ort.InferenceSession)
    monkeypatch.setattr(ort, "InferenceSession", spy)

    # When it is asked for again
    second = load_model()

    # Then it is the same object and no session was built
    assert second is first
    assert spy.options == []


@pytest.mark.parametrize("model_id", MODEL_IDS)
def test_each_model_has_one_session_on_one_intra_op_thread(model_id: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given every new onnxruntime session watched
    spy = _SessionSpy(ort.InferenceSession)
    monkeypatch.setattr(ort, "InferenceSession", spy)

    # When a model is built from its directory
    CreditModel(model_directory(model_id))

    # Then its one graph got one session (P(bad) and reason codes come from one run), on one thread, on the CPU
    assert len(spy.options) == 1
    assert all(options.intra_op_num_threads == 1 for options in spy.options)
    assert all(providers == ["CPUExecutionProvider"] for providers in spy.providers)


def test_the_default_model_is_one_object_however_it_is_asked_for() -> None:
    # Given the champion asked for by default and by its id (the Lambda and the CLI do one each)
    by_default, by_id = load_model(), load_model(DEFAULT_MODEL_ID)

    # Then both are the one model with one set of sessions
    assert by_default is by_id
