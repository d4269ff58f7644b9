"""Shadow scoring: the challenger scores beside the champion on the same input row, and only the champion decides.

The scoring and decision steps run as the workflow runs them, with in-memory ports and the shipped models,
catalogue and policy.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from in_memory_steps import Applications, Audit, decrypt

from lending import clock
from lending.applicant import Applicant
from lending.catalogue import load_catalogue
from lending.money import Money
from lending.origination import Status
from lending.prc_id import make_id_number
from lending.risk.cash_flow import BankStatement, BankTransaction
from lending.risk.policy import load_policy
from lending.risk.tax import TaxFiling
from lending.scoring.engine import score_beside
from lending.scoring.features import BureauFacts, raw_inputs
from lending.scoring.model import CreditModel, load_model, model_directory
from lending.steps.assessment import assess_cash_flow, make_decision, score_credit

BUSINESS_DATE = date(2026, 3, 10)
PASSED = {"passed": True, "face_match": "0.9300", "liveness": True}
REPORT = BureauFacts(
    5, "rent", "single", False, "fixed", Money.of("3000.00"), Money.of("15000.00"), Money.of("50000.00"), None
)
CHAMPION, CHALLENGER = "credit_gbdt_v2", "credit_scorecard_v2"


class _Report:
    def facts(self) -> BureauFacts:
        return REPORT


class _Bureau:
    def fetch_report(self, applicant: Applicant, consent_reference: str) -> _Report:
        return _Report()


class _BankData:
    """A year of steady surplus."""

    def fetch_statements(self, bank_account: str, months: int = 12, *, holder: Applicant) -> BankStatement:
        transactions = tuple(
            BankTransaction(date(2025, month, 10), Money.of(amount), "sales")
            for month in range(3, 13)
            for amount in ("90000.00", "-60000.00")
        )
        return BankStatement(date(2025, 3, 1), date(2025, 12, 31), transactions)

    def fetch_tax_filings(self, holder: Applicant, tax_id: str | None = None) -> list[TaxFiling]:
        return [TaxFiling(date(2025, 3, 1), date(2025, 12, 31), Money.of("900000.00"))]


class _Trail(Audit):
    """The audit trail, with each event's data as well as its kind."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[tuple[str, Mapping[str, Any]]] = []

    def append(self, subject: str, kind: str, occurred_at: datetime, data: Mapping[str, Any]) -> None:
        super().append(subject, kind, occurred_at, data)
        self.events.append((kind, data))


@pytest.fixture(autouse=True)
def _business_date(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "today", lambda: BUSINESS_DATE)


def _record() -> dict[str, Any]:
    return {
        "application_id": "app-1",
        "status": Status.VERIFYING_IDENTITY.value,
        "product": "business_instalment",
        "amount": "50000.00",
        "term_months": 12,
        "consent": {"credit_report": True, "data_processing": True},
        "business": {"name": "Zhang's Shop", "industry": "retail", "registered_on": "2019-05-01"},
        "pii": {
            "name": "Zhang Min",
            "id_number": make_id_number("110105", date(1986, 1, 10), 123),
            "phone": "+8613900001234",
            "bank_account": "6222020200001234",
        },
    }


def _scored_and_decided(challenger: CreditModel | None) -> tuple[Applications, _Trail, dict[str, Any]]:
    applications, audit = Applications(_record()), _Trail()
    ports: dict[str, Any] = {"applications": applications, "audit": audit, "decrypt": decrypt}
    score_credit("app-1", bureau=_Bureau(), model=load_model(CHAMPION), challenger=challenger, **ports)
    assess_cash_flow("app-1", bank_data=_BankData(), policy=load_policy(), **ports)
    decision = make_decision("app-1", PASSED, catalogue=load_catalogue(), policy=load_policy(), **ports)
    return applications, audit, decision.to_json_dict()


def test_the_challenger_is_kept_beside_the_champion_and_the_decision_reads_only_the_champion() -> None:
    # Given the same application scored with the champion alone, and with the challenger beside it
    alone, _, decided_alone = _scored_and_decided(None)
    shadowed, audit, decided = _scored_and_decided(load_model(CHALLENGER))

    # Then both keep the same champion score, and the shadowed one the challenger's too
    assert shadowed.record["score"] == alone.record["score"]
    assert shadowed.record["score"]["scored_on"] == "2026-03-10"
    assert shadowed.record["challenger_score"]["model_id"] == CHALLENGER
    assert "challenger_score" not in alone.record
    assert shadowed.record["feature_bins"] == alone.record["feature_bins"]
    # And the decision is the same either way, on the champion's score and grade
    assert decided == decided_alone
    assert decided["score"] == shadowed.record["score"]["score"]
    assert "credit_scored" in audit.kinds

    # When the challenger's stored score is as far from the champion's as it can be, and the decision runs again
    shadowed.record["challenger_score"] = {**shadowed.record["challenger_score"], "score": 1, "grade": "E"}
    shadowed.record["status"] = Status.ASSESSING.value
    again = make_decision(
        "app-1",
        PASSED,
        catalogue=load_catalogue(),
        policy=load_policy(),
        applications=shadowed,
        audit=Audit(),
        decrypt=decrypt,
    )
    # Then nothing changes
    assert again.to_json_dict() == decided


def test_the_challenger_scores_the_champions_row_as_it_would_score_its_own() -> None:
    # Given both shipped models, which build their input row by the same rules
    champion, challenger = load_model(CHAMPION), load_model(CHALLENGER)
    assert challenger.reads_as(champion)
    raw = raw_inputs(Money.of("50000.00"), 12, 40, REPORT)

    # When the applicant is scored beside
    scored = score_beside(champion, challenger, Money.of("50000.00"), 12, 40, REPORT)

    # Then each score is what each model gives alone, and the bins are the champion's row's
    assert scored.champion == champion.score(raw)
    assert scored.challenger == challenger.score(raw)
    assert champion.binning is not None
    assert scored.feature_bins == champion.binning.bins(champion.vector(raw)[0].tolist())
    # a missing debt sits in debt's missing bin
    assert scored.feature_bins is not None
    assert scored.feature_bins["debt"] == len(champion.card["feature_baseline"]["features"][6]["expected_share"]) - 1


def _altered_copy(tmp_path: Path, model_id: str, change: Any) -> CreditModel:
    """A shipped model copied with its card changed (the graph, which the card's SHA-256 covers, untouched)."""
    directory = tmp_path / model_id
    shutil.copytree(model_directory(model_id), directory)
    card = json.loads((directory / "card.json").read_text())
    change(card)
    (directory / "card.json").write_text(json.dumps(card))
    return CreditModel(directory)


def test_a_challenger_reading_other_inputs_builds_its_own_row(tmp_path: Path) -> None:
    # Given a challenger whose card codes housing the other way round from the champion's
    def reverse_home(card: dict[str, Any]) -> None:
        home = next(f for f in card["features"] if f["name"] == "home")
        home["codes"] = {name: len(home["codes"]) - 1 - code for name, code in home["codes"].items()}

    champion, challenger = load_model(CHAMPION), _altered_copy(tmp_path, CHALLENGER, reverse_home)
    assert not challenger.reads_as(champion)
    raw = raw_inputs(Money.of("50000.00"), 12, 40, REPORT)

    # When the applicant is scored beside
    scored = score_beside(champion, challenger, Money.of("50000.00"), 12, 40, REPORT)

    # Then the challenger scored its own row, not the champion's
    assert scored.challenger == challenger.score(raw)
    assert scored.challenger != load_model(CHALLENGER).score(raw)


def test_a_champion_exported_without_input_baselines_keeps_no_bins(tmp_path: Path) -> None:
    champion = _altered_copy(tmp_path, CHAMPION, lambda card: card.pop("feature_baseline"))
    assert champion.binning is None
    scored = score_beside(champion, None, Money.of("50000.00"), 12, 40, REPORT)
    assert (scored.challenger, scored.feature_bins) == (None, None)
    assert scored.champion == load_model(CHAMPION).score(raw_inputs(Money.of("50000.00"), 12, 40, REPORT))


def test_a_challenger_that_fails_leaves_the_champions_score_and_decision_as_they_were(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a challenger whose graph fails at run time
    challenger = _altered_copy(tmp_path, CHALLENGER, lambda card: None)

    def fails(row: Any) -> Any:
        raise RuntimeError("onnxruntime: invalid input")

    monkeypatch.setattr(challenger, "score_row", fails)
    alone, _, decided_alone = _scored_and_decided(None)

    # When the application is scored beside it and decided
    shadowed, audit, decided = _scored_and_decided(challenger)

    # Then the champion's score and the decision are as without a challenger, no challenger score is kept, and the
    # trail says the challenger failed and how
    assert shadowed.record["score"] == alone.record["score"]
    assert decided == decided_alone
    assert "challenger_score" not in shadowed.record
    assert shadowed.record["feature_bins"] == alone.record["feature_bins"]
    (data,) = [data for kind, data in audit.events if kind == "credit_scored"]
    assert data["challenger"] == {"model_id": CHALLENGER, "failed": "RuntimeError"}
