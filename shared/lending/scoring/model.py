"""The credit model behind its card: one onnxruntime session per process, scores, grades and reason codes.

A model is a directory with ``card.json`` and the ONNX files the card lists with their SHA-256; a file that does
not match its card is refused. Which model scores is configuration (``CREDIT_MODEL_ID``), never code. Two kinds:

- ``gbdt``: one run of ``model.onnx`` gives P(bad) and each feature's contribution to the log-odds (path
  contributions, the output the card's ``reason_codes`` names), so reason codes need no LightGBM at run time.
- ``scorecard``: ``model.onnx`` gives P(bad) and the points per feature; reason codes are the points a feature
  lost against its best bin.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Mapping
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from lending.errors import LendingError
from lending.scoring.bins import FeatureBinning
from lending.scoring.cards import model_directory
from lending.scoring.scores import ModelReason, ModelScore

DEFAULT_MODEL_ID = "credit_gbdt_v2"
REASON_COUNT = 4

#: Each feature in words a borrower understands: what would help.
REASON_TEXT: Mapping[str, str] = {
    "seniority_years": "Time with your current employer or in your current business is short.",
    "term_months": "The repayment term you asked for is long for the amount.",
    "age_years": "Your age band carries higher repayment risk in our data.",
    "expenses": "Your monthly expenses are high.",
    "income": "Your monthly income is low for the loan you asked for.",
    "assets": "You hold few assets.",
    "debt": "You already owe a lot of other debt.",
    "amount": "The amount you asked for is large.",
    "price": "The total spending this loan would finance is large.",
    "home": "Your housing situation carries higher repayment risk in our data.",
    "marital": "Your household situation carries higher repayment risk in our data.",
    "records": "The credit bureau reports past arrears.",
    "job": "Your type of employment carries higher repayment risk in our data.",
    "amount_to_price": "The loan would finance a large share of what you spend.",
    "instalment_to_income": "The instalments would take a large share of your income.",
    "debt_to_income": "Your existing debt is high compared with your income.",
    "expenses_to_income": "Your expenses take a large share of your income.",
}


class ModelCardMismatch(LendingError):
    """A model file that is not the one its card describes (or a card that is incomplete)."""

    code = "model_card_mismatch"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


#: A session's run: output names, the feed by input name, run options.
_Run = Callable[[list[str], dict[str, np.ndarray], None], list[np.ndarray]]


def _runner(session: ort.InferenceSession, input_name: str) -> _Run:
    """``session.run``, without the checks its Python wrapper repeats on every call when each is settled once here.

    The wrapper checks that every input is fed and that no OrtValue belongs to another session, refuses graph
    capture, and can fall back from a failing GPU provider. The model is always fed one float32 array under the
    card's only input name on the CPU provider, so none of those can come out differently from one call to the
    next, yet they cost about a tenth of each run. Any other session, or an onnxruntime whose wrapper holds no
    inner session, runs through the wrapper.
    """
    inner = getattr(session, "_sess", None)
    only_input = [node.name for node in session.get_inputs()] == [input_name]
    if inner is None or not only_input or session.get_providers() != ["CPUExecutionProvider"]:
        run: _Run = session.run
        return run
    inner_run: _Run = inner.run
    return inner_run


def _session(path: Path) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1  # one Lambda vCPU's worth; more threads only contend
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # the LightGBM graph warns on every run otherwise
    return ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])


class CreditModel:
    """A verified model and its sessions."""

    def __init__(self, directory: Path) -> None:
        card_path = directory / "card.json"
        if not card_path.is_file():
            raise ModelCardMismatch(f"no card.json in {directory}")
        self.card: dict[str, Any] = json.loads(card_path.read_text())
        files: dict[str, Any] = self.card.get("files") or {}
        if "model.onnx" not in files:
            raise ModelCardMismatch("the card lists no model.onnx")
        reason_codes = self.card.get("reason_codes") or {}
        if self.card.get("kind") == "gbdt" and (
            reason_codes.get("file") != "model.onnx" or not reason_codes.get("output")
        ):
            raise ModelCardMismatch(
                "a gradient-boosted model's card must name the model.onnx output of its reason codes"
            )
        for name, spec in files.items():
            path = directory / name
            if not path.is_file() or _sha256(path) != spec.get("sha256"):
                raise ModelCardMismatch(f"{name} does not match the SHA-256 in its card; refusing to score with it")
        self.model_id: str = self.card["model_id"]
        #: The artefact's identity beside its id: the SHA-256 of the graph that scored (the card's, just checked).
        self.sha256: str = files["model.onnx"]["sha256"]
        self.kind: str = self.card["kind"]
        self.features: list[dict[str, Any]] = sorted(self.card["features"], key=lambda f: f["index"])
        self.names = [f["name"] for f in self.features]
        for feature in self.features:
            if feature["kind"] == "ratio" and not _ratio_readable(feature):
                raise ModelCardMismatch(
                    f"ratio feature {feature['name']} needs its inputs and a floor for each denominator"
                )
        scale = self.card["score_scale"]
        self.factor = float(scale["factor"])
        self.offset = float(scale["offset"])
        cutoffs: dict[str, int | None] = self.card["grades"]["cutoffs"]
        self.cutoffs = sorted(
            ((grade, minimum) for grade, minimum in cutoffs.items() if minimum is not None), key=lambda g: -g[1]
        )
        self.floor_grade = next(grade for grade, minimum in cutoffs.items() if minimum is None)
        self.input_name: str = self.card["input"]["name"]
        self._plan = _vector_plan(self.features)
        # Each input's training bins, so monitoring keeps an applicant's bins, never their inputs; a card exported
        # before the baseline was stored with the model scores without them.
        self.binning = FeatureBinning.from_card(self.card) if "feature_baseline" in self.card else None
        self._model = _session(directory / "model.onnx")
        outputs = {output.name for output in self._model.get_outputs()}
        if self.kind == "gbdt":
            self._outputs: list[str] = ["probabilities", reason_codes["output"]]
        else:
            self._outputs = ["probabilities", "points"]
        if not outputs.issuperset(self._outputs):
            raise ModelCardMismatch(f"model.onnx lacks the outputs its card describes: {sorted(self._outputs)}")
        self._run = _runner(self._model, self.input_name)
        if self.kind == "scorecard":
            table = self.card["scorecard"]["points_table"]
            self._best_points = {row["feature"]: max(b["points"] for b in row["bins"]) for row in table}
            self._selected: list[str] = self.card["scorecard"]["selected"]

    def vector(self, raw: Mapping[str, Any]) -> np.ndarray:
        """The float32 input row from raw fields, by the card's rules (codes, ratios, NaN for missing)."""
        if self._plan is not None:
            return self._vector_by_plan(self._plan, raw)
        return self._vector_by_card(raw)

    def _vector_by_card(self, raw: Mapping[str, Any]) -> np.ndarray:
        """The row read from the card's feature entries on every call: the reference the plan is tested against."""
        values: dict[str, float] = {}
        row = np.empty((1, len(self.features)), dtype=np.float32)
        for feature in self.features:
            name, kind = feature["name"], feature["kind"]
            if kind == "numeric":
                value = raw.get(name)
                number = math.nan if value is None else float(value)
            elif kind == "categorical":
                code = feature["codes"].get(raw.get(name))
                number = math.nan if code is None else float(code)
            else:  # ratio: left to right in float64 on the raw values, a denominator below its floor raised to it
                inputs = [values.get(i, math.nan) for i in feature["inputs"]]
                number = inputs[0]
                for denominator, floor in zip(inputs[1:], feature["denominator_floors"], strict=True):
                    number = math.nan if math.isnan(denominator) else number / max(denominator, float(floor))
            values[name] = number
            row[0, feature["index"]] = number
        return row

    def _vector_by_plan(self, plan: tuple[_Step, ...], raw: Mapping[str, Any]) -> np.ndarray:
        """:meth:`vector` by the steps read from the card once: the same values, converted to float32 alike."""
        values: dict[str, float] = {}
        numbers = [math.nan] * len(plan)
        nan, isnan, get = math.nan, math.isnan, raw.get
        for index, name, codes, ratio in plan:
            if ratio is not None:  # left to right in float64 on the raw values, each denominator at least its floor
                numerator, denominators = ratio
                number = values.get(numerator, nan)
                for denominator_name, floor in denominators:
                    denominator = values.get(denominator_name, nan)
                    number = nan if isnan(denominator) else number / (denominator if denominator > floor else floor)
            elif codes is not None:
                code = codes.get(get(name))
                number = nan if code is None else float(code)
            else:
                value = get(name)
                number = nan if value is None else float(value)
            values[name] = number
            numbers[index] = number
        return np.array([numbers], dtype=np.float32)

    def score_of(self, p_bad: float) -> int:
        """Points on the card's scale (points to double the odds), rounded half up to a whole point."""
        p = min(max(p_bad, 1e-12), 1 - 1e-12)
        return math.floor(self.offset - self.factor * math.log(p / (1 - p)) + 0.5)

    def grade_of(self, score: int) -> str:
        """The best grade whose minimum the score reaches."""
        return next((grade for grade, minimum in self.cutoffs if score >= minimum), self.floor_grade)

    def predict(self, row: np.ndarray) -> tuple[float, dict[str, float]]:
        """P(bad) and, per feature, the score points it cost (positive: it lowered the score)."""
        probabilities, by_feature = self._run(self._outputs, {self.input_name: row}, None)
        if self.kind == "scorecard":
            points = by_feature[0]
            cost = {name: self._best_points[name] - float(p) for name, p in zip(self._selected, points, strict=True)}
        else:
            # tolist widens each float32 to the same float as float() of it would; the last column is the bias.
            factor = self.factor
            cost = {name: factor * c for name, c in zip(self.names, by_feature[0].tolist(), strict=False)}
        return float(probabilities[0, 1]), cost

    def reads_as(self, other: CreditModel) -> bool:
        """Whether this model's input row is built exactly as ``other``'s (same inputs, codes and floors)."""
        return self._plan is not None and self._plan == other._plan

    def score(self, raw: Mapping[str, Any]) -> ModelScore:
        """Everything the decision needs from the model for one applicant."""
        return self.score_row(self.vector(raw))

    def score_row(self, row: np.ndarray) -> ModelScore:
        """:meth:`score` from the input row :meth:`vector` built."""
        p_bad, cost = self.predict(row)
        score = self.score_of(p_bad)
        adverse = sorted(((c, n) for n, c in cost.items() if c > 0), reverse=True)[:REASON_COUNT]
        reasons = tuple(ModelReason(name, REASON_TEXT[name], Decimal(f"{points:.1f}")) for points, name in adverse)
        return ModelScore(p_bad, score, self.grade_of(score), reasons, self.model_id)


#: A ratio's numerator, and each denominator with its floor.
_Ratio = tuple[str, tuple[tuple[str, float], ...]]
#: One feature as :meth:`CreditModel.vector` reads it: column, name, codes (categorical) and ratio.
_Step = tuple[int, str, Mapping[Any, Any] | None, _Ratio | None]


def _vector_plan(features: list[dict[str, Any]]) -> tuple[_Step, ...] | None:
    """The card's features as steps for :meth:`CreditModel.vector`; None (read the card on every row, and fail as
    that fails) when a column is not filled exactly once or a feature lacks what its kind needs."""
    steps: list[_Step] = []
    for feature in features:
        kind, index = feature.get("kind"), feature.get("index")
        if type(index) is not int or not isinstance(feature.get("name"), str):
            return None
        if kind == "numeric":
            steps.append((index, feature["name"], None, None))
        elif kind == "categorical" and isinstance(feature.get("codes"), dict):
            steps.append((index, feature["name"], feature["codes"], None))
        elif kind == "ratio" and _ratio_readable(feature):
            numerator, *denominators = feature["inputs"]
            floors = tuple(zip(denominators, map(float, feature["denominator_floors"]), strict=True))
            steps.append((index, feature["name"], None, (numerator, floors)))
        else:
            return None
    if sorted(step[0] for step in steps) != list(range(len(steps))):
        return None
    return tuple(steps)


def _ratio_readable(feature: dict[str, Any]) -> bool:
    """Whether a ratio entry has a numerator, and a number for the floor of each denominator."""
    inputs, floors = feature.get("inputs"), feature.get("denominator_floors")
    return (
        isinstance(inputs, list)
        and isinstance(floors, list)
        and len(inputs) >= 1
        and len(floors) == len(inputs) - 1
        and all(isinstance(name, str) for name in inputs)
        and all(type(floor) in (int, float) for floor in floors)
    )


def load_model(model_id: str | None = None) -> CreditModel:
    """The model (default: the champion), verified and with its sessions, once per process."""
    return _load(model_id or DEFAULT_MODEL_ID)


@cache
def _load(model_id: str) -> CreditModel:
    directory = model_directory(model_id)
    if not directory.is_dir():
        shipped = sorted(path.name for path in directory.parent.iterdir() if (path / "card.json").is_file())
        raise ModelCardMismatch(f"no model {model_id!r} is shipped; the layer has {', '.join(shipped)}")
    return CreditModel(directory)
