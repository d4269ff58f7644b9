"""Rules that used to live in the handlers, now in the steps: the daily close over the due loans, the payoff date,
the future-dated payment, and a payout's failures reaching the workflow under the names its ASL catches."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from in_memory_steps import Applications, Audit, decrypt

from lending import clock
from lending.catalogue import Catalogue
from lending.errors import PaidAtInFuture, PayoffDateInPast, PayoutRejected, PayoutUnavailable
from lending.money import Money
from lending.origination import Status
from lending.serviced_loan import ServicedLoan
from lending.steps import views
from lending.steps.daily_close import close_day
from lending.steps.disbursement import disburse
from lending.steps.repayments import FUTURE_TOLERANCE, check_not_future


class DueStore:
    """The in-memory store, with the due-date index answering the ids it is given."""

    def __init__(self, store: Any, due: list[str]) -> None:
        self._store = store
        self._due = due
        self.asked: list[date] = []

    @property
    def ledger(self) -> Any:
        return self._store.ledger

    def load(self, loan_id: str) -> ServicedLoan:
        loan: ServicedLoan = self._store.load(loan_id)
        return loan

    def save(self, loan: ServicedLoan, **arguments: Any) -> None:
        self._store.save(loan, **arguments)

    def due(self, day: date) -> Iterator[str]:
        self.asked.append(day)
        yield from self._due


def test_the_close_of_a_day_ages_every_loan_the_index_lists_and_counts_what_changed(
    catalogue: Catalogue,
    booked_instalment: Callable[..., dict[str, Any]],
    memory_store: Callable[..., Any],
) -> None:
    # Given two loans whose first instalment (due 2026-02-10) is unpaid, and one that is not listed as due
    store = DueStore(
        memory_store(booked_instalment("L-1"), booked_instalment("L-2"), booked_instalment("L-3")), ["L-1", "L-2"]
    )
    warnings: list[dict[str, Any]] = []
    day = date(2026, 2, 15)
    # When the day is closed, twice
    first = close_day(day, store=store, catalogue=catalogue, warn=warnings.append)
    again = close_day(day, store=store, catalogue=catalogue, warn=warnings.append)
    # Then both listed loans were aged and warned about once; the second run changes nothing
    # (each overdue: graded special mention, once)
    assert first == {
        "close_date": "2026-02-15",
        "loans_read": 2,
        "loans_changed": 2,
        "warnings": 2,
        "classified": 2,
        "written_off": 0,
    }
    assert again == {
        "close_date": "2026-02-15",
        "loans_read": 2,
        "loans_changed": 0,
        "warnings": 0,
        "classified": 0,
        "written_off": 0,
    }
    assert sorted(w["loan_id"] for w in warnings) == ["L-1", "L-2"]
    assert store.load("L-3").aged_through == date(2026, 1, 10)
    assert store.asked == [day, day]


def test_a_payoff_date_before_today_is_refused_before_the_loan_is_read(catalogue: Catalogue) -> None:
    read: list[str] = []

    def load(loan_id: str) -> ServicedLoan:
        read.append(loan_id)
        raise AssertionError("the loan is not read for a date in the past")

    yesterday = clock.now().astimezone(UTC).date() - timedelta(days=2)
    with pytest.raises(PayoffDateInPast) as refused:
        views.payoff("L-1", yesterday, load=load, catalogue=catalogue)
    assert (refused.value.code, refused.value.message) == ("invalid_request", "the payoff date cannot be in the past")
    assert read == []


def test_a_payment_dated_beyond_the_clock_skew_is_refused_and_one_within_it_is_not() -> None:
    now = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
    check_not_future(now + FUTURE_TOLERANCE, now)
    with pytest.raises(PaidAtInFuture) as refused:
        check_not_future(now + FUTURE_TOLERANCE + timedelta(seconds=1), now)
    assert refused.value.code == "paid_at_in_future"
    assert refused.value.message == "paid_at is more than 300 s after the platform's clock"


class Refusing:
    """A payout provider that fails the way it is told to."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def pay(self, idempotency_key: str, amount: Money, bank_account: str, reference: str) -> Any:
        raise self.error


def _approved() -> dict[str, Any]:
    return {
        "application_id": "app-1",
        "status": Status.APPROVED.value,
        "offer": {"net_disbursement": "99000.00"},
        "accepted": {"amount": "100000.00", "term_months": 12, "net_disbursement": "99000.00"},
        "pii": {"bank_account": "6222020200000000"},
    }


def test_a_payout_the_bank_refuses_is_audited_and_reaches_the_workflow_as_payout_rejected() -> None:
    applications, audit = Applications(_approved()), Audit()
    refusal = PayoutRejected("account_rejected", vendor="payout_provider", status=422)
    with pytest.raises(PayoutRejected) as rejected:
        disburse("app-1", applications=applications, audit=audit, payouts=Refusing(refusal), decrypt=decrypt)
    assert type(rejected.value).__name__ == "PayoutRejected"  # the name the ASL's Catch matches
    assert audit.kinds == ["payout_rejected"]
    assert "payout" not in applications.record


def test_a_provider_that_cannot_be_reached_reaches_the_workflow_as_payout_unavailable_unaudited() -> None:
    applications, audit = Applications(_approved()), Audit()
    down = PayoutUnavailable("payout_provider answered 503", vendor="payout_provider", status=503)
    with pytest.raises(PayoutUnavailable) as unavailable:
        disburse("app-1", applications=applications, audit=audit, payouts=Refusing(down), decrypt=decrypt)
    assert type(unavailable.value).__name__ == "PayoutUnavailable"  # the name the ASL's Retry matches
    assert audit.kinds == []
    assert applications.record["status"] == Status.DISBURSING.value


def test_a_serviced_loan_is_never_replayed_before_the_day_it_was_aged_through(
    booked_line: Callable[..., dict[str, Any]],
) -> None:
    loan = ServicedLoan.parse(booked_line())
    assert (loan.loan_id, loan.chain, loan.status.value, loan.version) == ("LINE-1", "app-LINE-1", "ACTIVE", 0)
    assert loan.through([], date(2026, 1, 9)) == date(2026, 1, 10)
    assert loan.through([], date(2026, 2, 1)) == date(2026, 2, 1)


def test_each_drawdown_step_reads_the_line_once(
    memory_store: Callable[..., Any], booked_line: Callable[..., dict[str, Any]], catalogue: Catalogue, at: Any
) -> None:
    # Given a line with a drawdown requested, in a store that counts its reads
    from lending.funding import FundingSources, OwnCapital
    from lending.steps.drawdowns import release_drawdown, request_drawdown, reserve_drawdown_funding

    record = booked_line()
    store = memory_store(record)
    now = at(date.fromisoformat(record["opened_on"]) + timedelta(days=3))
    view = request_drawdown(
        "LINE-1", "b-1", Money.of("1000.00"), "key-1", store=store, catalogue=catalogue,
        start=lambda name, payload: None, now=now,
    )  # fmt: skip
    reads: list[str] = []
    load = store.load
    store.load = lambda loan_id: reads.append(loan_id) or load(loan_id)
    sources = FundingSources(
        version="t", currency="CNY", own_capital=OwnCapital(name="own", quota=Money.of("1000000.00")), partners=()
    )
    # When it is funded, then released
    reserve_drawdown_funding("LINE-1", view["drawdown_id"], sources, store=store)
    release_drawdown("LINE-1", view["drawdown_id"], "test", store=store)
    # Then each step read the line once: the read it decided on is the one its write is conditioned on
    assert reads == ["LINE-1", "LINE-1"]
