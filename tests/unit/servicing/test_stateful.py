"""One loan, and one credit line, driven at random through the servicing steps (lending.steps.repayments,
.drawdowns and .daily_close) over the in-memory store of conftest.py, against a model of the test's own that only
counts money and ids.

The steps: repayments (partial, exactly the payoff, over-paid; the same notice twice; notices dated before ones
already applied; notices for no loan or dated before it opened, parked in suspense), drawdowns on the line (request,
fund, pay out, book; a payout the bank refuses, released), and day closes. After every step:

- the ledger balances (trial balance zero) and its journal rebuilds its running balances;
- the ledger less what the steps post outside the loan's books (booking's disbursement, drawdown funding, suspense)
  is exactly the loan's ``booked`` map, which sums to zero;
- cash is what came in less what was drawn (plus funding posted and origination's payout);
- money in = what was allocated (principal, interest, fees and penalty repaid) + the credit balance;
- every notice was applied once and only once, and audited once;
- a line's available limit is never negative, and drawn principal plus drawdowns under way never exceed its limit.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from lending import bookkeeping
from lending.calendar import add_months, business_date
from lending.catalogue import load_catalogue
from lending.drawdown import HOLDING, drawdown_id_for, funding_id
from lending.errors import DrawdownNotPayable, DrawdownRefused, IdempotencyConflict, PayoutMade, PayoutRejected
from lending.funding import FundingSources, OwnCapital
from lending.ledger import Account, AccountCode, Transaction
from lending.money import Money
from lending.servicing import EventKind, LoanTerms, Position, ServicingEvent, opening, replay
from lending.steps.daily_close import close_loan
from lending.steps.drawdowns import (
    book_drawdown,
    disburse_drawdown,
    release_drawdown,
    request_drawdown,
    reserve_drawdown_funding,
)
from lending.steps.repayments import SUSPENSE, apply_repayment

pytestmark = pytest.mark.slow  # 40 random lives of 35 steps each: make test runs it, make unit leaves it out

CATALOGUE = load_catalogue()
CASH = bookkeeping.SETTLEMENT_CASH
MACHINE_SETTINGS = settings(
    max_examples=40, stateful_step_count=35, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
_PAID = frozenset({"paid", "booked"})
#: Own capital alone, with room for every drawdown the machines make.
OWN_CAPITAL_ONLY = FundingSources(
    version="test",
    currency="CNY",
    own_capital=OwnCapital(name="own capital", quota=Money.of("1000000")),
    partners=(),
)


class FakePayouts:
    """Pays each idempotency key at most once; refuses what it is told to."""

    def __init__(self) -> None:
        self.paid: dict[str, Money] = {}
        self.calls: Counter[str] = Counter()
        self.refuse: set[str] = set()

    def pay(self, idempotency_key: str, amount: Money, bank_account: str, reference: str) -> Any:
        self.calls[idempotency_key] += 1
        if reference in self.refuse:
            raise PayoutRejected("account_rejected", f"account {bank_account} closed", vendor="payout_provider")
        assert self.paid.setdefault(idempotency_key, amount) == amount, "one key, two amounts"
        return type("Payout", (), {"payout_id": f"po-{idempotency_key}", "status": "paid"})()


def _pii(application_id: str) -> tuple[str, dict[str, Any]]:
    return application_id, {"bank_account": "ciphertext"}


def _decrypt(record_id: str, ciphertexts: Any, fields: tuple[str, ...]) -> dict[str, str]:
    return {"bank_account": "6222020200112233445"}


class _Servicing(RuleBasedStateMachine):
    """What both machines share: repayments, duplicates, late notices, suspense, closes and the invariants."""

    def __init__(self, record: dict[str, Any], make_store: Callable[..., Any], at: Callable[..., datetime]) -> None:
        super().__init__()
        self.record = record
        self.loan_id = str(record["loan_id"])
        provision, record["servicing"] = opening(LoanTerms.from_record(record, CATALOGUE), "opening-provision")
        self.store = make_store(record)
        if provision is not None:
            self.store.ledger.record(provision)
        self.at = at
        self.terms = LoanTerms.from_record(record, CATALOGUE)
        self.opened = self.terms.opened_on
        self.today = self.opened
        # The model: money and ids only
        self.money_in = Money.ZERO  # repayments applied to the loan
        self.drawn = Money.ZERO  # drawdowns booked on the line
        self.parked = Money.ZERO  # payments held in suspense
        self.sent: dict[str, ServicingEvent] = {}  # every notice sent, by id
        self.applied: set[str] = set()  # the notices the loan took
        self.parked_ids: dict[str, str] = {}  # parked notices, by id: the loan id they named
        self.outside: dict[Account, int] = defaultdict(int)  # postings the steps make outside the loan's books
        self.funding_posted = Money.ZERO  # a line's drawdown funding, posted when the drawdown is booked
        self.origination_cash = Money.ZERO  # what booking an instalment loan did to cash (funding less payout)
        self.warnings: list[dict[str, Any]] = []
        self.counter = 0

    # Helpers

    def _next_id(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}-{self.counter:03d}"

    def _outside(self, transaction: Transaction) -> None:
        for posting in transaction.postings:
            self.outside[posting.account] += posting.amount.fen

    def _loan(self) -> Any:
        return self.store.load(self.loan_id)

    def _current_terms(self) -> LoanTerms:
        """The terms as the loan now reads them: with the grade the last close gave it (its allowance)."""
        return LoanTerms.from_record(self._loan().record, CATALOGUE)

    def _position(self, through: date | None = None) -> Position:
        loan = self._loan()
        return replay(self._current_terms(), loan.events, max(loan.aged_through, through or loan.aged_through))

    def _send(self, event: ServicingEvent, loan_id: str | None = None) -> dict[str, Any]:
        return apply_repayment(event, loan_id or self.loan_id, store=self.store, catalogue=CATALOGUE)

    def _pay(self, amount: Money, day: date, hour: int, minute: int = 0) -> dict[str, Any]:
        event = ServicingEvent(self._next_id("pay"), EventKind.REPAYMENT, self.at(day, hour, minute), amount)
        self.sent[event.event_id] = event
        answer = self._send(event)
        # Then a new notice for a loan that exists, dated after its opening, is applied
        assert answer["status"] == "applied", answer
        self.applied.add(event.event_id)
        self.money_in += amount
        return answer

    # Repayments

    @rule(fen=st.integers(1, 600_000), back=st.integers(0, 40), hour=st.integers(0, 22))
    def pay_part(self, fen: int, back: int, hour: int) -> None:
        # A payment of any size, dated today or up to 40 days back (a notice arriving after later ones)
        day = max(self.opened, self.today - timedelta(days=back))
        self._pay(Money(fen), day, hour)

    @rule(extra=st.sampled_from([0, 0, 1, 5_000, 250_000]))
    def pay_off(self, extra: int) -> None:
        # Exactly what repays everything today (last thing today), or that and some more
        quote = self._position(self.today)
        if not quote.payoff:
            return
        before = quote.credit_balance
        self._pay(quote.payoff + Money(extra), self.today, 23, 59)
        # Then nothing is owed; anything beyond the payoff is credit
        after = self._position(self.today)
        assert after.payoff == Money.ZERO
        assert after.principal_outstanding == Money.ZERO
        assert after.credit_balance == before + Money(extra)
        matured = self.terms.term_months is not None and self.today >= add_months(self.opened, self.terms.term_months)
        if self.terms.kind == "instalment" or matured:
            assert after.status == "CLOSED"
            assert self._loan().record["status"] == "CLOSED"

    @precondition(lambda self: bool(self.sent))
    @rule(data=st.data())
    def send_again(self, data: st.DataObject) -> None:
        # The same notice again (a provider retry): nothing changes
        event_id = data.draw(st.sampled_from(sorted(self.sent)))
        event = self.sent[event_id]
        answer = self._send(event, self.parked_ids.get(event_id, self.loan_id))
        assert answer["status"] == ("parked" if event_id in self.parked_ids else "duplicate"), answer

    @rule(fen=st.integers(1, 100_000), before_opening=st.booleans())
    def pay_what_cannot_be_placed(self, fen: int, before_opening: bool) -> None:
        # A payment for no loan, or dated before the loan opened: parked in suspense, never lost
        amount = Money(fen)
        day = self.opened - timedelta(days=1) if before_opening else self.today
        event = ServicingEvent(self._next_id("stray"), EventKind.REPAYMENT, self.at(day), amount)
        target = self.loan_id if before_opening else "NO-SUCH-LOAN"
        answer = self._send(event, target)
        assert answer["status"] == "parked", answer
        self.sent[event.event_id] = event
        self.parked_ids[event.event_id] = target
        self.parked += amount
        self.outside[CASH] += fen
        self.outside[SUSPENSE] -= fen

    # The daily close

    @rule(days=st.integers(1, 35))
    def close_days(self, days: int) -> None:
        # The close runs for the next day and for ``days`` later (the days between skipped, as after missed runs),
        # then for the last day once more
        target = self.today + timedelta(days=days)
        for day in sorted({self.today + timedelta(days=1), target}):
            close_loan(
                self.loan_id,
                day,
                store=self.store,
                catalogue=CATALOGUE,
                warn=self.warnings.append,
            )
        again = close_loan(
            self.loan_id,
            target,
            store=self.store,
            catalogue=CATALOGUE,
            warn=self.warnings.append,
        )
        assert again == {"loan_id": self.loan_id, "changed": False, "warned": False}
        self.today = target
        loan = self._loan()
        assert loan.aged_through == target or loan.record["status"] in ("CLOSED", "WRITTEN_OFF")

    # Invariants

    @invariant()
    def the_ledger_balances_and_rebuilds(self) -> None:
        ledger = self.store.ledger
        assert ledger.trial_balance() == Money.ZERO
        assert ledger.rebuild() == ledger.balances()

    @invariant()
    def the_ledger_is_the_loans_books_and_what_was_posted_outside_them(self) -> None:
        loan = self._loan()
        assert sum(loan.booked.values()) == 0
        posted = self.store.ledger.balances().posted
        for account in {*posted, *loan.booked, *self.outside}:
            assert posted.get(account, 0) == loan.booked.get(account, 0) + self.outside.get(account, 0), account

    @invariant()
    def cash_is_money_in_less_money_drawn(self) -> None:
        # In the loan's books: repayments in, drawdowns out
        assert self._loan().booked.get(CASH, 0) == (self.money_in - self.drawn).fen
        # In the ledger: that, and the payments parked, the funding posted, and what booking paid out
        expected = self.money_in - self.drawn + self.parked + self.funding_posted + self.origination_cash
        assert self.store.ledger.balance(CASH) == expected
        assert self.store.ledger.balance(SUSPENSE) == -self.parked

    @invariant()
    def money_in_is_what_was_allocated_and_the_credit_balance(self) -> None:
        loan = self._loan()
        booked = loan.booked
        # What the loan owes and holds, replayed from its stored events through the day it was aged to
        position = replay(self._current_terms(), loan.events, loan.aged_through)
        assert {a: fen for a, fen in position.booked.items() if fen} == booked
        assert (position.paid_in, position.drawn) == (self.money_in, self.drawn)
        if "principal_outstanding" in loan.state:  # the projections the last servicing write stored
            assert loan.state["principal_outstanding"] == str(position.principal_outstanding)
            assert loan.state["credit_balance"] == str(position.credit_balance)

        if loan.state.get("written_off"):
            # Off the book: payments are recoveries, and the receivables were taken off without money (the
            # write-off's own rules are held by tests/unit/servicing/test_write_off.py); cash still adds up above.
            return

        def paid(receivable: AccountCode, income: AccountCode) -> int:
            # recognised or earned as income, less what is still receivable
            return -booked.get(Account(income), 0) - booked.get(Account(receivable, self.loan_id), 0)

        lent = self.drawn if self.terms.kind == "revolving" else Money.of(str(self.record["principal"]))
        allocated = (
            (lent - position.principal_outstanding).fen
            + paid(AccountCode.INTEREST_RECEIVABLE, AccountCode.INTEREST_INCOME)
            + paid(AccountCode.FEE_RECEIVABLE, AccountCode.FEE_INCOME)
            + paid(AccountCode.PENALTY_RECEIVABLE, AccountCode.PENALTY_INCOME)
        )
        assert self.money_in.fen == allocated + position.credit_balance.fen

    @invariant()
    def every_notice_is_applied_once(self) -> None:
        loan = self._loan()
        ids = [e.event_id for e in loan.events if e.kind is EventKind.REPAYMENT]
        assert len(ids) == len(set(ids))
        assert set(ids) == self.applied
        audited = Counter(d["event_id"] for _, kind, d in self.store.audit if kind == "repayment_applied")
        assert audited == Counter(self.applied)
        # And each parked payment is in suspense once
        parked = [e for e in self.store.ledger.journal if e.transaction.kind == "suspense"]
        assert len(parked) == len(self.parked_ids)

    @invariant()
    def warnings_only_worsen(self) -> None:
        ids = [w["warning_id"] for w in self.warnings]
        assert len(ids) == len(set(ids))


class InstalmentLoanMachine(_Servicing):
    """A 12,000.00 business loan over 6 months; booking posted its funding and its disbursement."""

    def __init__(self, record: dict[str, Any], make_store: Callable[..., Any], at: Callable[..., datetime]) -> None:
        super().__init__(record, make_store, at)
        principal = Money.of(str(record["principal"]))
        fee = Money.of(str(record["upfront_fee"]))
        funding = bookkeeping.funding_reservation(
            f"{record['application_id']}/funding", self.loan_id, {"own_capital": principal}, self.opened
        )
        disbursement = bookkeeping.disbursement(
            f"{self.loan_id}/disbursement", self.loan_id, principal, fee, self.opened
        )
        ledger = self.store.ledger
        ledger.reserve(funding)
        ledger.post_pending(funding.id, f"{funding.id}/post")
        ledger.record(disbursement)
        self._outside(funding)
        self._outside(disbursement)
        self.origination_cash = Money(self.outside[CASH])
        assert self.origination_cash == fee  # the funding came in, all of it but the fee went out

    @invariant()
    def a_closed_loan_owes_nothing(self) -> None:
        loan = self._loan()
        if loan.record["status"] == "CLOSED":
            assert loan.state["principal_outstanding"] == "0.00"
            assert loan.state["penalty_accrued"] == "0.00"
            assert "next_due_on" not in loan.record


class LineMachine(_Servicing):
    """A 20,000.00 three-month line: drawdowns through request, funding, payout and booking, or release."""

    def __init__(self, record: dict[str, Any], make_store: Callable[..., Any], at: Callable[..., datetime]) -> None:
        super().__init__(record, make_store, at)
        self.limit = Money.of(str(record["limit"]))
        self.payouts = FakePayouts()
        self.keys: dict[str, tuple[str, Money]] = {}  # idempotency key → (drawdown id, amount)
        self.months = int(record["term_months"])

    def _drawdowns(self, *statuses: str) -> list[str]:
        return sorted(i for i, d in self._loan().drawdowns.items() if d["status"] in statuses)

    def _held(self) -> Money:
        return Money(sum(Money.of(d["amount"]).fen for d in self._loan().drawdowns.values() if d["status"] in HOLDING))

    @rule(fen=st.integers(1, 2_500_000), hour=st.integers(0, 22))
    def request(self, fen: int, hour: int) -> None:
        amount = Money(fen)
        key = self._next_id("key")
        now = self.at(self.today, hour)
        position = self._position(self.today)
        held = self._held()
        started: list[str] = []
        try:
            view = request_drawdown(
                self.loan_id,
                "b-1",
                amount,
                key,
                store=self.store,
                catalogue=CATALOGUE,
                start=lambda name, payload: started.append(name),
                now=now,
            )
        except DrawdownRefused:
            # Then a refusal has a reason: frozen, matured, or over what is available after what is held
            matured = self.today >= add_months(self.opened, self.months)
            assert position.frozen or matured or amount > (position.available_limit or Money.ZERO) - held
            return
        # Then it is held, and its payout started once, named by the drawdown
        assert not position.frozen
        assert amount <= (position.available_limit or Money.ZERO) - held
        assert view["status"] == "requested"
        assert view["drawdown_id"] == drawdown_id_for(self.loan_id, key)
        assert started == [view["drawdown_id"]]
        self.keys[key] = (view["drawdown_id"], amount)

    @rule(fen=st.integers(1, 1_200_000), hour=st.integers(0, 22))
    def draw(self, fen: int, hour: int) -> None:
        # The whole drawdown workflow in one go: request, fund, pay out, book (when the request is not refused)
        before = set(self._drawdowns("requested"))
        self.request(fen, hour)
        for drawdown_id in set(self._drawdowns("requested")) - before:
            self._fund(drawdown_id, twice=False)
            self._pay_out_and_book(drawdown_id, hour, twice=False)

    @precondition(lambda self: bool(self.keys))
    @rule(data=st.data())
    def request_again(self, data: st.DataObject) -> None:
        # The same Idempotency-Key: the same drawdown (whatever became of it); with another amount, a conflict
        key = data.draw(st.sampled_from(sorted(self.keys)))
        drawdown_id, amount = self.keys[key]
        status = self._loan().drawdowns[drawdown_id]["status"]
        started: list[str] = []
        arguments: dict[str, Any] = {
            "store": self.store,
            "catalogue": CATALOGUE,
            "start": lambda name, payload: started.append(name),
            "now": self.at(self.today),
        }
        view = request_drawdown(self.loan_id, "b-1", amount, key, **arguments)
        assert (view["drawdown_id"], view["status"]) == (drawdown_id, status)
        assert started == ([drawdown_id] if status == "requested" else [])
        with pytest.raises(IdempotencyConflict):
            request_drawdown(self.loan_id, "b-1", amount + Money(1), key, **arguments)

    @precondition(lambda self: bool(self._drawdowns("requested")))
    @rule(data=st.data(), twice=st.booleans())
    def fund(self, data: st.DataObject, twice: bool) -> None:
        self._fund(data.draw(st.sampled_from(self._drawdowns("requested"))), twice)

    def _fund(self, drawdown_id: str, twice: bool) -> None:
        for _ in range(2 if twice else 1):
            funding = reserve_drawdown_funding(self.loan_id, drawdown_id, OWN_CAPITAL_ONLY, store=self.store)
            assert funding["reservation_id"] == funding_id(drawdown_id)
        assert self.store.ledger.is_pending(funding_id(drawdown_id))

    @precondition(lambda self: bool(self._drawdowns("funded")))
    @rule(data=st.data(), hour=st.integers(0, 22), twice=st.booleans())
    def pay_out_and_book(self, data: st.DataObject, hour: int, twice: bool) -> None:
        self._pay_out_and_book(data.draw(st.sampled_from(self._drawdowns("funded"))), hour, twice)

    def _pay_out_and_book(self, drawdown_id: str, hour: int, twice: bool) -> None:
        amount = Money.of(self._loan().drawdowns[drawdown_id]["amount"])
        for _ in range(2 if twice else 1):  # a retried step pays once and books once
            disburse_drawdown(
                self.loan_id,
                drawdown_id,
                store=self.store,
                payouts=self.payouts,
                decrypt=_decrypt,
                pii=_pii,
                now=self.at(self.today, hour),
            )
        for _ in range(2 if twice else 1):
            view = book_drawdown(self.loan_id, drawdown_id, store=self.store, catalogue=CATALOGUE)
            assert view["status"] == "booked"
        self.drawn += amount
        self.funding_posted += amount
        self.outside[CASH] += amount.fen
        self.outside[bookkeeping.funding_source("own_capital")] -= amount.fen
        assert self.payouts.paid[f"drawdown-{drawdown_id}"] == amount

    @precondition(lambda self: bool(self._drawdowns("requested", "funded")))
    @rule(data=st.data())
    def payout_refused(self, data: st.DataObject) -> None:
        # The bank refuses the payout for good: the drawdown is released, its funding voided, its limit freed
        drawdown_id = data.draw(st.sampled_from(self._drawdowns("requested", "funded")))
        funded = self._loan().drawdowns[drawdown_id]["status"] == "funded"
        self.payouts.refuse.add(drawdown_id)
        # Only a funded drawdown reaches the bank; one still waiting for funding is not paid out at all.
        with pytest.raises(PayoutRejected if funded else DrawdownNotPayable):
            disburse_drawdown(
                self.loan_id,
                drawdown_id,
                store=self.store,
                payouts=self.payouts,
                decrypt=_decrypt,
                pii=_pii,
                now=self.at(self.today),
            )
        for _ in range(2):
            view = release_drawdown(self.loan_id, drawdown_id, "account closed", store=self.store)
            assert view["status"] == "failed"
        assert not self.store.ledger.is_pending(funding_id(drawdown_id))
        assert (self.store.ledger.transaction(funding_id(drawdown_id)) is not None) == funded

    @invariant()
    def the_limit_holds(self) -> None:
        position = self._position()
        held = self._held()
        assert position.available_limit is not None
        assert position.available_limit >= Money.ZERO
        assert position.principal_outstanding + held <= self.limit
        assert position.principal_outstanding <= self.limit
        # And every drawdown paid out was paid once, and only those the bank took
        paid = {f"drawdown-{i}" for i in self._drawdowns(*_PAID)}
        assert set(self.payouts.paid) == paid
        assert all(calls == 1 for calls in self.payouts.calls.values())
        # And the funding source is owed exactly what was drawn; nothing is left pending but funded drawdowns
        assert self.store.ledger.balance(bookkeeping.funding_source("own_capital")) == -self.funding_posted
        funded = sum(Money.of(d["amount"]).fen for d in self._loan().drawdowns.values() if d["status"] == "funded")
        assert self.store.ledger.pending_balance(CASH) == Money(funded)


def test_an_instalment_loan_through_the_servicing_steps(
    booked_instalment: Callable[..., dict[str, Any]],
    memory_store: Callable[..., Any],
    at: Callable[..., datetime],
) -> None:
    run_state_machine_as_test(
        lambda: InstalmentLoanMachine(booked_instalment(), memory_store, at), settings=MACHINE_SETTINGS
    )


def test_a_credit_line_through_the_servicing_steps(
    booked_line: Callable[..., dict[str, Any]],
    memory_store: Callable[..., Any],
    at: Callable[..., datetime],
) -> None:
    run_state_machine_as_test(lambda: LineMachine(booked_line(months=3), memory_store, at), settings=MACHINE_SETTINGS)


# Found while writing the machines: retries the steps do not survive yet (lending.steps.drawdowns; not this test's to
# fix). Strict: when a fix lands these fail as XPASS, and the marker comes off.


def _requested(
    booked_line: Callable[..., dict[str, Any]], memory_store: Callable[..., Any], at: Callable[..., Any]
) -> tuple[Any, str]:
    store = memory_store(booked_line())
    view = request_drawdown(
        "LINE-1",
        "b-1",
        Money.of("1000.00"),
        "key-1",
        store=store,
        catalogue=CATALOGUE,
        start=lambda name, payload: None,
        now=at(date(2026, 1, 12)),
    )
    return store, view["drawdown_id"]


def test_a_funding_retried_the_next_day_keeps_the_reservation_made_the_day_before(
    booked_line: Callable[..., dict[str, Any]], memory_store: Callable[..., Any], at: Callable[..., Any]
) -> None:
    # Given a drawdown whose funding was reserved yesterday by an attempt that stopped before it said so on the loan
    store, drawdown_id = _requested(booked_line, memory_store, at)
    yesterday = business_date() - timedelta(days=1)
    shares = {"own_capital": Money.of("1000.00")}
    store.ledger.reserve(bookkeeping.funding_reservation(funding_id(drawdown_id), "LINE-1", shares, yesterday))
    # When the step is retried today
    funding = reserve_drawdown_funding("LINE-1", drawdown_id, OWN_CAPITAL_ONLY, store=store)
    # Then it keeps yesterday's reservation and marks the drawdown funded
    assert funding["reservation_id"] == funding_id(drawdown_id)
    assert store.load("LINE-1").drawdowns[drawdown_id]["status"] == "funded"


def test_a_drawdown_paid_out_is_not_released(
    booked_line: Callable[..., dict[str, Any]], memory_store: Callable[..., Any], at: Callable[..., Any]
) -> None:
    # Given a drawdown funded and paid out (recorded on the loan), not yet booked
    store, drawdown_id = _requested(booked_line, memory_store, at)
    reserve_drawdown_funding("LINE-1", drawdown_id, OWN_CAPITAL_ONLY, store=store)
    disburse_drawdown(
        "LINE-1",
        drawdown_id,
        store=store,
        payouts=FakePayouts(),
        decrypt=_decrypt,
        pii=_pii,
        now=at(date(2026, 1, 12)),
    )
    # When a compensation is asked for it anyway, it refuses
    with pytest.raises(PayoutMade):
        release_drawdown("LINE-1", drawdown_id, "payout timed out", store=store)
    # Then the money that left stays held against the limit, and its funding stays reserved for the booking
    assert store.load("LINE-1").drawdowns[drawdown_id]["status"] == "paid"
    assert store.ledger.is_pending(funding_id(drawdown_id))
