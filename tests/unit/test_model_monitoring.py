"""Model monitoring's arithmetic on known answers: the PSI and its reading, the bins, rank correlation, agreement,
and the monthly report built from stored applications."""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Any

import pytest

from lending.monitoring import (
    Band,
    Stability,
    StoredScore,
    agreement,
    average_ranks,
    band,
    build_report,
    population_stability,
    rank_correlation,
    reading,
    stability,
)
from lending.risk.policy import ScoreCutoffs
from lending.scoring.bins import FeatureBinning, Reference, feature_references, score_reference
from lending.scoring.cards import shipped_card

CUTOFFS = ScoreCutoffs(approve_at_or_above=545, decline_below=509)


# --- PSI -------------------------------------------------------------------------------------------------------


def test_the_same_distribution_has_no_shift() -> None:
    assert population_stability([0.5, 0.5], [50, 50]) == 0.0
    assert population_stability([0.2, 0.3, 0.5], [2, 3, 5]) == pytest.approx(0.0, abs=1e-15)


@pytest.mark.parametrize(
    ("expected", "counts", "psi"),
    [
        # (0.25 - 0.5) ln(0.25/0.5) + (0.75 - 0.5) ln(0.75/0.5)
        ([0.5, 0.5], [25, 75], 0.25 * math.log(2) + 0.25 * math.log(1.5)),
        # 0.1 ln 1.5 + 0 + 0.1 ln 1.25: by hand 0.040547 + 0.022314
        ([0.2, 0.3, 0.5], [30, 30, 40], 0.0628609),
        # ten equal bins, one month all in the first two: 2 × (0.5 - 0.1) ln 5 + 8 × (0.0001 - 0.1) ln(0.001)
        ([0.1] * 10, [50, 50, 0, 0, 0, 0, 0, 0, 0, 0], 2 * 0.4 * math.log(5) + 8 * 0.0999 * math.log(1000)),
    ],
)
def test_psi_known_answers(expected: list[float], counts: list[int], psi: float) -> None:
    assert population_stability(expected, counts) == pytest.approx(psi, abs=1e-6)


def test_an_empty_bin_is_floored_so_the_index_stays_finite() -> None:
    # Given a bin the training sample never filled, which a tenth of the month falls in
    psi = population_stability([0.5, 0.5, 0.0], [40, 50, 10])
    # Then it counts as 0.0001 of the training sample: (0.1 - 0.0001) ln 1000 + (0.4 - 0.5) ln 0.8
    assert psi == pytest.approx(0.0999 * math.log(1000) + 0.1 * math.log(1.25), abs=1e-9)
    # and two empty bins on both sides add nothing
    assert population_stability([0.5, 0.5, 0.0], [5, 5, 0]) == 0.0


def test_psi_refuses_what_it_cannot_compare() -> None:
    with pytest.raises(ValueError, match="no applications"):
        population_stability([0.5, 0.5], [0, 0])
    with pytest.raises(ValueError, match="3 counts for 2 bins"):
        population_stability([0.5, 0.5], [1, 1, 1])


@pytest.mark.parametrize(
    ("psi", "expected"),
    [
        (0.0, Stability.STABLE),
        (0.0999, Stability.STABLE),
        (0.10, Stability.WATCH),
        (0.25, Stability.WATCH),
        (0.2501, Stability.SHIFT),
        (2.0, Stability.SHIFT),
    ],
)
def test_the_usual_reading(psi: float, expected: Stability) -> None:
    assert reading(psi) is expected


# --- bins ------------------------------------------------------------------------------------------------------


def test_a_value_on_an_edge_belongs_to_the_bin_above_it() -> None:
    reference = Reference("x", (0.3, 0.3, 0.3, 0.1), edges=(10.0, 20.0), has_missing_bin=True)
    assert [reference.bin_of(v) for v in (-5.0, 9.99, 10.0, 19.99, 20.0, 1e9)] == [0, 0, 1, 1, 2, 2]
    assert reference.bin_of(math.nan) == 3


def test_a_category_has_its_own_bin_and_an_unknown_one_counts_as_missing() -> None:
    reference = Reference("home", (0.5, 0.3, 0.1, 0.1), categories=(0, 1, 2), has_missing_bin=True)
    assert [reference.bin_of(v) for v in (0.0, 1.0, 2.0)] == [0, 1, 2]
    assert reference.bin_of(3.0) == reference.bin_of(0.5) == reference.bin_of(math.nan) == 3


def test_a_score_has_no_missing_bin() -> None:
    reference = Reference("score", (0.5, 0.5), edges=(500.0,))
    with pytest.raises(ValueError, match="missing"):
        reference.bin_of(math.nan)
    with pytest.raises(ValueError, match="3 shares for 2 bins"):
        Reference("score", (0.3, 0.3, 0.4), edges=(500.0,))


@pytest.mark.parametrize("model_id", ["credit_gbdt_v2", "credit_scorecard_v2"])
def test_the_shipped_cards_carry_a_reference_for_the_score_and_every_input(model_id: str) -> None:
    card = shipped_card(model_id)
    score = score_reference(card)
    inputs = feature_references(card)
    # every model input, in input order, each with its shares summing to the whole training sample
    assert list(inputs) == [f["name"] for f in sorted(card["features"], key=lambda f: f["index"])]
    for reference in (score, *inputs.values()):
        assert sum(reference.expected_share) == pytest.approx(1.0, abs=2e-5), reference.name
    assert card["feature_baseline"]["n"] == card["split"]["train_rows"] == card["psi_baseline"]["n"]
    # income has missing values in training (260 of 3,117), records none
    assert inputs["income"].expected_share[-1] == pytest.approx(260 / 3117, abs=1e-6)
    assert inputs["records"].expected_share[-1] == 0.0


def test_an_applicants_row_is_binned_by_the_cards_edges() -> None:
    # Given the champion's card and a row: seniority 10 (on an edge), income missing, home an unlisted code
    card = shipped_card("credit_gbdt_v2")
    inputs = feature_references(card)
    row = [0.0] * len(card["features"])
    row[0], row[4], row[9] = 10.0, math.nan, 99.0
    bins = FeatureBinning.from_card(card).bins(row)
    # Then seniority is in the bin that starts at 10, income and home in their missing bins
    assert inputs["seniority_years"].edges[bins["seniority_years"] - 1] == 10.0
    assert bins["income"] == len(inputs["income"].expected_share) - 1
    assert bins["home"] == len(inputs["home"].expected_share) - 1
    assert bins["records"] == 0


# --- agreement -------------------------------------------------------------------------------------------------


def test_average_ranks_share_ties() -> None:
    assert average_ranks([5.0, 6.0, 7.0, 8.0, 7.0]) == [1.0, 2.0, 3.5, 5.0, 3.5]


def test_rank_correlation_known_answers() -> None:
    assert rank_correlation([1.0, 2.0, 3.0], [10.0, 20.0, 30.0]) == pytest.approx(1.0)
    assert rank_correlation([1.0, 2.0, 3.0], [0.3, 0.2, 0.1]) == pytest.approx(-1.0)
    # ties: 8 / sqrt(10 × 9.5), as scipy.stats.spearmanr gives (0.8207826816681233)
    assert rank_correlation([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]) == pytest.approx(0.8207826816681233, abs=1e-12)
    assert rank_correlation([1.0, 2.0], [3.0, 3.0]) is None
    assert rank_correlation([1.0], [1.0]) is None


@pytest.mark.parametrize(
    ("score", "expected"), [(545, Band.APPROVE), (544, Band.REFER), (509, Band.REFER), (508, Band.DECLINE)]
)
def test_a_scores_outcome_band(score: int, expected: Band) -> None:
    assert band(score, CUTOFFS) is expected


def _scored(model_id: str, score: int, grade: str, pd: str) -> StoredScore:
    return StoredScore(model_id, score, grade, Decimal(pd))


def test_agreement_on_grade_band_and_rank() -> None:
    # Given four applications: same grade twice, same band three times
    pairs = [
        (_scored("c", 600, "A", "0.01"), _scored("h", 590, "A", "0.02")),
        (_scored("c", 550, "B", "0.05"), _scored("h", 546, "C", "0.06")),
        (_scored("c", 520, "C", "0.10"), _scored("h", 500, "D", "0.15")),
        (_scored("c", 480, "E", "0.30"), _scored("h", 470, "E", "0.12")),
    ]
    found = agreement(pairs, CUTOFFS)
    assert found is not None
    assert (found.n, found.same_grade, found.same_band) == (4, 0.5, 0.75)
    # ranks of P(bad): champion 1 2 3 4, challenger 1 2 4 3: rho = 1 - 6 × 2 / (4 × 15) = 0.8
    assert found.rank_correlation == pytest.approx(0.8)
    assert found.grades == {("A", "A"): 1, ("B", "C"): 1, ("C", "D"): 1, ("E", "E"): 1}
    assert agreement([], CUTOFFS) is None


# --- the report ------------------------------------------------------------------------------------------------


def _card(model_id: str) -> dict[str, Any]:
    """A small card: scores split at 500 (half each way), one numeric input split at 10 with a missing bin."""
    return {
        "model_id": model_id,
        "features": [{"index": 0, "name": "x"}],
        "psi_baseline": {"edges": [500.0], "expected_share": [0.5, 0.5]},
        "feature_baseline": {
            "features": [{"name": "x", "kind": "numeric", "edges": [10.0], "expected_share": [0.5, 0.5, 0.0]}]
        },
    }


def _application(on: str, champion: int, challenger: int | None, x_bin: int) -> dict[str, Any]:
    record: dict[str, Any] = {
        "score": {
            "model_id": "champ",
            "score": Decimal(champion),
            "grade": "A" if champion >= 500 else "B",
            "probability_of_default": f"{1 / champion:.6f}",
            "scored_on": on,
        },
        "feature_bins": {"model_id": "champ", "bins": {"x": Decimal(x_bin)}},
    }
    if challenger is not None:
        record["challenger_score"] = {
            "model_id": "chall",
            "score": Decimal(challenger),
            "grade": "A" if challenger >= 500 else "B",
            "probability_of_default": f"{1 / challenger:.6f}",
        }
    return record


def test_the_monthly_report_reads_the_months_applications_against_the_cards() -> None:
    # Given March's applications: champion scores 3 above 500 and 1 below; the challenger 2 and 2; input x all in
    # its first bin; and one application of April, one never scored
    applications = [
        _application("2026-03-01", 600, 610, 0),
        _application("2026-03-05", 550, 450, 0),
        _application("2026-03-31", 520, 400, 0),
        _application("2026-03-31", 450, 560, 0),
        _application("2026-04-01", 300, 300, 1),
        {"status": "DECLINED"},
    ]
    report = build_report("2026-03", applications, card=_card, cutoffs=CUTOFFS)

    # Then only March counts, in one pairing of the champion with its challenger
    assert report.applications == 4
    (pairing,) = report.pairings
    assert (pairing.champion, pairing.challenger, pairing.n) == ("champ", "chall", 4)
    champion, challenger = pairing.scores
    # 0.75/0.25 against 0.5/0.5: 0.25 ln 1.5 + 0.25 ln 2 (a shift); 0.5/0.5: none
    assert champion.psi == pytest.approx(0.25 * math.log(1.5) + 0.25 * math.log(2))
    assert champion.reading is Stability.SHIFT
    assert challenger.psi == pytest.approx(0.0)
    (x,) = pairing.features
    # all in one half: (1 - 0.5) ln 2 + (0.0001 - 0.5) ln 0.0002; the empty missing bin adds nothing
    assert x.psi == pytest.approx(0.5 * math.log(2) + 0.4999 * math.log(5000))
    assert pairing.agreement is not None
    # grades A A A B against A B B A, bands approve approve refer decline against approve decline decline approve,
    # ranks of P(bad) 1 2 3 4 against 1 3 4 2: rho = 1 - 6 × 6 / (4 × 15)
    assert (pairing.agreement.same_grade, pairing.agreement.same_band) == (0.25, 0.25)
    assert pairing.agreement.rank_correlation == pytest.approx(0.4)
    text = report.render()
    assert "model monitoring 2026-03: 4 applications scored" in text
    assert re.search(r"score champ +0\.2747  shift", text)
    assert re.search(r"same grade +25\.0%", text)
    assert report.to_json()["pairings"][0]["score_stability"][0]["reading"] == "shift"


def test_applications_scored_without_a_challenger_are_their_own_pairing() -> None:
    applications = [_application("2026-03-01", 600, None, 0), _application("2026-03-02", 600, 600, 1)]
    report = build_report("2026-03", applications, card=_card, cutoffs=CUTOFFS)
    assert [(p.champion, p.challenger, p.n) for p in report.pairings] == [("champ", None, 1), ("champ", "chall", 1)]
    alone = report.pairings[0]
    assert alone.agreement is None
    assert len(alone.scores) == 1
    assert "no application was scored by both" in report.render()


def test_a_month_without_applications_says_so_and_a_bad_month_is_refused() -> None:
    assert "no application was scored this month" in build_report("2026-02", [], card=_card, cutoffs=CUTOFFS).render()
    with pytest.raises(ValueError, match="YYYY-MM"):
        build_report("2026-13", [], card=_card, cutoffs=CUTOFFS)


def test_stability_refuses_a_bin_its_reference_does_not_have() -> None:
    with pytest.raises(ValueError, match="outside"):
        stability(Reference("x", (0.5, 0.5), edges=(1.0,)), [0, 1, 2])
