"""The acceptance steps over in-memory ports: the workflow's token handed the acceptance exactly once it is made,
whatever fails between the borrower's tap and the workflow taking it up."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from lending import clock
from lending.catalogue import load_catalogue
from lending.errors import ContractMismatch, OfferExpired, ProductRuleViolation, StatusConflict
from lending.funding import load_funding_sources
from lending.money import Money
from lending.origination import ALLOWED_FROM, Status
from lending.steps.acceptance import accept, await_acceptance, issue_contract

CATALOGUE, SOURCES = load_catalogue(), load_funding_sources()
START = datetime(2024, 3, 6, 4, 0, tzinfo=UTC)  # noon in China


class Applications:
    """The application repository's acceptance writes, with their conditions, in memory."""

    def __init__(self, application: dict[str, Any]) -> None:
        self.records = {application["application_id"]: application}

    def get(self, application_id: str) -> dict[str, Any]:
        return copy.deepcopy(self.records[application_id])

    def get_owned(self, application_id: str, borrower_id: str) -> dict[str, Any]:
        return self.get(application_id)

    def move(self, application_id: str, target: Status, updates: Mapping[str, Any] | None = None) -> dict[str, Any]:
        record = self.records[application_id]
        if record["status"] != target and Status(record["status"]) not in ALLOWED_FROM[target]:
            raise StatusConflict("no")
        record.update({"status": target.value, **copy.deepcopy(dict(updates or {}))})
        return self.get(application_id)

    def issue_contract(self, application_id: str, sha256: str, terms: Mapping[str, Any]) -> None:
        self.records[application_id]["contracts"][sha256] = dict(terms)

    def record_acceptance(self, application_id: str, sha256: str, accepted: Mapping[str, Any]) -> bool:
        record = self.records[application_id]
        if record["status"] != "APPROVED" or "accepted" in record or sha256 not in record["contracts"]:
            return False
        record["accepted"] = dict(accepted)
        return True

    def withdraw_acceptance(self, application_id: str, sha256: str) -> bool:
        record = self.records[application_id]
        if (record.get("accepted") or {}).get("contract_sha256") != sha256:
            return False
        del record["accepted"]
        return True


class Audit:
    def __init__(self) -> None:
        self.kinds: list[str] = []

    def append(self, subject: str, kind: str, occurred_at: datetime, data: Mapping[str, Any]) -> None:
        self.kinds.append(kind)


class Workflow:
    """Step Functions' side: the tokens still waiting, and what each was handed."""

    def __init__(self, *waiting: str) -> None:
        self.waiting = set(waiting)
        self.handed: list[str] = []

    def __call__(self, task_token: str, output: dict[str, Any]) -> bool:
        if task_token not in self.waiting:
            return False
        self.waiting.discard(task_token)
        self.handed.append(task_token)
        return True


@pytest.fixture
def moment(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    now = [START]
    monkeypatch.setattr(clock, "now", lambda: now[0])
    return now


def _approved() -> dict[str, Any]:
    return {
        "application_id": "app-1",
        "borrower_id": "b-1",
        "status": "APPROVED",
        "consent": {"credit_report": True, "data_processing": True},
        "offer": {
            "product": "business_instalment",
            "product_kind": "instalment",
            "limit": "60000.00",
            "annual_rate": "0.1200",
            "apr": "0.1450",
            "term_months": 12,
            "method": "equal_instalment",
        },
    }


def _waiting(workflow: Workflow, token: str = "token-1") -> tuple[Applications, Audit]:
    applications, audit = Applications(_approved()), Audit()
    workflow.waiting.add(token)
    await_acceptance("app-1", token, 604800, applications=applications, audit=audit, resume=workflow)
    return applications, audit


def _accept(applications: Applications, audit: Audit, workflow: Workflow, sha: str) -> dict[str, Any]:
    return accept(
        "app-1",
        "b-1",
        sha,
        applications=applications,
        audit=audit,
        resume=workflow,
        catalogue=CATALOGUE,
        sources=SOURCES,
    )


def _issue(applications: Applications, amount: str | None = None, months: int | None = None) -> Any:
    return issue_contract(
        applications.get("app-1"),
        None if amount is None else Money.of(amount),
        months,
        applications=applications,
        catalogue=CATALOGUE,
        sources=SOURCES,
    )


def test_an_acceptance_in_time_hands_the_workflow_its_result_once(moment: list[datetime]) -> None:
    workflow = Workflow()
    applications, audit = _waiting(workflow)
    contract = _issue(applications)
    first = _accept(applications, audit, workflow, contract.sha256)
    assert workflow.handed == ["token-1"]
    assert _accept(applications, audit, workflow, contract.sha256) == first
    assert audit.kinds == ["offer_awaiting_acceptance", "contract_accepted"]
    # The accepted document is kept: it is what the contract route shows from now on
    assert _issue(applications).sha256 == contract.sha256


def test_the_deadline_is_a_little_before_the_workflows_own_timeout(moment: list[datetime]) -> None:
    applications, _ = _waiting(Workflow())
    expires_at = datetime.fromisoformat(applications.get("app-1")["offer"]["expires_at"])
    assert START + timedelta(seconds=604800 - 60) == expires_at


def test_an_acceptance_the_timed_out_workflow_refuses_lapses_and_says_the_offer_expired(
    moment: list[datetime],
) -> None:
    workflow = Workflow()
    applications, audit = _waiting(workflow)
    contract = _issue(applications)

    def late(token: str, output: dict[str, Any]) -> bool:
        moment[0] = START + timedelta(days=8)  # the deadline passed while the resume was on its way
        workflow.waiting.clear()
        return workflow(token, output)

    with pytest.raises(OfferExpired):
        accept(
            "app-1",
            "b-1",
            contract.sha256,
            applications=applications,
            audit=audit,
            resume=late,
            catalogue=CATALOGUE,
            sources=SOURCES,
        )
    assert "accepted" not in applications.get("app-1")
    assert audit.kinds[-2:] == ["contract_accepted", "contract_acceptance_lapsed"]


def test_a_resume_that_failed_is_made_again_by_the_borrowers_retry(moment: list[datetime]) -> None:
    workflow = Workflow()
    applications, audit = _waiting(workflow)
    contract = _issue(applications)

    def unreachable(token: str, output: dict[str, Any]) -> bool:
        raise ConnectionError("throttled")

    with pytest.raises(ConnectionError):
        accept(
            "app-1",
            "b-1",
            contract.sha256,
            applications=applications,
            audit=audit,
            resume=unreachable,
            catalogue=CATALOGUE,
            sources=SOURCES,
        )
    assert workflow.handed == []
    _accept(applications, audit, workflow, contract.sha256)
    assert workflow.handed == ["token-1"]


def test_a_retried_wait_takes_up_an_acceptance_made_on_the_failed_attempts_token(moment: list[datetime]) -> None:
    workflow = Workflow()
    applications, audit = _waiting(workflow, "token-1")
    contract = _issue(applications)
    _accept(applications, audit, workflow, contract.sha256)  # resumes token-1, whose attempt then failed
    workflow.handed.clear()
    workflow.waiting.add("token-2")
    await_acceptance("app-1", "token-2", 604800, applications=applications, audit=audit, resume=workflow)
    assert workflow.handed == ["token-2"]


def test_an_acceptance_on_a_replaced_token_resumes_the_waiting_one(moment: list[datetime]) -> None:
    workflow = Workflow()
    applications, audit = _waiting(workflow, "token-1")
    contract = _issue(applications)

    def retried_meanwhile(token: str, output: dict[str, Any]) -> bool:
        if token == "token-1":  # the wait was retried between the borrower's read and this resume
            workflow.waiting = {"token-2"}
            applications.records["app-1"]["acceptance_task_token"] = "token-2"
        return workflow(token, output)

    accept(
        "app-1",
        "b-1",
        contract.sha256,
        applications=applications,
        audit=audit,
        resume=retried_meanwhile,
        catalogue=CATALOGUE,
        sources=SOURCES,
    )
    assert workflow.handed == ["token-2"]
    assert applications.get("app-1")["accepted"]["contract_sha256"] == contract.sha256


def test_a_contract_from_another_day_or_of_terms_since_changed_is_read_again(moment: list[datetime]) -> None:
    workflow = Workflow()
    applications, audit = _waiting(workflow)
    yesterdays = _issue(applications)
    moment[0] = START + timedelta(days=1)
    with pytest.raises(ContractMismatch):
        _accept(applications, audit, workflow, yesterdays.sha256)
    todays = _issue(applications)
    applications.records["app-1"]["offer"]["annual_rate"] = "0.1300"  # the terms behind it changed
    with pytest.raises(ContractMismatch):
        _accept(applications, audit, workflow, todays.sha256)
    assert workflow.handed == []
    assert "accepted" not in applications.get("app-1")


def test_less_of_the_offer_never_asks_a_larger_instalment_than_was_assessed(moment: list[datetime]) -> None:
    applications, _ = _waiting(Workflow())
    with pytest.raises(ProductRuleViolation):
        _issue(applications, months=6)
    assert _issue(applications, amount="20000.00", months=6).term_months == 6


def test_a_repeat_after_the_offer_expired_is_offer_expired(moment: list[datetime]) -> None:
    workflow = Workflow()
    applications, audit = _waiting(workflow)
    contract = _issue(applications)
    _accept(applications, audit, workflow, contract.sha256)
    applications.records["app-1"]["status"] = "EXPIRED"
    with pytest.raises(OfferExpired):
        _accept(applications, audit, workflow, contract.sha256)
