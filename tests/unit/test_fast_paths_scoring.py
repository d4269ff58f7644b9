"""The scoring fast paths against the reference: the same input row, the same floats, the same bureau facts."""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal, localcontext
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lending.adapters.vendors.bureau import CreditReport, Home, JobType, Marital
from lending.money import Money
from lending.scoring.features import (
    ASSUMED_FINANCED_SHARE,
    MODEL_UNIT,
    BureauFacts,
    _BureauInput,
    _price,
    _units,
    raw_inputs,
)
from lending.scoring.model import CreditModel, load_model

pytestmark = pytest.mark.slow  # hundreds of examples a property: make test runs it, make unit leaves it out

PROPERTY = settings(max_examples=300, deadline=None)
MODEL_IDS = ("credit_gbdt_v2", "credit_scorecard_v2")

AMOUNTS = st.one_of(st.integers(0, 10**12), st.integers(-(10**21), 10**21)).map(Money)
NUMBERS = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-1e6, max_value=1e7),
    st.sampled_from([0.0, -0.0, 1e300, -1e300, 5e-324]),
)
CATEGORIES = st.one_of(st.none(), st.sampled_from(["owner", "rent", "married", "single", "yes", "no", "fixed", "x"]))


def _outcome(function: Callable[[], Any]) -> tuple[str, Any]:
    """What a call returns, or the type and words of what it raises."""
    try:
        return ("value", function())
    except Exception as exc:
        return ("raised", (type(exc), str(exc)))


@PROPERTY
@given(amount=AMOUNTS)
def test_model_units_of_the_fen_are_the_decimal_quotients(amount: Money) -> None:
    # Given any amount
    # Then its model units and price are the floats of the exact Decimal quotients, as they were computed
    assert _units(amount, exact=True) == float(amount.to_decimal() / MODEL_UNIT) == _units(amount)
    assert _price(amount, exact=True) == float(amount.to_decimal() / ASSUMED_FINANCED_SHARE / MODEL_UNIT)
    assert _price(amount, exact=True) == _price(amount, exact=False)


def test_a_narrow_decimal_context_keeps_the_decimal_quotients() -> None:
    # Given an ambient decimal context too narrow to divide exactly
    amount = Money(123_456_789_012_345_678)
    with localcontext() as context:
        context.prec = 6
        expected = float(amount.to_decimal() / ASSUMED_FINANCED_SHARE / MODEL_UNIT)
        # Then the raw inputs are what that context computes, not the exact quotients
        raw = raw_inputs(amount, 12, 40, BureauFacts.from_report({}))
    assert raw["price"] == expected != amount.fen / 8000


@given(
    report=st.fixed_dictionaries(
        {},
        optional={
            "seniority_years": st.integers(-1, 90) | st.just("3"),
            "home": CATEGORIES,
            "marital": CATEGORIES,
            "derogatory_records": st.booleans() | st.none(),
            "job": CATEGORIES,
            "monthly_expenses": st.integers(-5, 10**9).map(lambda fen: str(Money(fen))),
            "monthly_income": st.integers(0, 10**9).map(lambda fen: str(Money(fen))) | st.just("1.234"),
            "assets": st.integers(0, 10**12).map(lambda fen: str(Money(fen))),
            "debt": st.none() | st.integers(0, 10**9).map(lambda fen: str(Money(fen))),
            "ignored": st.just(1),
        },
    )
)
def test_bureau_facts_are_the_validated_fields(report: dict[str, Any]) -> None:
    # Given any bureau report, valid or not
    def reference() -> BureauFacts:
        return BureauFacts(**_BureauInput.model_validate(report).model_dump())

    fast, expected = _outcome(lambda: BureauFacts.from_report(report)), _outcome(reference)
    # Then the facts are those the validated model dumps (or the report is refused)
    if expected[0] == "value":
        assert fast == expected
    else:
        assert fast[0] == "raised"


@given(
    report=st.fixed_dictionaries(
        {
            "report_id": st.just("r-1"),
            "generated_at": st.just("2026-11-28T08:00:00Z"),
            "seniority_years": st.integers(0, 80),
            "home": st.sampled_from(list(Home)),
            "marital": st.sampled_from(list(Marital)),
            "derogatory_records": st.booleans(),
            "job": st.sampled_from(list(JobType)),
            "monthly_expenses": st.integers(0, 10**9).map(lambda fen: str(Money(fen))),
            "monthly_income": st.integers(0, 10**9).map(lambda fen: str(Money(fen))),
            "assets": st.integers(0, 10**12).map(lambda fen: str(Money(fen))),
            "debt": st.integers(0, 10**9).map(lambda fen: str(Money(fen))),
        }
    )
)
def test_a_bureau_clients_report_gives_the_facts_validation_would(report: dict[str, Any]) -> None:
    # Given a report as the bureau client validated it
    validated = CreditReport.model_validate(report)
    # Then its facts are what validating it again gives, field for field and type for type
    facts, expected = validated.facts(), BureauFacts.from_report(validated)
    assert facts == expected
    assert [type(getattr(facts, f)) for f in facts.__slots__] == [type(getattr(expected, f)) for f in facts.__slots__]
    # And facts pass through the engine's reader as they are
    assert BureauFacts.from_report(facts) is facts


@pytest.fixture(scope="module", params=MODEL_IDS)
def model(request: pytest.FixtureRequest) -> CreditModel:
    return load_model(request.param)


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_the_planned_row_is_the_cards_row(model: CreditModel, data: st.DataObject) -> None:
    # Given raw inputs of any value, missing or unknown
    raw: dict[str, Any] = {}
    for feature in model.features:
        if feature["kind"] == "numeric":
            raw[feature["name"]] = data.draw(NUMBERS | st.integers(-5, 5) | st.decimals(allow_nan=False))
        elif feature["kind"] == "categorical":
            raw[feature["name"]] = data.draw(CATEGORIES | st.sampled_from(sorted(feature["codes"])))
    assert model._plan is not None
    # When the row is built from the plan and from the card
    with np.errstate(over="ignore"):
        planned, carded = model.vector(raw), model._vector_by_card(raw)
    # Then the two rows are the same float32 bits
    assert planned.dtype == carded.dtype == np.float32
    assert planned.shape == carded.shape
    assert planned.tobytes() == carded.tobytes()


def test_the_contributions_become_the_same_points(model: CreditModel) -> None:
    # Given an applicant's row
    raw = raw_inputs(Money.of("120000.00"), 12, 40, BureauFacts.from_report({"monthly_income": "30000.00"}))
    row = model.vector(raw)
    p_bad, cost = model.predict(row)
    # Then each feature's points are factor × float(its float32 contribution), as they were
    if model.kind == "gbdt":
        (contributions,) = model._model.run(["contributions"], {model.input_name: row})
        expected = {n: model.factor * float(c) for n, c in zip(model.names, contributions[0], strict=False)}
        assert cost == expected
    assert 0 <= p_bad <= 1
    assert all(not math.isnan(points) for points in cost.values())


@settings(max_examples=50, deadline=None)
@given(values=st.lists(st.floats(-1e4, 1e5, width=32) | st.just(math.nan), min_size=17, max_size=17))
def test_the_direct_run_gives_what_the_wrapper_gives(model: CreditModel, values: list[float]) -> None:
    # Given any row
    row = np.array([values[: len(model.features)]], dtype=np.float32)
    # When the graph runs through the inner session and through onnxruntime's wrapper
    direct = model._run(model._outputs, {model.input_name: row}, None)
    wrapped = model._model.run(model._outputs, {model.input_name: row})
    # Then the outputs are the same bits, and the inner session is what runs
    assert [a.tobytes() for a in direct] == [b.tobytes() for b in wrapped]
    assert model._run == model._model._sess.run


def test_a_session_without_an_inner_one_runs_through_the_wrapper() -> None:
    from lending.scoring.model import _runner

    class Wrapper:
        """A session as a later onnxruntime might shape it: the wrapper's API, no ``_sess``."""

        def __init__(self, inner: Any) -> None:
            self.get_inputs, self.get_providers, self.run = inner.get_inputs, inner.get_providers, inner.run

    session = load_model("credit_gbdt_v2")._model
    wrapper = Wrapper(session)
    assert _runner(wrapper, "features") == wrapper.run  # type: ignore[arg-type]
    assert _runner(session, "not_its_input") == session.run
    assert _runner(session, "features") == session._sess.run


def test_a_card_the_plan_cannot_read_falls_back_to_the_card(model: CreditModel) -> None:
    # Given a card whose first categorical feature has lost its codes
    from lending.scoring.model import _vector_plan

    broken = [dict(feature) for feature in model.features]
    categorical = next(feature for feature in broken if feature["kind"] == "categorical")
    del categorical["codes"]
    # Then no plan is made, and the duplicated or missing columns are refused too
    assert _vector_plan(broken) is None
    assert _vector_plan([*model.features, model.features[0]]) is None
    assert _vector_plan(model.features[1:]) is None
    assert _vector_plan(model.features) is not None


def test_the_raw_amounts_are_the_exact_decimal_quotients() -> None:
    raw = raw_inputs(Money.of("120000.00"), 12, 40, BureauFacts.from_report({"debt": "0.01"}))
    assert raw["amount"] == float(Decimal("1200")) == 1200.0
    assert raw["price"] == float(Decimal("120000.00") / Decimal("0.80") / Decimal(100)) == 1500.0
    assert raw["debt"] == float(Decimal("0.01") / Decimal(100))
