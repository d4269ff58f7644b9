"""The hardship steps (lending.steps.hardship) with in-memory stores: the refusals, the rate cap, the acceptance's
deadline and its lapse, and maker-checker, each leaving the request as it was."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from lending import clock
from lending.calendar import business_date
from lending.catalogue import Method, load_catalogue
from lending.errors import (
    HardshipInProgress,
    LoanClosed,
    LoanNotFound,
    LoanWrittenOff,
    MakerCheckerViolation,
    OfferExpired,
    RateCapExceeded,
    StatusConflict,
)
from lending.money import Money
from lending.pricing import make_offer
from lending.restructuring import ReliefKind
from lending.serviced_loan import ServicedLoan
from lending.servicing import schedule_record
from lending.steps import hardship

CATALOGUE = load_catalogue()
BORROWER = "b-1"


class Requests:
    """The hardship repository's rules in memory: one open request per loan, conditional updates."""

    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}
        self.claims: dict[str, str] = {}

    def find(self, request_id: str) -> dict[str, Any] | None:
        return copy.deepcopy(self.items.get(request_id))

    def get(self, request_id: str) -> dict[str, Any]:
        found = self.find(request_id)
        assert found is not None
        return found

    def open(self, request: Mapping[str, Any]) -> bool:
        if request["request_id"] in self.items:
            return False
        if request["loan_id"] in self.claims:
            raise HardshipInProgress("open")
        self.items[request["request_id"]] = dict(request)
        self.claims[request["loan_id"]] = request["request_id"]
        return True

    def update(
        self,
        request_id: str,
        updates: Mapping[str, Any],
        *,
        status_in: tuple[str, ...],
        absent: str | None = None,
        removes: tuple[str, ...] = (),
    ) -> dict[str, Any] | None:
        item = self.items.get(request_id)
        if item is None or item["status"] not in status_in or (absent is not None and absent in item):
            return None
        item.update(copy.deepcopy(dict(updates)))
        for name in removes:
            item.pop(name, None)
        return copy.deepcopy(item)

    def close(self, request: Mapping[str, Any], status: str, updates: Mapping[str, Any]) -> bool:
        item = self.items[request["request_id"]]
        if item["status"] in {s.value for s in hardship.ENDED}:
            return False
        item.update({"status": status, **updates})
        self.claims.pop(item["loan_id"], None)
        return True

    def queue(self, limit: int = 100) -> list[dict[str, Any]]:
        return [copy.deepcopy(i) for i in self.items.values() if i.get("review_queue")]


class Loans:
    """A loan store that only reads (the steps here write nothing to the loan)."""

    def __init__(self, record: dict[str, Any]) -> None:
        self.record = record

    @property
    def ledger(self) -> Any:
        raise AssertionError("not used")

    def load(self, loan_id: str) -> ServicedLoan:
        if loan_id != self.record["loan_id"]:
            raise LoanNotFound(loan_id)
        return ServicedLoan.parse(copy.deepcopy(self.record))

    def save(self, *args: Any, **kwargs: Any) -> None:
        raise AssertionError("not used")


class Audit:
    def __init__(self) -> None:
        self.kinds: list[str] = []

    def append(self, subject: str, kind: str, occurred_at: datetime, data: Mapping[str, Any]) -> None:
        self.kinds.append(kind)


def _loan(status: str = "ACTIVE", annual_rate: str = "0.12") -> dict[str, Any]:
    opened = business_date() - timedelta(days=40)
    rate = Decimal(annual_rate)
    offer = make_offer(CATALOGUE, "business_instalment", Money.of("12000.00"), 6, Method.EQUAL_INSTALMENT, opened, rate)
    return {
        "loan_id": "L-1",
        "application_id": "app-L-1",
        "borrower_id": BORROWER,
        "product": "business_instalment",
        "opened_on": opened.isoformat(),
        "annual_rate": f"{rate:.4f}",
        "term_months": 6,
        "status": status,
        "principal": "12000.00",
        "method": "equal_instalment",
        "schedule": schedule_record(offer.schedule),
    }


def _ask(loans: Loans, requests: Requests, key: str = "k1", audit: Audit | None = None) -> dict[str, Any]:
    started: list[str] = []
    answer = hardship.request_relief(
        "L-1",
        BORROWER,
        ReliefKind.PAYMENT_HOLIDAY,
        2,
        "orders fell",
        key,
        store=loans,
        requests=requests,
        catalogue=CATALOGUE,
        audit=audit or Audit(),
        start=started.append,
    )
    assert started == [answer["request_id"]]
    return answer


@pytest.mark.parametrize(("status", "error"), [("CLOSED", LoanClosed), ("WRITTEN_OFF", LoanWrittenOff)])
def test_a_closed_or_written_off_loan_has_no_relief(status: str, error: type[Exception]) -> None:
    requests = Requests()
    with pytest.raises(error):
        _ask(Loans(_loan(status)), requests)
    assert requests.items == {}


def test_someone_elses_loan_is_not_found_and_a_second_open_request_is_refused() -> None:
    loans, requests = Loans(_loan()), Requests()
    with pytest.raises(LoanNotFound):
        hardship.request_relief(
            "L-1", "someone-else", ReliefKind.PAYMENT_HOLIDAY, 2, "x", "k", store=loans, requests=requests,
            catalogue=CATALOGUE, audit=Audit(), start=lambda _: None,
        )  # fmt: skip
    first = _ask(loans, requests)
    with pytest.raises(HardshipInProgress):
        _ask(loans, requests, key="k2")
    assert _ask(loans, requests) == first


def _approved(requests: Requests, loans: Loans, request_id: str, *, timeout: int = 3600, cap: str = "0.24") -> None:
    hardship.await_review(request_id, "review-token", requests=requests)
    resumed: list[dict[str, Any]] = []
    hardship.decide(
        request_id, "approve", "", "uw-1", requests=requests, audit=Audit(),
        resume=lambda token, output: resumed.append(output) or True,
    )  # fmt: skip
    assert resumed == [{"decision": "approve"}]
    hardship.offer_relief(
        request_id, "acceptance-token", timeout, requests=requests, store=loans, catalogue=CATALOGUE,
        rate_cap=Decimal(cap), audit=Audit(), publish=lambda kind, detail: None,
    )  # fmt: skip


def test_the_requester_cannot_decide_and_a_decided_request_is_not_queued_again() -> None:
    loans, requests = Loans(_loan()), Requests()
    request_id = _ask(loans, requests)["request_id"]
    hardship.await_review(request_id, "t", requests=requests)
    with pytest.raises(MakerCheckerViolation):
        hardship.decide(request_id, "approve", "", BORROWER, requests=requests, audit=Audit(), resume=lambda t, o: True)
    hardship.decide(request_id, "decline", "", "uw-1", requests=requests, audit=Audit(), resume=lambda t, o: True)
    with pytest.raises(StatusConflict):
        hardship.decide(request_id, "approve", "", "uw-2", requests=requests, audit=Audit(), resume=lambda t, o: True)
    with pytest.raises(StatusConflict):
        hardship.await_review(request_id, "t2", requests=requests)


def test_a_plan_above_the_rate_cap_is_not_offered() -> None:
    # Given a loan at 12% and a cap (for this deployment) below it
    loans, requests = Loans(_loan()), Requests()
    request_id = _ask(loans, requests)["request_id"]
    with pytest.raises(RateCapExceeded):
        _approved(requests, loans, request_id, cap="0.0800")
    # Then nothing was offered: the workflow declines it (apr_above_cap) and the loan is freed
    assert "offer" not in requests.get(request_id)
    hardship.end_request(
        request_id, hardship.RequestStatus.DECLINED, "apr_above_cap", requests=requests, audit=Audit(),
        publish=lambda kind, detail: None,
    )  # fmt: skip
    assert requests.claims == {}
    assert hardship.hardship_view(requests.get(request_id)).outcome_reason == "apr_above_cap"


def test_an_acceptance_after_the_deadline_or_refused_by_the_workflow_lapses(monkeypatch: pytest.MonkeyPatch) -> None:
    loans, requests = Loans(_loan()), Requests()
    request_id = _ask(loans, requests)["request_id"]
    _approved(requests, loans, request_id, timeout=600)
    request = requests.get(request_id)
    sha = request["offer"]["contract_sha256"]
    assert hardship.offered_contract(request).sha256 == sha
    later = datetime.fromisoformat(request["offer"]["expires_at"]) + timedelta(seconds=1)
    # After the offer's deadline the acceptance is refused
    with monkeypatch.context() as patched:
        patched.setattr(clock, "now", lambda: later)
        with pytest.raises(OfferExpired):
            hardship.accept_relief(request, sha, requests=requests, audit=Audit(), resume=lambda t, o: True)

    # Within it, but the workflow refuses the token once its own deadline has passed: the acceptance lapses
    def refused(token: str, output: dict[str, Any]) -> bool:
        monkeypatch.setattr(clock, "now", lambda: later)
        return False

    audit = Audit()
    with pytest.raises(OfferExpired):
        hardship.accept_relief(request, sha, requests=requests, audit=audit, resume=refused)
    assert "accepted" not in requests.get(request_id)
    assert audit.kinds == ["hardship_contract_accepted"]


def test_an_acceptance_resumes_the_workflow_once_and_a_repeat_answers_the_same() -> None:
    loans, requests = Loans(_loan()), Requests()
    request_id = _ask(loans, requests)["request_id"]
    _approved(requests, loans, request_id)
    sha = requests.get(request_id)["offer"]["contract_sha256"]
    resumed: list[tuple[str, dict[str, Any]]] = []

    def resume(token: str, output: dict[str, Any]) -> bool:
        resumed.append((token, output))
        return True

    first = hardship.accept_relief(requests.get(request_id), sha, requests=requests, audit=Audit(), resume=resume)
    again = hardship.accept_relief(requests.get(request_id), sha, requests=requests, audit=Audit(), resume=resume)
    assert first == again
    assert resumed[0] == ("acceptance-token", {"contract_sha256": sha})
    assert date.fromisoformat(requests.get(request_id)["offer"]["on"]) == business_date()
