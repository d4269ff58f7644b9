"""What the scores mean: monotone features move them the documented way, and reason codes name real costs.

Everything here goes through the run-time API (``CreditModel.score`` on raw inputs, ``predict`` on a row) of the
shipped artefacts; the directions, bins and bias come from the model cards, the GBDT's bins from its own splits.
"""

from __future__ import annotations

import itertools
import json
import math
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import helper

from lending.catalogue import load_catalogue
from lending.money import Money
from lending.risk.business_assessment import BusinessAssessment
from lending.risk.decision import decide
from lending.risk.facts import Application, IdentityResult
from lending.risk.outcome import Outcome, ReasonSource
from lending.risk.policy import load_policy
from lending.scoring.engine import score_applicant, score_json
from lending.scoring.model import REASON_COUNT, REASON_TEXT, CreditModel, load_model, model_directory

GBDT_ID = "credit_gbdt_v2"
SCORECARD_ID = "credit_scorecard_v2"
MODEL_IDS = (GBDT_ID, SCORECARD_ID)
#: optbinning's trend of the bad rate, as a risk direction.
TREND_DIRECTION = {"ascending": 1, "descending": -1}
#: One float32 step at 1.0: how far onnxruntime's float32 logistic can put P(bad) from the exact sigmoid.
FLOAT32_EPS = float(np.finfo(np.float32).eps)

#: Increasing raw values (model units: about 100 yuan) over the range of the training data. Denominators of a
#: ratio start above zero: a ratio with a zero denominator is missing by the card's rule (see the zero-income test).
RAW_GRIDS: dict[str, list[float]] = {
    "seniority_years": [float(v) for v in range(0, 49, 2)],
    "income": [float(v) for v in np.geomspace(5.0, 1000.0, 25)],
    "assets": [0.0, *(float(v) for v in np.geomspace(100.0, 300_000.0, 24))],
    "debt": [0.0, *(float(v) for v in np.geomspace(10.0, 30_000.0, 24))],
    "amount": [float(v) for v in np.geomspace(50.0, 5000.0, 25)],
    "price": [float(v) for v in np.geomspace(100.0, 11_000.0, 25)],
    "term_months": [float(v) for v in range(6, 73, 6)],
    "expenses": [float(v) for v in np.geomspace(35.0, 180.0, 25)],
    "age_years": [float(v) for v in range(18, 71, 4)],
}


def _base(**changes: Any) -> dict[str, Any]:
    """A middling applicant in model units; missing fields are None, as the feature builder leaves them."""
    raw: dict[str, Any] = {
        "seniority_years": 5.0,
        "term_months": 36.0,
        "age_years": 35.0,
        "expenses": 60.0,
        "income": 150.0,
        "assets": 4000.0,
        "debt": 0.0,
        "amount": 1000.0,
        "price": 1250.0,
        "home": "owner",
        "marital": "married",
        "records": "no",
        "job": "fixed",
    }
    raw.update(changes)
    return raw


#: 24 base applicants: short and long seniority, low, high and missing income, with and without arrears, a fixed
#: and a part-time job.
BASES = [
    _base(seniority_years=seniority, income=income, records=records, job=job)
    for seniority, income, records, job in itertools.product(
        (1.0, 12.0), (70.0, 250.0, None), ("no", "yes"), ("fixed", "partime")
    )
]


def _applicants(count: int, seed: int) -> list[dict[str, Any]]:
    """Varied applicants drawn with a fixed seed."""
    rng = np.random.default_rng(seed)
    return [
        _base(
            seniority_years=float(rng.integers(0, 30)),
            term_months=float(rng.choice([12, 24, 36, 48, 60])),
            age_years=float(rng.integers(18, 70)),
            expenses=float(rng.integers(35, 150)),
            income=float(rng.integers(50, 500)),
            assets=float(rng.choice([0, 1000, 5000, 20000])),
            debt=float(rng.choice([0, 500, 2000])),
            amount=float(rng.integers(200, 2000)),
            price=float(rng.integers(300, 3000)),
            home=str(rng.choice(["owner", "rent", "parents", "other"])),
            marital=str(rng.choice(["married", "single", "separated"])),
            records=str(rng.choice(["no", "yes"])),
            job=str(rng.choice(["fixed", "partime", "freelance"])),
        )
        for _ in range(count)
    ]


@cache
def _card(model_id: str) -> dict[str, Any]:
    card: dict[str, Any] = json.loads((model_directory(model_id) / "card.json").read_text(encoding="utf-8"))
    return card


def _direction(card: dict[str, Any], feature: dict[str, Any]) -> int | None:
    """The card's risk direction of a feature: +1 riskier as it rises, -1 safer, 0 free; None if unused."""
    if card["kind"] == "gbdt":
        return int(feature["monotone"])
    if not feature["used"]:
        return None
    return TREND_DIRECTION.get(feature["monotonic_trend"], 0)


def _implied_directions(card: dict[str, Any], raw_name: str) -> list[int]:
    """Directions of every feature the raw input moves: itself, and each ratio it is a numerator or denominator of."""
    found = []
    for feature in card["features"]:
        direction = _direction(card, feature)
        if direction is None:
            continue
        if feature["name"] == raw_name:
            found.append(direction)
        elif feature["kind"] == "ratio" and raw_name in feature["inputs"]:
            found.append(direction if feature["inputs"][0] == raw_name else -direction)
    return found


def _testable_inputs(model_id: str) -> list[tuple[str, int]]:
    """Raw inputs whose every feature is constrained the same way, so the card documents their direction."""
    card = _card(model_id)
    raw_names = [f["name"] for f in card["features"] if f["kind"] != "ratio"]
    testable = []
    for name in raw_names:
        directions = _implied_directions(card, name)
        if directions and directions[0] != 0 and all(d == directions[0] for d in directions):
            testable.append((name, directions[0]))
    return testable


MONOTONE_CASES = [(model_id, name, d) for model_id in MODEL_IDS for name, d in _testable_inputs(model_id)]


def _raw_values(card: dict[str, Any], raw_name: str) -> list[Any]:
    """Increasing values of a raw input: the grid for a number, the categories by code for a category."""
    feature = next(f for f in card["features"] if f["name"] == raw_name)
    if feature["kind"] == "categorical":
        return sorted(feature["codes"], key=feature["codes"].get)
    return RAW_GRIDS[raw_name]


# --- monotone features --------------------------------------------------------------------------------------------


def test_the_cards_document_directions_for_the_inputs_that_matter() -> None:
    # Given the raw inputs each card constrains one way (directly or through every ratio they feed)
    testable = {model_id: {name for name, _ in _testable_inputs(model_id)} for model_id in MODEL_IDS}

    # Then the checks below cover income, assets, debt, amount and seniority for both models, arrears for the GBDT
    assert {"seniority_years", "income", "assets", "debt", "amount"} <= testable[GBDT_ID] & testable[SCORECARD_ID]
    assert "records" in testable[GBDT_ID]


@pytest.mark.parametrize("model_id", MODEL_IDS)
def test_every_constrained_ratio_is_moved_by_a_checked_input(model_id: str) -> None:
    # Given the ratios a card constrains, and the raw inputs the monotone check moves
    card = _card(model_id)
    checked = {name for name, _ in _testable_inputs(model_id)}
    constrained = [f for f in card["features"] if f["kind"] == "ratio" and _direction(card, f)]

    # Then each constrained ratio has at least one of its inputs among them, so ratios are checked through inputs
    assert constrained
    for ratio in constrained:
        assert checked & set(ratio["inputs"]), ratio["name"]


@pytest.mark.parametrize(("model_id", "raw_name", "direction"), MONOTONE_CASES)
def test_raising_a_monotone_input_never_moves_the_score_against_its_direction(
    model_id: str, raw_name: str, direction: int
) -> None:
    # Given the base applicants and increasing values of one raw input
    model = load_model(model_id)
    values = _raw_values(model.card, raw_name)
    violations = []
    for base_index, base in enumerate(BASES):
        # When each value is scored on the raw-input path
        results = [model.score({**base, raw_name: value}) for value in values]

        # Then a riskier input (+1) never raises the score or lowers P(bad), a safer one (-1) the reverse
        for before, after, value in zip(results, results[1:], values[1:], strict=False):
            score_step = (after.score - before.score) * direction
            p_step = (after.probability_of_default - before.probability_of_default) * direction
            if score_step > 0 or p_step < 0:
                violations.append((base_index, value, before.score, after.score))
    assert violations == []


@pytest.mark.parametrize("model_id", MODEL_IDS)
def test_declaring_no_income_scores_no_better_than_a_small_income(model_id: str) -> None:
    # Given one applicant declaring no income and the same applicant declaring 100 yuan a month
    model = load_model(model_id)
    base = _base(income=0.0)

    # When both are scored
    nothing, little = model.score(base), model.score({**base, "income": 1.0})

    # Then income is monotone at zero as everywhere else: having some cannot look riskier than having none
    assert nothing.score <= little.score


@pytest.mark.parametrize("model_id", MODEL_IDS)
def test_incomes_below_the_least_seen_in_training_never_score_better_than_more(model_id: str) -> None:
    # Given the base applicants with incomes from none up past the least income in training (the ratios' floor)
    model = load_model(model_id)
    ratios = [f for f in model.features if f["kind"] == "ratio" and "income" in f["inputs"]]
    floor = ratios[0]["denominator_floors"][ratios[0]["inputs"].index("income") - 1]
    incomes = [0.0, 0.5, 1.0, floor / 2, floor, floor * 1.5, floor * 3]
    for base in BASES:
        # When each income is scored
        results = [model.score({**base, "income": income}) for income in incomes]
        rows = [model.vector({**base, "income": income}) for income in incomes]

        # Then the score never falls as income rises, and no income ratio is ever missing for a declared income
        assert [r.score for r in results] == sorted(r.score for r in results), base
        assert not any(np.isnan(row[0, f["index"]]) for row in rows for f in ratios)


# --- reason codes -------------------------------------------------------------------------------------------------


@cache
def _gbdt_thresholds() -> dict[int, list[float]]:
    """Per input column, the float32 thresholds of the champion's splits (``x <= t`` goes left)."""
    graph = onnx.load(str(model_directory(GBDT_ID) / "model.onnx"))
    (ensemble,) = [node for node in graph.graph.node if node.op_type.startswith("TreeEnsemble")]
    attributes = {a.name: helper.get_attribute_value(a) for a in ensemble.attribute}
    thresholds: dict[int, set[float]] = {}
    for column, value, mode in zip(
        attributes["nodes_featureids"], attributes["nodes_values"], attributes["nodes_modes"], strict=True
    ):
        if mode == b"BRANCH_LEQ":
            thresholds.setdefault(int(column), set()).add(float(np.float32(value)))
    return {column: sorted(values) for column, values in thresholds.items()}


def _gbdt_bin_values(feature: dict[str, Any]) -> list[Any]:
    """A value in each of the champion's bins of a feature: its categories, or each threshold and one past the last."""
    if feature["kind"] == "categorical":
        return list(feature["codes"])
    thresholds = _gbdt_thresholds()[feature["index"]]
    return [*thresholds, float(np.nextafter(np.float32(thresholds[-1]), np.float32(np.inf)))]


def _gbdt_best(model: CreditModel, raw: dict[str, Any], feature: dict[str, Any]) -> Any:
    """The value of the champion's bin where this feature costs the least, the others as they are."""

    def cost_with(value: Any) -> float:
        row = model.vector({**raw, feature["name"]: value}) if feature["kind"] != "ratio" else model.vector(raw)
        if feature["kind"] == "ratio":
            row[0, feature["index"]] = value
        return model.predict(row)[1][feature["name"]]

    return min(_gbdt_bin_values(feature), key=cost_with)


def _scorecard_best(model: CreditModel, feature: dict[str, Any]) -> Any:
    """A value inside the scorecard's best bin of a feature (its card points table): a category or a bin's middle."""
    table = next(row for row in model.card["scorecard"]["points_table"] if row["feature"] == feature["name"])
    regular = [b for b in table["bins"] if b["bin"] not in ("missing", "unknown category")]
    best = max(range(len(regular)), key=lambda k: regular[k]["points"])
    if feature["kind"] == "categorical":
        label = regular[best]["bin"]
        first = label[0] if isinstance(label, list) else label
        return first.split(": ", 1)[1]
    edges = table["edges"]
    if best == 0:
        return edges[0] - abs(edges[0]) / 2 - 1.0
    if best == len(edges):
        return edges[-1] + abs(edges[-1]) / 2 + 1.0
    return (edges[best - 1] + edges[best]) / 2


def _rescored(model: CreditModel, raw: dict[str, Any], feature: dict[str, Any], value: Any) -> tuple[float, int, float]:
    """P(bad), score and the feature's cost with the feature set to ``value`` (a ratio in the row, else raw)."""
    if feature["kind"] == "ratio":
        row = model.vector(raw)
        row[0, feature["index"]] = value
    else:
        row = model.vector({**raw, feature["name"]: value})
    p_bad, cost = model.predict(row)
    return p_bad, model.score_of(p_bad), cost[feature["name"]]


@pytest.mark.parametrize("model_id", MODEL_IDS)
def test_reasons_are_the_features_that_cost_the_most_points(model_id: str) -> None:
    model = load_model(model_id)
    for raw in _applicants(40, seed=3):
        # Given an applicant and each feature's cost in points
        _, cost = model.predict(model.vector(raw))

        # When the applicant is scored
        result = model.score(raw)

        # Then the reasons are the costliest features with a positive cost, costliest first, in borrower words
        adverse = sorted((c for c in cost.items() if c[1] > 0), key=lambda item: -item[1])[:REASON_COUNT]
        assert [r.feature for r in result.reasons] == [name for name, _ in adverse]
        assert all(r.points > 0 for r in result.reasons)
        assert [r.points for r in result.reasons] == sorted((r.points for r in result.reasons), reverse=True)
        assert all(r.text == REASON_TEXT[r.feature] for r in result.reasons)
        assert all(r.points == Decimal(f"{cost[r.feature]:.1f}") for r in result.reasons)


@pytest.mark.parametrize("model_id", MODEL_IDS)
def test_moving_the_top_reason_to_its_best_bin_raises_the_score(model_id: str) -> None:
    model = load_model(model_id)
    by_name = {feature["name"]: feature for feature in model.features}
    ratios = [f for f in model.features if f["kind"] == "ratio"]
    feeds_a_ratio = {name: any(name in r["inputs"] for r in ratios) for name in by_name}
    checked = 0
    for raw in _applicants(40, seed=11):
        # Given an applicant with a top reason
        result = model.score(raw)
        if not result.reasons:
            continue
        top = result.reasons[0]
        feature = by_name[top.feature]

        # When that feature alone takes the value of its best category or bin
        best = _gbdt_best(model, raw, feature) if model.kind == "gbdt" else _scorecard_best(model, feature)
        p_bad, score, cost = _rescored(model, raw, feature, best)

        # Then P(bad) falls, the score does not, and the feature costs less than it did
        assert p_bad < result.probability_of_default, (top.feature, raw)
        assert score >= result.score
        assert cost < float(top.points)
        if model.kind == "scorecard":
            # A scorecard adds points: the best bin costs nothing and gives back what the reason said it cost (more
            # when the raw value also improves a ratio it feeds), give or take the rounding of two whole scores
            assert cost == pytest.approx(0.0, abs=1e-9)
            gain = score - result.score
            if feeds_a_ratio[top.feature]:
                assert gain >= float(top.points) - 1.05
            else:
                assert abs(gain - float(top.points)) <= 1.05
        checked += 1
    assert checked >= 30


def test_gbdt_contributions_and_bias_reproduce_the_models_log_odds() -> None:
    # Given the champion, its card's bias and varied applicants
    model = load_model(GBDT_ID)
    bias = model.card["reason_codes"]["bias"]
    for raw in [*_applicants(60, seed=5), *BASES]:
        # When the graph's contributions (as score points) are summed back into log-odds
        p_bad, cost = model.predict(model.vector(raw))
        margin = bias + sum(cost.values()) / model.factor

        # Then they give the model's P(bad), and its log-odds within 1e-5 (plus what a float32 P(bad) resolves:
        # onnxruntime's logistic carries an absolute error near FLOAT32_EPS, large in log-odds for a small P(bad))
        assert abs(1.0 / (1.0 + math.exp(-margin)) - p_bad) <= 1e-6
        tolerance = 1e-5 + FLOAT32_EPS / (p_bad * (1.0 - p_bad))
        assert abs(margin - math.log(p_bad / (1.0 - p_bad))) <= tolerance


# --- the challenger through the same API ---------------------------------------------------------------------------


def test_the_scorecard_scores_through_the_same_api() -> None:
    # Given the challenger, loaded like the champion
    model = load_model(SCORECARD_ID)
    table = {row["feature"]: row for row in model.card["scorecard"]["points_table"]}
    for raw in _applicants(20, seed=8):
        # When an applicant is scored
        result = model.score(raw)
        p_bad, cost = model.predict(model.vector(raw))

        # Then it reports its id, a grade from its card, reasons among its selected features,
        # and its points per feature add up to its score
        assert result.model_id == SCORECARD_ID
        assert result.grade in model.card["grades"]["cutoffs"]
        assert {r.feature for r in result.reasons} <= set(model.card["scorecard"]["selected"])
        points = sum(table[name]["best_points"] - c for name, c in cost.items())
        assert points == pytest.approx(model.offset - model.factor * math.log(p_bad / (1 - p_bad)), abs=1e-3)
        assert abs(points - result.score) <= 0.5 + 1e-3


STRONG_REPORT = {
    "seniority_years": 8,
    "home": "owner",
    "marital": "married",
    "derogatory_records": False,
    "job": "fixed",
    "monthly_expenses": "6000.00",
    "monthly_income": "30000.00",
    "assets": "800000.00",
    "debt": "0.00",
}
WEAK_REPORT = {
    "seniority_years": 0,
    "home": "rent",
    "marital": "separated",
    "derogatory_records": True,
    "job": "partime",
    "monthly_expenses": "9000.00",
    "monthly_income": "9500.00",
    "assets": "0.00",
    "debt": "60000.00",
}


def _application() -> Application:
    return Application.model_validate(
        {
            "product": "business_instalment",
            "amount": "120000.00",
            "term_months": 12,
            "decided_on": date(2026, 1, 10),
            "applicant_age": 40,
            "consent": {"credit_report": True, "data_processing": True},
            "industry": "retail",
            "business_registered_on": date(2019, 5, 1),
        }
    )


def _assessment() -> BusinessAssessment:
    """A year of steady trade whose net flow covers 120,000 over 12 months comfortably."""
    return BusinessAssessment(
        first_month=date(2025, 1, 1),
        last_month=date(2025, 12, 1),
        monthly=(),
        average_monthly_inflow=Money.of("100000.00"),
        average_monthly_outflow=Money.of("70000.00"),
        average_monthly_net_flow=Money.of("30000.00"),
        revenue_cv=Decimal("0.0500"),
        revenue_trend=Decimal("0.0100"),
        negative_net_flow_months=0,
        tax=None,
        proposed_instalment=None,
        debt_service_coverage=None,
        findings=(),
    )


@pytest.mark.parametrize("model_id", MODEL_IDS)
@pytest.mark.parametrize(("report", "expected"), [(STRONG_REPORT, Outcome.APPROVE), (WEAK_REPORT, Outcome.DECLINE)])
def test_either_models_outcome_feeds_the_decision(model_id: str, report: dict[str, Any], expected: Outcome) -> None:
    # Given a business loan application, a steady business and a bureau report
    application = _application()
    model = load_model(model_id)

    # When the applicant is scored by the engine and decided on
    outcome, result = score_applicant(model, application.amount, application.term_months, 40, report)
    decision = decide(
        application,
        IdentityResult(passed=True, face_match=Decimal("0.93"), liveness=True),
        outcome,
        _assessment(),
        catalogue=load_catalogue(),
        policy=load_policy(),
    )

    # Then the decision follows the score, records the model's grade and, on a decline, the model's reasons
    assert decision.outcome is expected
    assert (decision.score, decision.risk_grade) == (result.score, result.grade)
    model_codes = [r.code for r in decision.reasons if r.source is ReasonSource.MODEL]
    if expected is Outcome.DECLINE:
        assert model_codes == [f"model_{r.feature}" for r in result.reasons] != []
    assert score_json(result)["model_id"] == model_id
