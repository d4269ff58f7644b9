"""An applicant outside the product's age range ends DECLINED on age through the workflow's steps, never FAILED.

The scoring step and the decision step run as the workflow runs them (score, then decide), with in-memory ports
and the shipped model, catalogue and policy. A step that raises is what the workflow turns into ``FAILED``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from in_memory_steps import Applications, Audit, decrypt

from lending import clock
from lending.applicant import Applicant
from lending.catalogue import Catalogue
from lending.origination import Status
from lending.prc_id import make_id_number
from lending.risk.outcome import Outcome, Rule
from lending.risk.policy import DecisionPolicy
from lending.scoring.features import BureauFacts
from lending.scoring.model import CreditModel, load_model
from lending.steps.assessment import make_decision, score_credit

BUSINESS_DATE = date(2026, 1, 10)
PASSED = {"passed": True, "face_match": "0.9300", "liveness": True}
REPORT = BureauFacts(5, "owner", "married", False, "fixed", None, None, None, None)


class _Report:
    def facts(self) -> BureauFacts:
        return REPORT


class _Bureau:
    def __init__(self) -> None:
        self.asked = 0

    def fetch_report(self, applicant: Applicant, consent_reference: str) -> _Report:
        self.asked += 1
        return _Report()


@pytest.fixture(autouse=True)
def _business_date(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "today", lambda: BUSINESS_DATE)


@pytest.fixture(scope="module")
def model() -> CreditModel:
    return load_model()


def _born_aged(years: int) -> date:
    """A birth date that makes the applicant exactly ``years`` old on the business date (their birthday)."""
    return BUSINESS_DATE.replace(year=BUSINESS_DATE.year - years)


def _record(product: str, born: date) -> dict[str, Any]:
    return {
        "application_id": "app-1",
        "status": Status.VERIFYING_IDENTITY.value,
        "product": product,
        "amount": "50000.00",
        "term_months": 12,
        "consent": {"credit_report": True, "data_processing": True},
        "business": {"name": "Zhang's Shop", "industry": "retail", "registered_on": "2019-05-01"},
        "pii": {
            "name": "Zhang Min",
            "id_number": make_id_number("110105", born, 123),
            "phone": "+8613900001234",
            "bank_account": "6222020200001234",
        },
    }


@pytest.mark.parametrize(
    ("product", "age"),
    [
        ("business_instalment", 17),
        ("consumer_instalment", 17),
        ("credit_line", 0),
        ("startup_plan", 16),
        ("business_instalment", 66),
        ("consumer_instalment", 61),
        ("business_instalment", 76),
        ("business_instalment", 101),
        ("consumer_instalment", 120),
    ],
)
def test_an_applicant_outside_the_age_range_is_declined_on_age(
    product: str, age: int, model: CreditModel, catalogue: Catalogue, policy: DecisionPolicy
) -> None:
    # Given an applicant whose ID number makes them too young or too old for the product on the business date
    applications, audit, bureau = Applications(_record(product, _born_aged(age))), Audit(), _Bureau()
    # When the workflow scores and then decides
    score_credit("app-1", applications=applications, audit=audit, bureau=bureau, decrypt=decrypt, model=model)
    decision = make_decision(
        "app-1",
        PASSED,
        applications=applications,
        audit=audit,
        decrypt=decrypt,
        catalogue=catalogue,
        policy=policy,
    )
    # Then neither step raises: the application is DECLINED on age, saying the product's range
    allowed = catalogue.product(product).applicant_age
    assert decision.outcome is Outcome.DECLINE
    assert decision.rule is Rule.APPLICANT_AGE_OUTSIDE_RANGE
    assert [reason.code for reason in decision.reasons] == ["applicant_age_outside_range"]
    assert f"{allowed.min} to {allowed.max}" in decision.reasons[0].text
    assert applications.record["status"] == Status.DECLINED.value
    assert applications.record["decision"]["rule"] == "applicant_age_outside_range"


@pytest.mark.parametrize("age", [0, 17, 101])
def test_no_credit_report_is_pulled_for_an_age_the_model_cannot_score(age: int, model: CreditModel) -> None:
    # Given a minor, or an applicant older than any product lends to
    applications, audit, bureau = Applications(_record("consumer_instalment", _born_aged(age))), Audit(), _Bureau()
    # When the scoring step runs
    summary = score_credit("app-1", applications=applications, audit=audit, bureau=bureau, decrypt=decrypt, model=model)
    # Then it says it did not score, and why, without asking the bureau about them or storing a score
    assert summary == {"scored": False, "reason": "applicant_age_outside_range"}
    assert bureau.asked == 0
    assert "score" not in applications.record


@pytest.mark.parametrize(("product", "age"), [("business_instalment", 18), ("consumer_instalment", 60)])
def test_the_ends_of_the_range_are_still_scored(
    product: str, age: int, model: CreditModel, catalogue: Catalogue, policy: DecisionPolicy
) -> None:
    # Given applicants exactly at the product's youngest and oldest age
    applications, audit, bureau = Applications(_record(product, _born_aged(age))), Audit(), _Bureau()
    # When the scoring step runs
    summary = score_credit("app-1", applications=applications, audit=audit, bureau=bureau, decrypt=decrypt, model=model)
    # Then they are scored as anyone else
    assert summary["scored"] is True
    assert bureau.asked == 1
    assert applications.record["score"]["model_id"] == model.model_id


def test_the_scoring_and_identity_steps_decrypt_no_bank_account(model: CreditModel) -> None:
    # Given an application whose personal data includes the bank account the loan will be paid to
    from lending.steps.identity import request_check

    asked: list[tuple[str, ...]] = []

    def recording(record_id: str, ciphertexts: dict[str, Any], fields: tuple[str, ...]) -> dict[str, str]:
        asked.append(fields)
        return decrypt(record_id, ciphertexts, fields)

    class _Vendor:
        def request_check(self, reference: str, callback_url: str, applicant: Any) -> str:
            return "check-1"

    applications = Applications(_record("business_instalment", _born_aged(40)))
    # When the scoring step and the identity request run
    score_credit("app-1", applications=applications, audit=Audit(), bureau=_Bureau(), decrypt=recording, model=model)
    request_check(
        "app-1", "token", applications=applications, audit=Audit(), vendor=_Vendor(), decrypt=recording,
        callback_url="https://example.invalid/identity",
    )  # fmt: skip
    # Then neither asked for the account: a vendor that matches a person is given the person, nothing more
    assert asked == [("name", "id_number", "phone"), ("name", "id_number", "phone")]
