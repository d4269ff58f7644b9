"""Servicing by replay (lending.servicing.replay), by its properties: the order events arrive in does not matter,
ageing only recognises, the books always balance and the differences posted one by one end where the replay is,
the payoff pays everything, and the delinquency bucket is the catalogue's."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lending.catalogue import Catalogue, DelinquencyBucket, Method
from lending.ledger import Account, AccountCode, Ledger
from lending.money import Money
from lending.servicing import (
    EventKind,
    LoanTerms,
    Position,
    ServicingEvent,
    bucket_for,
    difference,
    ordered,
    replay,
)

OPENED = date(2026, 1, 10)
SETTINGS = settings(max_examples=80, deadline=None)

#: What ageing may touch: recognition of interest and fees fallen due, and penalty (receivable against income).
RECOGNITION = frozenset(
    {
        AccountCode.INTEREST_RECEIVABLE,
        AccountCode.FEE_RECEIVABLE,
        AccountCode.PENALTY_RECEIVABLE,
        AccountCode.INTEREST_INCOME,
        AccountCode.FEE_INCOME,
        AccountCode.PENALTY_INCOME,
    }
)
RECEIVABLE = frozenset({AccountCode.INTEREST_RECEIVABLE, AccountCode.FEE_RECEIVABLE, AccountCode.PENALTY_RECEIVABLE})

_KINDS = st.sampled_from([EventKind.REPAYMENT, EventKind.DRAWDOWN])


def _events(
    at: Callable[..., datetime], raw: list[tuple[int, int, EventKind, int]], *, line: bool
) -> list[ServicingEvent]:
    """Events with unique ids; an instalment loan takes repayments only."""
    events = []
    for index, (days, hour, drawn, fen) in enumerate(raw):
        kind = drawn if line else EventKind.REPAYMENT
        events.append(ServicingEvent(f"e{index:02d}", kind, at(OPENED + timedelta(days=days), hour), Money(fen)))
    return events


def _raw(amounts: st.SearchStrategy[int], max_size: int = 8) -> st.SearchStrategy[list[Any]]:
    """Events as (days after opening, hour of the business day, kind, amount in fen)."""
    return st.lists(st.tuples(st.integers(0, 240), st.integers(0, 22), _KINDS, amounts), max_size=max_size)


# Repayments of 0.01 … 15,000.00 against a 12,000.00 loan (instalments of about 2,070): partial, exact and over
_LOAN_RAW = _raw(st.one_of(st.integers(1, 1_500_000), st.sampled_from([207_060, 206_000, 1_200_000])))
# On a 20,000.00 line: drawdowns and repayments of 0.01 … 12,000.00
_LINE_RAW = _raw(st.integers(1, 1_200_000))


@pytest.fixture(scope="module")
def loan_terms(catalogue: Catalogue, booked_instalment: Callable[..., dict[str, Any]]) -> LoanTerms:
    """12,000.00 over 6 months at 12%, equal instalments, opened 10 January 2026 (penalty 18%)."""
    return LoanTerms.from_record(booked_instalment(opened_on=OPENED), catalogue)


@pytest.fixture(scope="module")
def line_terms(catalogue: Catalogue, booked_line: Callable[..., dict[str, Any]]) -> LoanTerms:
    """A 20,000.00 six-month line at 18% (penalty 24%), opened 10 January 2026."""
    return LoanTerms.from_record(booked_line(opened_on=OPENED), catalogue)


def _terms(kind: str, loan_terms: LoanTerms, line_terms: LoanTerms) -> LoanTerms:
    return line_terms if kind == "revolving" else loan_terms


def _last_day(events: list[ServicingEvent]) -> date:
    return max([OPENED, *(e.on for e in events)])


def _sum(booked: dict[Account, int] | Any, *codes: AccountCode) -> int:
    return sum(fen for account, fen in booked.items() if account.code in codes)


def _check_books(position: Position, terms: LoanTerms) -> None:
    """The replayed books say what the position says."""
    booked = position.booked
    loan = terms.loan_id
    assert sum(booked.values()) == 0
    # Every receivable is the loan's own; income and cash are the book's
    assert booked.get(Account(AccountCode.INTEREST_RECEIVABLE, loan), 0) == position.interest_accrued.fen
    assert booked.get(Account(AccountCode.PENALTY_RECEIVABLE, loan), 0) == position.penalty_accrued.fen
    assert booked.get(Account(AccountCode.FEE_RECEIVABLE, loan), 0) == position.fee_accrued.fen
    assert booked.get(Account(AccountCode.BORROWER_CREDIT, loan), 0) == -position.credit_balance.fen
    # Cash: money in less money lent out by drawdowns (an instalment loan's disbursement is booking's, not ours)
    assert booked.get(Account(AccountCode.SETTLEMENT_CASH), 0) == position.paid_in.fen - position.drawn.fen
    principal = booked.get(Account(AccountCode.PRINCIPAL_RECEIVABLE, loan), 0)
    if terms.kind == "revolving":
        assert principal == position.principal_outstanding.fen
    else:
        assert terms.schedule is not None
        assert principal == position.principal_outstanding.fen - terms.schedule.principal.fen
    assert all(fen >= 0 for account, fen in booked.items() if account.code in RECEIVABLE)


# Order independence


@SETTINGS
@given(kind=st.sampled_from(["instalment", "revolving"]), raw=_LINE_RAW, data=st.data(), extra=st.integers(0, 60))
def test_any_arrival_order_of_the_same_events_gives_the_same_position(
    loan_terms: LoanTerms,
    line_terms: LoanTerms,
    at: Callable[..., datetime],
    kind: str,
    raw: list[Any],
    data: st.DataObject,
    extra: int,
) -> None:
    # Given a loan or line and some events
    terms = _terms(kind, loan_terms, line_terms)
    events = _events(at, raw, line=kind == "revolving")
    through = _last_day(events) + timedelta(days=extra)
    # When they are replayed in the order they happened, and in any other order
    in_order = replay(terms, ordered(events), through)
    shuffled = data.draw(st.permutations(events))
    # Then the positions are equal in every field, the books included
    assert replay(terms, shuffled, through) == in_order
    assert replay(terms, list(reversed(events)), through) == in_order
    _check_books(in_order, terms)


def test_events_at_the_same_moment_are_ordered_by_id(loan_terms: LoanTerms, at: Callable[..., datetime]) -> None:
    # Given two payments stamped with the same moment
    day = OPENED + timedelta(days=31)
    a = ServicingEvent("a", EventKind.REPAYMENT, at(day), Money.of("100.00"))
    b = ServicingEvent("b", EventKind.REPAYMENT, at(day), Money.of("3000.00"))
    # Then either arrival order ends the same, with "a" applied first
    assert ordered([b, a]) == [a, b]
    assert replay(loan_terms, [b, a], day) == replay(loan_terms, [a, b], day)


# Ageing only recognises


@SETTINGS
@given(
    kind=st.sampled_from(["instalment", "revolving"]),
    raw=_LINE_RAW,
    first=st.integers(0, 120),
    later=st.integers(1, 200),
)
def test_replaying_through_a_later_date_only_recognises_interest_fees_and_penalty(
    loan_terms: LoanTerms,
    line_terms: LoanTerms,
    at: Callable[..., datetime],
    kind: str,
    raw: list[Any],
    first: int,
    later: int,
) -> None:
    # Given a loan or line replayed through a date on or after its last event
    terms = _terms(kind, loan_terms, line_terms)
    events = _events(at, raw, line=kind == "revolving")
    through = _last_day(events) + timedelta(days=first)
    before = replay(terms, events, through)

    # When the same events are replayed through a later date
    after = replay(terms, events, through + timedelta(days=later))

    # Then the books moved only between receivables (up) and income (down): nothing paid, lent or credited changed
    moved = {a: after.booked.get(a, 0) - before.booked.get(a, 0) for a in {*before.booked, *after.booked}}
    moved = {a: fen for a, fen in moved.items() if fen}
    assert {a.code for a in moved} <= RECOGNITION
    assert all(fen > 0 for a, fen in moved.items() if a.code in RECEIVABLE)
    assert all(fen < 0 for a, fen in moved.items() if a.code not in RECEIVABLE)
    assert sum(moved.values()) == 0
    # And the position agrees: the same money in, out and owed in principal, no less interest or penalty
    assert (after.paid_in, after.drawn, after.credit_balance) == (before.paid_in, before.drawn, before.credit_balance)
    assert after.principal_outstanding == before.principal_outstanding
    assert after.interest_accrued >= before.interest_accrued
    assert after.penalty_accrued >= before.penalty_accrued
    assert after.fee_accrued >= before.fee_accrued
    _check_books(after, terms)


# The books


@SETTINGS
@given(kind=st.sampled_from(["instalment", "revolving"]), raw=_LINE_RAW, data=st.data())
def test_the_differences_posted_as_events_arrive_balance_and_end_at_the_replayed_books(
    loan_terms: LoanTerms,
    line_terms: LoanTerms,
    at: Callable[..., datetime],
    kind: str,
    raw: list[Any],
    data: st.DataObject,
) -> None:
    # Given a loan or line whose events arrive in any order, with a day's close now and then, as the steps do it
    # (each fact replays the history so far through the day it has been aged to, and posts the difference)
    terms = _terms(kind, loan_terms, line_terms)
    events = data.draw(st.permutations(_events(at, raw, line=kind == "revolving")))
    ledger = Ledger()
    # (booking posts what the loan's books hold on its first day: the allowance its grade implies)
    opening = replay(terms, [], OPENED)
    first = difference("opening", "booking", OPENED, {}, opening.booked, "test")
    if first is not None:
        ledger.record(first)
    booked: dict[Account, int] = dict(opening.booked)
    applied: list[ServicingEvent] = []
    aged = OPENED
    facts: list[tuple[str, Any]] = [("event", e) for e in events]
    for gap in data.draw(st.lists(st.integers(1, 60), max_size=4)):
        facts.insert(data.draw(st.integers(0, len(facts))), ("close", gap))
    for number, (fact, value) in enumerate(facts):
        if fact == "event":
            applied.append(value)
            aged = max(aged, value.on)
        else:
            aged += timedelta(days=value)
        position = replay(terms, applied, aged)
        # When each difference is posted
        transaction = difference(f"t{number}", fact, aged, booked, position.booked, "test")
        if transaction is not None:
            # Then each is balanced (the Transaction refuses anything else) and moves only what changed
            assert sum(p.amount.fen for p in transaction.postings) == 0
            assert all(p.amount.fen for p in transaction.postings)
            ledger.record(transaction)
        booked = dict(position.booked)
        # And the ledger then holds exactly the replayed books, and balances
        assert ledger.balances().posted == {a: fen for a, fen in booked.items() if fen}
        assert ledger.trial_balance() == Money.ZERO
        assert ledger.rebuild() == ledger.balances()
    # And the books end where one replay of everything puts them
    assert booked == dict(replay(terms, events, aged).booked)


def test_no_change_posts_no_transaction(loan_terms: LoanTerms) -> None:
    position = replay(loan_terms, [], OPENED + timedelta(days=3))
    assert difference("t", "close", OPENED, position.booked, dict(position.booked), "nothing") is None


# Paying off an instalment loan


@SETTINGS
@given(raw=_LOAN_RAW, gap=st.integers(0, 240), extra=st.integers(0, 500_000))
def test_paying_exactly_the_payoff_closes_the_loan_and_any_more_is_credit(
    loan_terms: LoanTerms, at: Callable[..., datetime], raw: list[Any], gap: int, extra: int
) -> None:
    # Given a loan after some repayments, on some later day
    events = _events(at, raw, line=False)
    day = _last_day(events) + timedelta(days=gap)
    quote = replay(loan_terms, events, day)
    if quote.status == "CLOSED":
        assert quote.payoff == Money.ZERO
        return
    # When exactly the payoff is paid that day (last of the day), or the payoff and some more
    late = at(day, 23, 59)
    exact = replay(loan_terms, [*events, ServicingEvent("payoff", EventKind.REPAYMENT, late, quote.payoff)], day)
    more = replay(
        loan_terms, [*events, ServicingEvent("payoff", EventKind.REPAYMENT, late, quote.payoff + Money(extra))], day
    )

    # Then the loan is closed: no principal, interest, fee or penalty owed, nothing further due
    for paid in (exact, more):
        assert paid.status == "CLOSED"
        assert paid.principal_outstanding == Money.ZERO
        assert (paid.interest_accrued, paid.fee_accrued, paid.penalty_accrued) == (Money.ZERO,) * 3
        assert paid.payoff == Money.ZERO
        assert paid.next_due_on is None
        assert paid.days_past_due == 0
        assert paid.bucket is None
        _check_books(paid, loan_terms)
    # And the payoff used nothing of the credit balance; what was paid beyond it is credit
    assert exact.credit_balance == quote.credit_balance
    assert more.credit_balance == quote.credit_balance + Money(extra)


@SETTINGS
@given(raw=_LOAN_RAW, gap=st.integers(0, 240), short=st.integers(1, 10_000))
def test_a_fen_less_than_the_payoff_does_not_close_the_loan(
    loan_terms: LoanTerms, at: Callable[..., datetime], raw: list[Any], gap: int, short: int
) -> None:
    events = _events(at, raw, line=False)
    day = _last_day(events) + timedelta(days=gap)
    quote = replay(loan_terms, events, day)
    if quote.payoff.fen <= short:
        return
    paid = replay(
        loan_terms,
        [*events, ServicingEvent("short", EventKind.REPAYMENT, at(day, 23, 59), quote.payoff - Money(short))],
        day,
    )
    # Then the loan is still open, and owes at least the shortfall (a principal left over from a prepayment is
    # re-planned over the remaining dates, with its interest)
    assert paid.status == "ACTIVE"
    assert paid.payoff >= Money(short)
    assert paid.credit_balance == quote.credit_balance


def test_a_payoff_on_the_opening_day_is_the_principal(loan_terms: LoanTerms) -> None:
    # On the opening day nothing has fallen due and no interest has been earned yet: the first month's 120.00
    # (12,000 × 1%) is earned over the month, so repaying everything that day costs the principal alone
    quote = replay(loan_terms, [], OPENED)
    assert loan_terms.schedule is not None
    assert loan_terms.schedule.instalments[0].interest == Money.of("120.00")
    assert quote.payoff == Money.of("12000.00")
    assert quote.next_due_on == loan_terms.schedule.instalments[0].due_date


@SETTINGS
@given(raw=_LINE_RAW, gap=st.integers(0, 120))
def test_paying_a_line_off_after_maturity_closes_it(
    line_terms: LoanTerms, at: Callable[..., datetime], raw: list[Any], gap: int
) -> None:
    # Given a six-month line (matures 10 July 2026), aged past its maturity
    events = _events(at, raw, line=True)
    day = max(_last_day(events), date(2026, 7, 10)) + timedelta(days=gap)
    quote = replay(line_terms, events, day)
    if not quote.payoff:
        assert quote.status == "CLOSED"
        return
    # When its payoff is paid
    paid = replay(
        line_terms, [*events, ServicingEvent("payoff", EventKind.REPAYMENT, at(day, 23, 59), quote.payoff)], day
    )
    # Then it is closed and owes nothing, and nothing more falls due
    assert paid.status == "CLOSED"
    assert paid.payoff == Money.ZERO
    assert paid.next_due_on is None
    assert paid.credit_balance == quote.credit_balance
    _check_books(paid, line_terms)


# Buckets


def test_buckets_are_the_catalogues(catalogue: Catalogue) -> None:
    buckets = catalogue.delinquency_buckets
    for days in range(400):
        expected = next(
            (b.code for b in buckets if b.min_days <= days and (b.max_days is None or days <= b.max_days)), None
        )
        assert bucket_for(days, buckets) == (expected if days > 0 else None)
    # And another set of buckets is followed just as well, a gap in them being an error
    custom = (
        DelinquencyBucket(code="late", min_days=1, max_days=5),
        DelinquencyBucket(code="very_late", min_days=8, max_days=None),
    )
    assert [bucket_for(d, custom) for d in (0, 1, 5, 8, 900)] == [None, "late", "late", "very_late", "very_late"]
    with pytest.raises(ValueError, match="no delinquency bucket"):
        bucket_for(6, custom)


@SETTINGS
@given(kind=st.sampled_from(["instalment", "revolving"]), raw=_LINE_RAW, extra=st.integers(0, 200))
def test_the_position_is_in_the_bucket_of_its_days_past_due_and_will_be_aged_while_it_owes(
    loan_terms: LoanTerms,
    line_terms: LoanTerms,
    at: Callable[..., datetime],
    kind: str,
    raw: list[Any],
    extra: int,
) -> None:
    terms = _terms(kind, loan_terms, line_terms)
    events = _events(at, raw, line=kind == "revolving")
    position = replay(terms, events, _last_day(events) + timedelta(days=extra))
    assert position.bucket == bucket_for(position.days_past_due, terms.buckets)
    assert (position.bucket is None) == (position.days_past_due == 0)
    # And the daily close will come back to anything still owed (it reads loans by next_due_on), and a line is
    # frozen exactly while it is past due (the product freezes)
    if position.payoff:
        assert position.next_due_on is not None
        assert position.status == "ACTIVE"
    if position.days_past_due:
        assert position.next_due_on is not None
        assert position.next_due_on <= position.as_of
    if kind == "revolving":
        assert position.frozen == (position.days_past_due > 0)


def test_a_loan_never_paid_moves_through_the_buckets(loan_terms: LoanTerms) -> None:
    # Given the loan's first instalment falls due on 10 February 2026 and nothing is ever paid
    assert loan_terms.schedule is not None
    first_due = loan_terms.schedule.instalments[0].due_date
    assert first_due == date(2026, 2, 10)
    # Then it is 1 day past due on the 11th, in the 31–60 bucket 31 days after, and so on
    expected = {0: None, 1: "dpd_1_30", 30: "dpd_1_30", 31: "dpd_31_60", 61: "dpd_61_90", 91: "dpd_90_plus"}
    for days, bucket in expected.items():
        position = replay(loan_terms, [], first_due + timedelta(days=days))
        assert (position.days_past_due, position.bucket) == (days, bucket)


def test_terms_read_from_a_booked_record(catalogue: Catalogue, booked_instalment: Callable[..., Any]) -> None:
    record = booked_instalment(product="consumer_instalment", principal="6000.00", method=Method.EQUAL_PRINCIPAL)
    terms = LoanTerms.from_record(record, catalogue)
    assert terms.kind == "instalment"
    assert terms.schedule is not None
    assert terms.schedule.principal == Money.of("6000.00")
    assert [str(i.principal) for i in terms.schedule.instalments] == ["1000.00"] * 6
    assert terms.buckets == catalogue.delinquency_buckets
    assert terms.early_repayment.value == "reduce_instalment"
