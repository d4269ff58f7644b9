"""Incomplete and malformed inputs: missing bureau fields score as the cards document, unknown categories as missing,
and ``lending score`` answers a bad line with an error line and a non-zero exit.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from infra.console import main
from lending.money import Money
from lending.scoring.features import BureauFacts, raw_inputs
from lending.scoring.model import load_model

GBDT_ID = "credit_gbdt_v2"
SCORECARD_ID = "credit_scorecard_v2"
MODEL_IDS = (GBDT_ID, SCORECARD_ID)
BUREAU_NUMBERS = ("seniority_years", "expenses", "income", "assets", "debt")
BUREAU_CATEGORIES = ("home", "marital", "records", "job")

FULL_REPORT: dict[str, Any] = {
    "seniority_years": 6,
    "home": "owner",
    "marital": "married",
    "derogatory_records": False,
    "job": "fixed",
    "monthly_expenses": "6000.00",
    "monthly_income": "18000.00",
    "assets": "400000.00",
    "debt": "20000.00",
}


def _raw(report: dict[str, Any] | None = None, /, **changes: Any) -> dict[str, Any]:
    """Raw model inputs for a 100,000 loan over 24 months to a 38-year-old, from a bureau report."""
    raw = raw_inputs(Money.of("100000.00"), 24, 38, BureauFacts.from_report(FULL_REPORT if report is None else report))
    raw.update(changes)
    return raw


def _line(**changes: Any) -> str:
    """One applicant as a JSON line for ``lending score``."""
    applicant: dict[str, Any] = {"amount": "100000.00", "term_months": 24, "age_years": 38, "bureau": FULL_REPORT}
    applicant.update(changes)
    return json.dumps(applicant)


# --- missing bureau fields -----------------------------------------------------------------------------------------


def test_an_empty_bureau_report_leaves_its_fields_missing() -> None:
    # Given a bureau report with none of the fields the model reads
    facts = BureauFacts.from_report({})

    # When it is mapped to raw inputs
    raw = _raw({})

    # Then the numbers are NaN and the categories None, while the application's own facts are there
    assert all(getattr(facts, name) is None for name in facts.__slots__)
    assert all(math.isnan(raw[name]) for name in BUREAU_NUMBERS)
    assert all(raw[name] is None for name in BUREAU_CATEGORIES)
    assert (raw["amount"], raw["term_months"], raw["age_years"]) == (1000.0, 24.0, 38.0)


@pytest.mark.parametrize("model_id", MODEL_IDS)
def test_an_applicant_with_no_bureau_data_still_scores(model_id: str) -> None:
    # Given an applicant whose bureau report is empty
    model = load_model(model_id)
    raw = _raw({})

    # When the row is built and scored
    row = model.vector(raw)
    result = model.score(raw)

    # Then the bureau features and the ratios built on them are NaN, and the applicant still gets a graded score
    by_name = {feature["name"]: feature for feature in model.features}
    for name in (*BUREAU_NUMBERS, *BUREAU_CATEGORIES, "instalment_to_income", "debt_to_income", "expenses_to_income"):
        assert np.isnan(row[0, by_name[name]["index"]]), name
    assert not np.isnan(row[0, by_name["amount_to_price"]["index"]])
    assert 0.0 < result.probability_of_default < 1.0
    assert result.grade in model.card["grades"]["cutoffs"]


def _gbdt_zero_routed() -> list[str]:
    """Raw features the champion's card says score NaN as 0.0 (no NaN in training)."""
    card = load_model(GBDT_ID).card
    return [
        f["name"] for f in card["features"] if f["kind"] != "ratio" and f["nan_routing"].startswith("scored as 0.0")
    ]


@pytest.mark.parametrize("name", _gbdt_zero_routed())
def test_the_gbdt_scores_a_missing_value_never_seen_in_training_as_zero(name: str) -> None:
    # Given the champion, whose card documents NaN as 0.0 for features without missing values in training,
    # and rows of several applicants with that feature's column set to NaN and to 0.0 (ratios left as they are)
    model = load_model(GBDT_ID)
    column = next(f["index"] for f in model.features if f["name"] == name)
    for report in (FULL_REPORT, {}, {**FULL_REPORT, "derogatory_records": True, "job": "partime"}):
        missing, zero = model.vector(_raw(report)), model.vector(_raw(report))
        missing[0, column], zero[0, column] = np.nan, 0.0

        # When both rows are scored
        p_missing, cost_missing = model.predict(missing)
        p_zero, cost_zero = model.predict(zero)

        # Then they score the same, down to each feature's contribution
        assert p_missing == p_zero
        assert cost_missing == cost_zero


@pytest.mark.parametrize("name", ["seniority_years", "income", "assets", "home", "records", "job"])
def test_the_scorecard_gives_a_missing_value_the_points_of_its_missing_bin(name: str) -> None:
    # Given the challenger, whose card scores a missing value with WoE 0 (its points table's missing bin)
    model = load_model(SCORECARD_ID)
    table = next(row for row in model.card["scorecard"]["points_table"] if row["feature"] == name)
    missing_bin = next(b for b in table["bins"] if b["bin"] == "missing")

    # When the feature is missing
    _, cost = model.predict(model.vector(_raw(**{name: None})))

    # Then it costs the best bin's points less the missing bin's
    assert cost[name] == pytest.approx(table["best_points"] - missing_bin["points"], abs=1e-9)


@pytest.mark.parametrize("model_id", MODEL_IDS)
@pytest.mark.parametrize("name", BUREAU_CATEGORIES)
def test_an_unknown_category_scores_like_a_missing_one(model_id: str, name: str) -> None:
    # Given a category the card does not list, and the same applicant without that field
    model = load_model(model_id)

    # When both are scored
    unknown, missing = model.score(_raw(**{name: "castle"})), model.score(_raw(**{name: None}))

    # Then they score alike, and differently from at least one listed category
    assert (unknown.probability_of_default, unknown.score) == (missing.probability_of_default, missing.score)
    feature = next(f for f in model.features if f["name"] == name)
    listed = {model.score(_raw(**{name: category})).probability_of_default for category in feature["codes"]}
    assert listed - {missing.probability_of_default}


def test_a_number_that_is_not_a_number_is_refused() -> None:
    # Given raw inputs with text where a number belongs
    model = load_model(GBDT_ID)

    # When they are scored, Then a ValueError names the value
    with pytest.raises(ValueError, match="abc"):
        model.score(_raw(income="abc"))


# --- lending score --------------------------------------------------------------------------------------------------


def _run_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], lines: list[str], *extra: str
) -> tuple[int, list[dict[str, Any]], str]:
    """``lending score --input FILE`` on these lines: its exit status, its stdout as JSON lines, its stderr."""
    path = tmp_path / "applicants.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    status = main(["score", "--input", str(path), *extra])
    captured = capsys.readouterr()
    return status, [json.loads(line) for line in captured.out.splitlines()], captured.err


@pytest.mark.parametrize("extra", [(), ("--model", SCORECARD_ID)])
def test_a_good_file_gives_one_json_line_per_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: tuple[str, ...]
) -> None:
    # Given three well-formed applicants, and a blank line between two of them
    lines = [_line(), "", _line(amount="300000.00", term_months=36), _line(bureau={})]

    # When the file is scored
    status, out, err = _run_cli(tmp_path, capsys, lines, *extra)

    # Then each applicant gets a line, numbered as in the file, with the score, grade and reasons, and exit 0
    model_id = extra[1] if extra else GBDT_ID
    assert status == 0
    assert err == ""
    assert [record["line"] for record in out] == [1, 3, 4]
    for record in out:
        assert record["model_id"] == model_id
        assert set(record) == {"line", "model_id", "probability_of_default", "score", "grade", "reasons"}
        assert 0 < float(record["probability_of_default"]) < 1
        assert all(reason["code"].startswith("model_") and reason["message"] for reason in record["reasons"])
    expected = load_model(model_id).score(_raw())
    assert (out[0]["score"], out[0]["grade"]) == (expected.score, expected.grade)


def test_a_bad_line_gives_an_error_line_and_a_non_zero_exit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a file where good lines surround lines that cannot be scored
    lines = [
        _line(),
        "{not json",
        _line(amount="a lot"),
        json.dumps({"amount": "100000.00", "term_months": 24, "age_years": 38}),
        _line(bureau={**FULL_REPORT, "seniority_years": "many"}),
        "[1, 2]",
        _line(),
    ]

    # When the file is scored
    status, out, err = _run_cli(tmp_path, capsys, lines)

    # Then every line answers: the bad ones with an error naming the problem, the good ones with a score
    assert status != 0
    assert err == ""
    assert [record["line"] for record in out] == [1, 2, 3, 4, 5, 6, 7]
    errors = {record["line"]: record["error"] for record in out if "error" in record}
    assert set(errors) == {2, 3, 4, 5, 6}
    assert "JSONDecodeError" in errors[2]
    assert "a lot" in errors[3]
    assert "bureau" in errors[4]
    assert "seniority_years" in errors[5] or "many" in errors[5]
    assert out[0]["score"] == out[6]["score"]


def test_a_missing_input_file_is_one_error_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a path where there is no file
    # When it is scored
    status = main(["score", "--input", str(tmp_path / "absent.jsonl")])

    # Then the command fails with one line on stderr, no traceback
    err = capsys.readouterr().err
    assert status != 0
    assert err.startswith("error:")
    assert len(err.strip().splitlines()) == 1


def test_an_absurd_amount_is_an_error_line_not_a_crash(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Given an income too large for exact money, then a good line
    lines = [_line(bureau={**FULL_REPORT, "monthly_income": "1e400"}), _line()]

    # When the file is scored
    status, out, _ = _run_cli(tmp_path, capsys, lines)

    # Then the first line is an error line and the second is still scored
    assert status != 0
    assert "error" in out[0]
    assert "score" in out[1]


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        pytest.param({"bureau": "no report"}, "bureau", id="bureau-not-an-object"),
        pytest.param({"bureau": {**FULL_REPORT, "derogatory_records": "no"}}, "derogatory_records", id="flag-as-text"),
        pytest.param({"amount": "-100000.00"}, "amount", id="negative-amount"),
        pytest.param({"term_months": 0}, "term", id="zero-term"),
        pytest.param({"age_years": -3}, "age", id="negative-age"),
    ],
)
def test_a_malformed_applicant_is_an_error_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], changes: dict[str, Any], named: str
) -> None:
    # Given a line whose values are of the wrong kind or out of range (a text "no" must not read as arrears)
    # When it is scored
    status, out, err = _run_cli(tmp_path, capsys, [_line(**changes)])

    # Then it is refused with one error line that names what is wrong, and no score
    assert status != 0
    assert err == ""
    assert len(out) == 1
    assert "score" not in out[0]
    assert named in out[0]["error"]
