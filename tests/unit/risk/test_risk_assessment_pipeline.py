"""The business assessment a workflow step stores is the one the decision re-runs and the underwriter's queue shows.

The assessment step, the decision step and the queue entry run on one in-memory application record, as the
workflow runs them: assess, decide, then refer. The record's field names are all that ties them together.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from in_memory_steps import Applications, Audit, decrypt

from lending import clock
from lending.applicant import Applicant
from lending.catalogue import Catalogue
from lending.money import Money
from lending.origination import Status
from lending.prc_id import make_id_number
from lending.risk.cash_flow import BankStatement, BankTransaction
from lending.risk.outcome import Outcome, Rule
from lending.risk.policy import DecisionPolicy
from lending.risk.tax import TaxFiling
from lending.steps.assessment import assess_cash_flow, make_decision
from lending.steps.underwriting import review_item

BUSINESS_DATE = date(2026, 1, 10)
PASSED = {"passed": True, "face_match": "0.9300", "liveness": True}


class _BankData:
    """Five whole months of surplus, one short of the policy's six: a finding that refers, nothing that declines."""

    def fetch_statements(self, bank_account: str, months: int = 12, *, holder: Applicant) -> BankStatement:
        transactions = tuple(
            BankTransaction(date(2025, month, 10), Money.of(amount), "sales")
            for month in range(8, 13)
            for amount in ("90000.00", "-60000.00")
        )
        return BankStatement(date(2025, 8, 1), date(2025, 12, 31), transactions)

    def fetch_tax_filings(self, holder: Applicant, tax_id: str | None = None) -> list[TaxFiling]:
        return [TaxFiling(date(2025, 8, 1), date(2025, 12, 31), Money.of("450000.00"))]


@pytest.fixture(autouse=True)
def _business_date(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "today", lambda: BUSINESS_DATE)


def _record() -> dict[str, Any]:
    return {
        "application_id": "app-1",
        "status": Status.ASSESSING.value,
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
        # What the scoring step stores: a score well above the approval cut-off, so only the business refers.
        "score": {
            "probability_of_default": "0.0100",
            "score": 700,
            "grade": "A",
            "reasons": [],
            "model_id": "test-model",
        },
    }


def test_the_stored_business_assessment_refers_the_decision_and_reaches_the_underwriters_queue(
    catalogue: Catalogue, policy: DecisionPolicy
) -> None:
    # Given an application whose business banked here for five whole months
    applications, audit = Applications(_record()), Audit()
    ports: dict[str, Any] = {"applications": applications, "audit": audit, "decrypt": decrypt}
    # When the assessment step runs, then the decision step, then the referral puts it in the queue
    summary = assess_cash_flow("app-1", bank_data=_BankData(), policy=policy, **ports)
    decision = make_decision("app-1", PASSED, catalogue=catalogue, policy=policy, **ports)
    item = review_item({**applications.get("app-1"), "referred_at": "2026-01-10T02:00:00Z"})
    # Then the step reports the finding, the decision refers on the stored assessment's finding
    assert summary == {"assessed": True, "findings": 1}
    assert (decision.outcome, decision.rule) == (Outcome.REFER, Rule.BUSINESS_ASSESSMENT_FINDINGS)
    assert "business_assessed" in audit.kinds
    # And the underwriter sees that finding in the queue
    assert [finding["code"] for finding in item.findings] == ["insufficient_history"]
    assert item.findings[0]["severity"] == "high"
