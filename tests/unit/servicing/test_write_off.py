"""Grading, provisions, write-off and recovery through the daily close and the replay (lending.classification,
lending.servicing, lending.steps.daily_close)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from lending import bookkeeping
from lending.catalogue import Catalogue, LoanClass
from lending.ledger import Account, AccountCode
from lending.money import Money
from lending.servicing import EventKind, LoanStatus, LoanTerms, ServicingEvent, difference, replay
from lending.steps.daily_close import close_loan
from lending.steps.repayments import apply_repayment


def _terms(record: dict[str, Any], catalogue: Catalogue) -> LoanTerms:
    return LoanTerms.from_record(record, catalogue)


def _acc(code: AccountCode, key: str = "") -> Account:
    return Account(code, key)


def test_the_allowance_is_the_grade_rate_on_the_principal(
    booked_instalment: Callable[..., dict[str, Any]], catalogue: Catalogue
) -> None:
    terms = _terms(booked_instalment(), catalogue)
    rates = {LoanClass.NORMAL: "120.00", LoanClass.SUBSTANDARD: "3000.00", LoanClass.LOSS: "12000.00"}
    for grade, allowance in rates.items():
        position = replay(replace(terms, classification=grade), [], terms.opened_on)
        assert position.provision == Money.of(allowance)
        assert position.booked[_acc(AccountCode.LOAN_LOSS_ALLOWANCE, "L-1")] == -Money.of(allowance).fen
        assert position.booked[_acc(AccountCode.PROVISION_EXPENSE)] == Money.of(allowance).fen


def test_a_loan_unpaid_past_its_products_threshold_is_graded_down_then_written_off_then_recovered(
    booked_instalment: Callable[..., dict[str, Any]],
    memory_store: Callable[..., Any],
    catalogue: Catalogue,
    at: Callable[..., datetime],
) -> None:
    # Given a 12,000 loan nobody repays
    record = booked_instalment()
    store = memory_store(record)
    principal = Money.of(record["principal"])
    store.ledger.record(
        bookkeeping.disbursement(
            "L-1/disbursement", "L-1", principal, Money.ZERO, date.fromisoformat(record["opened_on"])
        )
    )
    first_due = date.fromisoformat(record["schedule"][0]["due_date"])
    announced: list[tuple[str, dict[str, Any]]] = []

    def close(day: date) -> dict[str, Any]:
        return close_loan(
            "L-1",
            day,
            store=store,
            catalogue=catalogue,
            warn=lambda w: None,
            announce=lambda kind, detail: announced.append((kind, detail)),
        )

    grades: dict[int, str] = {}
    day = first_due
    while True:
        outcome = close(day)
        loan = store.load("L-1")
        grades[(day - first_due).days] = loan.state.get("classification", "normal")
        if outcome["written_off"]:
            break
        day += timedelta(days=1)
    # Then it is special mention from its first day overdue, substandard past 90 days, and written off at 180
    assert grades[0] == "normal"
    assert grades[1] == "special_mention"
    assert grades[90] == "special_mention"
    assert grades[91] == "substandard"
    assert (day - first_due).days == 180
    assert [kind for kind, _ in announced].count("LoanClassified") == 2
    assert announced[-1][0] == "LoanWrittenOff"
    loan = store.load("L-1")
    assert loan.record["status"] == LoanStatus.WRITTEN_OFF
    assert "next_due_on" not in loan.record  # the close has nothing more to recognise on it
    # And nothing it owes is left on the book: every receivable went to the write-off, the allowance was released
    books = store.ledger.balances().posted
    for code in (
        AccountCode.PRINCIPAL_RECEIVABLE,
        AccountCode.INTEREST_RECEIVABLE,
        AccountCode.FEE_RECEIVABLE,
        AccountCode.PENALTY_RECEIVABLE,
        AccountCode.LOAN_LOSS_ALLOWANCE,
    ):
        assert books.get(_acc(code, "L-1"), 0) == 0, code
    position = replay(_terms(loan.record, catalogue), loan.events, loan.aged_through)
    written = books[_acc(AccountCode.WRITE_OFF, "L-1")]
    assert (
        written
        == (
            position.principal_outstanding + position.interest_accrued + position.fee_accrued + position.penalty_accrued
        ).fen
    )
    assert position.written_off == position.principal_outstanding  # the borrower still owes all of it
    assert store.ledger.trial_balance() == Money.ZERO

    # When the borrower pays 1,000 afterwards
    payment = ServicingEvent("late-1", EventKind.REPAYMENT, at(day + timedelta(days=5)), Money.of("1000.00"))
    assert apply_repayment(payment, "L-1", store=store, catalogue=catalogue)["status"] == "applied"
    # Then it is a recovery: income, with nothing back on the book, and the borrower owes 1,000 less
    books = store.ledger.balances().posted
    assert books[_acc(AccountCode.RECOVERY_INCOME)] == -Money.of("1000.00").fen
    assert books.get(_acc(AccountCode.PRINCIPAL_RECEIVABLE, "L-1"), 0) == 0
    after = replay(_terms(store.load("L-1").record, catalogue), store.load("L-1").events, payment.on)
    assert after.status is LoanStatus.WRITTEN_OFF
    assert after.payoff < position.payoff + Money.of("100.00")  # (a few days' penalty more, 1,000 less)
    assert store.ledger.trial_balance() == Money.ZERO


def test_a_payment_dated_before_the_write_off_that_arrives_after_it_ends_where_the_in_order_history_does(
    booked_instalment: Callable[..., dict[str, Any]], catalogue: Catalogue, at: Callable[..., datetime]
) -> None:
    record = booked_instalment()
    terms = _terms(record, catalogue)
    first_due = date.fromisoformat(record["schedule"][0]["due_date"])
    written_on = first_due + timedelta(days=180)
    off = replace(terms, written_off_on=written_on, classification=LoanClass.SUBSTANDARD)
    early = ServicingEvent("early", EventKind.REPAYMENT, at(written_on - timedelta(days=10)), Money.of("500.00"))
    late = ServicingEvent("late", EventKind.REPAYMENT, at(written_on + timedelta(days=3)), Money.of("700.00"))
    through = written_on + timedelta(days=5)
    # Given the write-off booked with only the later payment known
    before = replay(off, [late], through)
    # When the earlier one arrives
    after = replay(off, [late, early], through)
    step = difference("t", "repayment", through, before.booked, after.booked, "test")
    assert step is not None
    # Then the books are those of the whole history, and the earlier payment made the write-off smaller
    assert dict(after.booked) == dict(replay(off, [early, late], through).booked)
    written_off = _acc(AccountCode.WRITE_OFF, "L-1")
    assert 0 < after.booked[written_off] < before.booked[written_off]
    assert after.booked[_acc(AccountCode.RECOVERY_INCOME)] == -Money.of("700.00").fen


def test_a_written_off_line_is_frozen_and_has_nothing_available(
    booked_line: Callable[..., dict[str, Any]], catalogue: Catalogue, at: Callable[..., datetime]
) -> None:
    terms = _terms(booked_line(), catalogue)
    drawn = ServicingEvent("d-1", EventKind.DRAWDOWN, at(terms.opened_on + timedelta(days=1)), Money.of("5000.00"))
    written_on = terms.opened_on + timedelta(days=250)
    position = replay(replace(terms, written_off_on=written_on), [drawn], written_on + timedelta(days=1))
    assert position.status is LoanStatus.WRITTEN_OFF
    assert position.frozen
    assert position.available_limit == Money.ZERO
    assert position.written_off == Money.of("5000.00")
    assert position.booked.get(_acc(AccountCode.PRINCIPAL_RECEIVABLE, "LINE-1"), 0) == 0
    assert position.provision == Money.ZERO


@pytest.mark.parametrize("threshold", [None, 400])
def test_a_product_without_a_threshold_or_with_a_later_one_is_not_written_off_at_180(
    threshold: int | None,
    booked_instalment: Callable[..., dict[str, Any]],
    memory_store: Callable[..., Any],
    catalogue: Catalogue,
) -> None:
    product = catalogue.products["business_instalment"].model_copy(update={"write_off_days_past_due": threshold})
    changed = catalogue.model_copy(update={"products": {**catalogue.products, "business_instalment": product}})
    record = booked_instalment()
    store = memory_store(record)
    first_due = date.fromisoformat(record["schedule"][0]["due_date"])
    outcome = close_loan("L-1", first_due + timedelta(days=200), store=store, catalogue=changed, warn=lambda w: None)
    assert not outcome["written_off"]
    assert store.load("L-1").state["classification"] == "substandard"


def test_the_borrowers_history_shows_the_write_off_and_then_recoveries(
    booked_instalment: Callable[..., dict[str, Any]], catalogue: Catalogue, at: Callable[..., datetime]
) -> None:
    from lending.history import MovementKind, movements

    record = booked_instalment()
    first_due = date.fromisoformat(record["schedule"][0]["due_date"])
    written_on = first_due + timedelta(days=180)
    terms = replace(_terms(record, catalogue), written_off_on=written_on)
    before = ServicingEvent("before", EventKind.REPAYMENT, at(first_due + timedelta(days=20)), Money.of("300.00"))
    after = ServicingEvent("after", EventKind.REPAYMENT, at(written_on + timedelta(days=2)), Money.of("400.00"))
    walked = movements(terms, record, [after, before], written_on + timedelta(days=3))
    kinds = [m.kind for m in walked]
    assert kinds.count(MovementKind.WRITE_OFF) == 1
    index = kinds.index(MovementKind.WRITE_OFF)
    write_off = walked[index]
    assert write_off.effective_on == written_on
    # The borrower still owes what was written off: their balances do not move with it
    assert write_off.balances == walked[index - 1].balances
    assert write_off.amount == write_off.balances.principal + write_off.balances.interest + write_off.balances.fees + (
        write_off.balances.penalty
    )
    assert MovementKind.REPAYMENT in kinds[:index]
    assert [m.kind for m in walked[index:] if m.amount == Money.of("400.00")] == [MovementKind.RECOVERY]


def test_a_payment_every_day_does_not_stop_the_close_grading_and_writing_off(
    booked_instalment: Callable[..., dict[str, Any]],
    memory_store: Callable[..., Any],
    catalogue: Catalogue,
    at: Callable[..., datetime],
) -> None:
    # Given a loan overdue for months whose borrower pays one yuan each day, before that day's close
    record = booked_instalment()
    store = memory_store(record)
    first_due = date.fromisoformat(record["schedule"][0]["due_date"])
    day = first_due
    while store.load("L-1").record["status"] == "ACTIVE" and day < first_due + timedelta(days=200):
        payment = ServicingEvent(f"yuan-{day}", EventKind.REPAYMENT, at(day, 9), Money.of("1.00"))
        apply_repayment(payment, "L-1", store=store, catalogue=catalogue)
        close_loan("L-1", day, store=store, catalogue=catalogue, warn=lambda w: None)
        day += timedelta(days=1)
    # Then it is graded and written off all the same (a payment ages a loan; only the close grades it)
    assert store.load("L-1").record["status"] == "WRITTEN_OFF"
    assert (day - timedelta(days=1) - first_due).days == 180


def test_a_late_payment_that_would_have_kept_it_under_the_threshold_undoes_the_write_off(
    booked_instalment: Callable[..., dict[str, Any]],
    memory_store: Callable[..., Any],
    catalogue: Catalogue,
    at: Callable[..., datetime],
) -> None:
    record = booked_instalment()
    store = memory_store(record)
    first_due = date.fromisoformat(record["schedule"][0]["due_date"])
    written_on = first_due + timedelta(days=180)
    close_loan("L-1", written_on, store=store, catalogue=catalogue, warn=lambda w: None)
    assert store.load("L-1").record["status"] == "WRITTEN_OFF"
    # When the provider's notice of a payment made the day after the first due date (the first instalment and
    # more) arrives only now
    late = ServicingEvent("late", EventKind.REPAYMENT, at(first_due + timedelta(days=1)), Money.of("4000.00"))
    apply_repayment(late, "L-1", store=store, catalogue=catalogue)
    # Then in order the loan was under 180 days past due that night: it is back on the book, as if never written off
    loan = store.load("L-1")
    assert loan.record["status"] == "ACTIVE"
    assert loan.state.get("written_off") is None
    assert loan.record.get("next_due_on")  # the close reads it again
    position = replay(_terms(loan.record, catalogue), loan.events, loan.aged_through)
    assert {a: f for a, f in position.booked.items() if f} == loan.booked
    assert position.booked.get(_acc(AccountCode.WRITE_OFF, "L-1"), 0) == 0


def test_a_drawdown_paid_out_after_its_line_was_written_off_is_written_off_too(
    booked_line: Callable[..., dict[str, Any]], catalogue: Catalogue, at: Callable[..., datetime]
) -> None:
    terms = _terms(booked_line(), catalogue)
    written_on = terms.opened_on + timedelta(days=250)
    first = ServicingEvent("d-1", EventKind.DRAWDOWN, at(terms.opened_on + timedelta(days=1)), Money.of("5000.00"))
    later = ServicingEvent("d-2", EventKind.DRAWDOWN, at(written_on + timedelta(days=1)), Money.of("1000.00"))
    position = replay(replace(terms, written_off_on=written_on), [first, later], written_on + timedelta(days=2))
    assert position.written_off == Money.of("6000.00")
    assert position.booked.get(_acc(AccountCode.PRINCIPAL_RECEIVABLE, "LINE-1"), 0) == 0
    assert position.principal_on_book == Money.ZERO
