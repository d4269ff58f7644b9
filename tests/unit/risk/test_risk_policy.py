"""The decision policy: the shipped file loads, fits the catalogue, and a malformed one cannot load."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from lending.catalogue import Catalogue
from lending.risk.findings import Finding, Severity
from lending.risk.policy import DecisionPolicy, PolicyError, check_policy_fits, load_policy, parse_policy

SHIPPED = Path(__file__).resolve().parents[3] / "shared" / "lending" / "data" / "policy.json"


def _shipped() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(SHIPPED.read_text())
    return document


def test_the_shipped_policy_loads_once_and_fits_the_catalogue(catalogue: Catalogue) -> None:
    # Given the policy shipped in the layer
    # When it is loaded twice
    first, second = load_policy(), load_policy()
    # Then it is parsed once, holds the documented thresholds, and names only catalogue industries
    assert first is second
    assert first.identity.min_face_match == Decimal("0.80")
    assert first.score.decline_below <= first.score.approve_at_or_above
    check_policy_fits(first, catalogue)


def test_a_policy_can_be_loaded_from_a_path(tmp_path: Path) -> None:
    # Given a copy of the policy with another version
    document = _shipped()
    document["version"] = "test.1"
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(document))
    # When it is loaded from that path
    # Then that version is used
    assert load_policy(str(path)).version == "test.1"


def _broken(change: str) -> dict[str, Any]:
    document = _shipped()
    if change == "cutoffs_reversed":
        document["score"] = {"approve_at_or_above": 500, "decline_below": 600}
    elif change == "face_match_above_one":
        document["identity"]["min_face_match"] = "1.5"
    elif change == "unknown_field":
        document["score"]["approve_at"] = 1
    elif change == "zero_share":
        document["cash_flow"]["min_counter_offer_share"] = "0"
    elif change == "history_beyond_window":
        document["business_assessment"]["min_history_months"] = 13
    elif change == "bad_severity":
        document["referral"]["refer_at_severity"] = "severe"
    elif change == "zero_step":
        document["cash_flow"]["limit_step"] = "0.00"
    elif change == "recent_beyond_window":
        document["electricity"]["recent_months"] = 12
    elif change == "missing_section":
        del document["identity"]
    return document


@pytest.mark.parametrize(
    "change",
    [
        "cutoffs_reversed",
        "face_match_above_one",
        "unknown_field",
        "zero_share",
        "history_beyond_window",
        "bad_severity",
        "zero_step",
        "recent_beyond_window",
        "missing_section",
    ],
)
def test_a_malformed_policy_cannot_load(change: str) -> None:
    # Given the policy with one thing wrong
    # When it is parsed
    # Then one PolicyError says so
    with pytest.raises(PolicyError, match="invalid decision policy"):
        parse_policy(json.dumps(_broken(change)))


def test_text_that_is_not_json_is_a_policy_error() -> None:
    # Given a policy file that is not JSON
    # When parsed
    # Then it is a PolicyError
    with pytest.raises(PolicyError):
        parse_policy("{not json")


def test_a_policy_naming_an_unknown_industry_does_not_fit_the_catalogue(catalogue: Catalogue) -> None:
    # Given a policy that correlates power with revenue for an industry the catalogue lacks
    document = _shipped()
    document["electricity"]["correlated_industries"] = ["manufacturing", "mining"]
    policy = DecisionPolicy.model_validate(document)
    # When it is checked against the catalogue
    # Then the unknown industry is named
    with pytest.raises(PolicyError, match="mining"):
        check_policy_fits(policy, catalogue)


def test_findings_refer_by_severity_and_by_source(policy: DecisionPolicy) -> None:
    # Given the shipped referral policy (high findings refer; every named source refers) and one that exempts power
    exempt = policy.referral.model_copy(update={"sources": {"electricity": False}})

    def finding(severity: Severity, source: str) -> Finding:
        return Finding("code", severity, "message", source)

    # Then a high finding refers, a medium one does not, an unnamed source refers, and an exempt source does not
    assert policy.referral.refers(finding(Severity.HIGH, "electricity"))
    assert not policy.referral.refers(finding(Severity.MEDIUM, "electricity"))
    assert policy.referral.refers(finding(Severity.HIGH, "invoices"))
    assert not exempt.refers(finding(Severity.HIGH, "electricity"))
