"""Model monitoring on the local stack: every application the workflow scores keeps the challenger's score beside
the champion's, and ``lending model monitor`` prints the month's report from the stack's tables."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from infra.console import main
from infra.local.platform import LocalPlatform, write_description
from infra.local.template import load_template

if TYPE_CHECKING:
    from conftest import Client

PARAMETERS = load_template()["Parameters"]
CHAMPION = PARAMETERS["CreditModelId"]["Default"]
CHALLENGER = PARAMETERS["ChallengerModelId"]["Default"]


def _control(platform: LocalPlatform, path: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(platform.control_url + path, timeout=120) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture(scope="module")
def decided(client: Client) -> dict[str, str]:
    """An application approved and paid out (phone …0001) and one declined (…0002), both scored on today's date."""
    approved = client.open("0001", key="monitor-approved")
    declined = client.open("0002", key="monitor-declined")
    assert (approved["status"], declined["status"]) == ("DISBURSED", "DECLINED")
    return {"approved": approved["application_id"], "declined": declined["application_id"]}


def test_the_months_report_holds_both_models_scores_of_every_application(
    platform: LocalPlatform, decided: dict[str, str]
) -> None:
    # Given the two applications scored today
    month = _control(platform, "/clock")[1]["date"][:7]

    # When the control port reports the month
    status, answer = _control(platform, f"/reports/model-monitoring?month={month}")

    # Then both are in it, each scored by the champion and shadow-scored by the challenger
    assert status == 200, answer
    report = answer["report"]
    assert (report["month"], report["applications"]) == (month, 2)
    (pairing,) = report["pairings"]
    assert (pairing["champion"], pairing["challenger"], pairing["applications"]) == (CHAMPION, CHALLENGER, 2)
    assert pairing["agreement"]["n"] == 2
    assert [line["n"] for line in pairing["score_stability"]] == [2, 2]
    assert {line["n"] for line in pairing["feature_stability"]} == {2}
    # a strong and a weak applicant: both models rank them the same way round
    assert pairing["agreement"]["rank_correlation"] == 1.0
    assert f"model monitoring {month}: 2 applications scored" in answer["text"]


def test_a_malformed_month_is_refused_by_the_control_port(platform: LocalPlatform) -> None:
    status, answer = _control(platform, "/reports/model-monitoring?month=2026-13")
    assert status == 400
    assert "YYYY-MM" in answer["error"]


def test_lending_model_monitor_prints_the_report_from_the_running_stack(
    platform: LocalPlatform, decided: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    description = write_description(platform, tmp_path / "stack.json")
    month = _control(platform, "/clock")[1]["date"][:7]
    assert main(["model", "monitor", "--month", month, "--stack", str(description)]) == 0
    text = capsys.readouterr().out
    assert f"champion {CHAMPION}, challenger {CHALLENGER}: 2" in text
    assert "population stability against the training sample" in text
    assert "rank correlation of P(bad)" in text
    assert main(["model", "monitor", "--month", month, "--stack", str(tmp_path / "none.json")]) == 1
    assert "no running local stack" in capsys.readouterr().err
