"""The scoring function keeps both scores: the champion's, which the decision reads, and the challenger's beside it,
with the bin of each model input; and ``lending model monitor`` reads them back from the applications table.

The function runs on its real handler against moto holding template.yaml's tables, and the sandbox credit bureau
(its phone ``…0001`` profile) answers it over HTTP.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from handler_harness import TEMPLATE, Deployed, event, from_item

from infra.console import main
from infra.local.vendors import SandboxVendors
from lending.scoring.cards import shipped_card

CHAMPION = TEMPLATE["Parameters"]["CreditModelId"]["Default"]
CHALLENGER = TEMPLATE["Parameters"]["ChallengerModelId"]["Default"]
APPLICATION_ID = "app_62e4ab26d21301822e47538f72"  # the intake event's borrower and Idempotency-Key, hashed


@pytest.fixture(scope="module")
def bureau_url() -> Iterator[str]:
    with SandboxVendors(callback_delay=0.05) as vendors:
        yield vendors.urls.credit_bureau


def _scored(deployed: Deployed, bureau_url: str, **environment: str) -> dict[str, Any]:
    """An application taken in, its identity checked, then scored by the function; the application as stored."""
    assert deployed.invoke("ApplicationIntakeFunction", event("application_intake"))["statusCode"] == 202
    deployed.client("dynamodb").update_item(
        TableName=deployed.table("ApplicationsTable"),
        Key={"application_id": {"S": APPLICATION_ID}},
        UpdateExpression="SET #status = :status",
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues={":status": {"S": "VERIFYING_IDENTITY"}},
    )
    summary = deployed.invoke(
        "CreditScoringFunction", {"application_id": APPLICATION_ID}, CREDIT_BUREAU_URL=bureau_url, **environment
    )
    assert summary["scored"] is True
    return application(deployed)


def application(deployed: Deployed) -> dict[str, Any]:
    item = deployed.client("dynamodb").get_item(
        TableName=deployed.table("ApplicationsTable"), Key={"application_id": {"S": APPLICATION_ID}}
    )["Item"]
    return from_item(item)


def audit_events(deployed: Deployed) -> list[dict[str, Any]]:
    items = deployed.client("dynamodb").query(
        TableName=deployed.table("AuditTable"),
        KeyConditionExpression="subject = :subject",
        ExpressionAttributeValues={":subject": {"S": APPLICATION_ID}},
    )["Items"]
    return [from_item(item) for item in items]


def _credit_scored_event(deployed: Deployed) -> dict[str, Any]:
    (scored,) = [e for e in audit_events(deployed) if e["kind"] == "credit_scored"]
    data: dict[str, Any] = json.loads(scored["data"])  # the chain hashes the event's data as canonical JSON
    return data


def test_the_scoring_function_keeps_the_challengers_score_beside_the_champions(
    deployed: Deployed, bureau_url: str
) -> None:
    # Given the template's models: the champion scores, the challenger shadow-scores
    assert CHALLENGER != CHAMPION

    # When an application is scored
    stored = _scored(deployed, bureau_url)

    # Then the champion's score is the one the decision reads, with its artefact's SHA-256 and the day it scored
    score, shadow = stored["score"], stored["challenger_score"]
    assert score["model_id"] == CHAMPION
    assert score["model_sha256"] == shipped_card(CHAMPION)["files"]["model.onnx"]["sha256"]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", score["scored_on"])
    # And the challenger's is kept beside it, with its own grade (on its own cut-offs) and reasons
    assert shadow["model_id"] == CHALLENGER
    assert shadow["model_sha256"] == shipped_card(CHALLENGER)["files"]["model.onnx"]["sha256"]
    assert shadow["grade"] in shipped_card(CHALLENGER)["grades"]["cutoffs"]
    assert {"probability_of_default", "score", "reasons"} <= set(shadow)
    # And each model input's bin on the champion card's training bins, never the bureau's figures
    bins = stored["feature_bins"]
    assert bins["model_id"] == CHAMPION
    baseline = {f["name"]: f for f in shipped_card(CHAMPION)["feature_baseline"]["features"]}
    assert set(bins["bins"]) == set(baseline)
    assert all(0 <= bins["bins"][name] < len(baseline[name]["expected_share"]) for name in baseline)
    assert "monthly_income" not in json.dumps(stored, default=str)
    # And the audit trail records both scores
    assert [e["kind"] for e in audit_events(deployed)] == ["application_received", "credit_scored"]
    audited = _credit_scored_event(deployed)
    assert (audited["model_id"], audited["score"]) == (CHAMPION, score["score"])
    assert audited["challenger"] == {"model_id": CHALLENGER, "score": shadow["score"], "grade": shadow["grade"]}


def test_without_a_challenger_only_the_champion_scores(deployed: Deployed, bureau_url: str) -> None:
    # Given a stack whose ChallengerModelId is empty
    stored = _scored(deployed, bureau_url, CHALLENGER_MODEL_ID="")
    # Then the champion's score and the input bins are kept, and no challenger's
    assert stored["score"]["model_id"] == CHAMPION
    assert "challenger_score" not in stored
    assert stored["feature_bins"]["model_id"] == CHAMPION
    assert "challenger" not in _credit_scored_event(deployed)


def test_lending_model_monitor_reads_the_months_applications_from_the_table(
    deployed: Deployed, bureau_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given one application scored by both models
    stored = _scored(deployed, bureau_url)
    month = stored["score"]["scored_on"][:7]
    table = deployed.table("ApplicationsTable")

    # When the console prints the month's report from the table, as text and as JSON
    assert main(["model", "monitor", "--month", month, "--applications-table", table]) == 0
    text = capsys.readouterr().out
    assert main(["model", "monitor", "--month", month, "--applications-table", table, "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)

    # Then it counts the application under the pairing of the two models, with every line of stability
    assert f"model monitoring {month}: 1 applications scored" in text
    assert f"champion {CHAMPION}, challenger {CHALLENGER}: 1" in text
    assert "fewer than 100 applications" in text
    (pairing,) = figures["pairings"]
    assert (pairing["champion"], pairing["challenger"], pairing["applications"]) == (CHAMPION, CHALLENGER, 1)
    assert [line["name"] for line in pairing["score_stability"]] == [f"score {CHAMPION}", f"score {CHALLENGER}"]
    assert len(pairing["feature_stability"]) == len(shipped_card(CHAMPION)["features"])
    # one application is all in one bin of each: far from a training sample spread over ten
    assert all(line["reading"] == "shift" for line in pairing["score_stability"])
    agreement = pairing["agreement"]
    assert agreement["n"] == 1
    assert agreement["same_grade"] == (1.0 if stored["score"]["grade"] == stored["challenger_score"]["grade"] else 0.0)
    assert agreement["rank_correlation"] is None  # one pair has no ranks to correlate

    # And another month has nothing, and a malformed month is refused on one line
    assert main(["model", "monitor", "--month", "1999-01", "--applications-table", table]) == 0
    assert "no application was scored this month" in capsys.readouterr().out
    assert main(["model", "monitor", "--month", "2026-3", "--applications-table", table]) == 1
    assert "YYYY-MM" in capsys.readouterr().err
