"""Servicing driven at random through its steps (lending.steps.servicing), against a simple independent model.

One loan and one credit line, each served by an in-memory store with the DynamoDB store's rules (a write names the
version it read; the servicing state is computed by the same function) over the in-memory ledger. Random
repayments (partial, exact, over-paid, sent twice, dated before ones already applied), drawdowns (paid out, or
refused by the bank and released) and day closes; after every step nothing may be lost:

- the ledger balances, and balances rebuilt from its journal equal the running ones;
- every event was applied exactly once: the ledger's cash is the money the model says came in;
- money in = money allocated (principal, interest, fees, penalty repaid) + the borrower's credit balance;
- the loan's own replay, in any order of its events, gives the state the store holds;
- a line never has more drawn and held than its limit, and each funding source is owed exactly what was drawn.
"""

from __future__ import annotations

import copy
import random
import threading
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from lending.adapters.ledger_store import ConcurrentChange
from lending.adapters.servicing import ServicedLoan, new_attributes
from lending.catalogue import Method, load_catalogue
from lending.credit_line import DrawdownRefused
from lending.errors import LendingError
from lending.ledger import Account, AccountCode, Ledger, Transaction
from lending.money import Money
from lending.pricing import make_offer
from lending.servicing import LoanTerms, Position, ServicingEvent, replay, schedule_record
from lending.steps.servicing import (
    apply_repayment,
    book_drawdown,
    close_loan,
    pay_out_drawdown,
    release_drawdown,
    request_drawdown,
    reserve_drawdown_funding,
)

CATALOGUE = load_catalogue()
OPENED = date(2026, 1, 10)
CST = timedelta(hours=8)


def _moment(day: date, minute: int = 0) -> datetime:
    return datetime.combine(day, time(10, minute), tzinfo=UTC) - CST


class MemoryLedger(Ledger):
    """The in-memory ledger, with the store's lookup of a transaction by id."""

    def transaction(self, transaction_id: str) -> Transaction | None:
        for entry in self.journal:
            if entry.transaction.id == transaction_id and entry.kind in ("posted", "pending"):
                return entry.transaction
        return None

    def reserve(self, transaction: Transaction, bounds: Any = None) -> bool:
        return super().reserve(transaction)

    def record(self, transaction: Transaction, bounds: Any = None) -> bool:
        return super().record(transaction)


class _NotFound(LendingError):
    code = "not_found"


class MemoryStore:
    """lending.adapters.servicing.LoanServicingStore's rules, in memory: one record, versioned writes."""

    def __init__(self, record: dict[str, Any]) -> None:
        self.records = {record["loan_id"]: record}
        self.ledger = MemoryLedger()
        self.audit: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def load(self, loan_id: str) -> ServicedLoan:
        with self._lock:
            if loan_id not in self.records:
                raise _NotFound(f"no loan {loan_id}")
            return ServicedLoan.parse(copy.deepcopy(self.records[loan_id]))

    def find(self, loan_id: str) -> ServicedLoan | None:
        return ServicedLoan.parse(copy.deepcopy(self.records[loan_id])) if loan_id in self.records else None

    def save(
        self,
        loan: ServicedLoan,
        *,
        changes: Mapping[str, Any],
        position: Position | None,
        transaction: Transaction | None,
        audit: tuple[str, datetime, Mapping[str, Any]] | None,
    ) -> None:
        values, removes = new_attributes(loan, changes, position)
        with self._lock:
            record = self.records[loan.loan_id]
            if int(record.get("version", 0)) != loan.version:
                raise ConcurrentChange(f"{loan.loan_id} changed since version {loan.version}")
            if transaction is not None:
                self.ledger.record(transaction)
            record.update(copy.deepcopy(values))
            for name in removes:
                record.pop(name, None)
            if audit is not None:
                self.audit.append((loan.chain, audit[0]))


class FakePayouts:
    """A payout provider that pays each key once (and refuses the bank accounts it is told to)."""

    def __init__(self) -> None:
        self.paid: dict[str, Money] = {}
        self.refuse = False

    def pay(self, idempotency_key: str, amount: Money, bank_account: str, reference: str) -> Any:
        if self.refuse:
            raise PayoutRefused("account closed")
        self.paid.setdefault(idempotency_key, amount)
        return type("Payout", (), {"payout_id": f"po-{idempotency_key}", "status": "paid"})()


class PayoutRefused(Exception):
    pass


class PayoutDown(Exception):
    pass


def _instalment_record() -> dict[str, Any]:
    offer = make_offer(
        CATALOGUE, "business_instalment", Money.of("12000.00"), 6, Method.EQUAL_INSTALMENT, OPENED, Decimal("0.12")
    )
    return {
        "loan_id": "L-1",
        "application_id": "app-L-1",
        "borrower_id": "b-1",
        "product": "business_instalment",
        "kind": "instalment",
        "opened_on": OPENED.isoformat(),
        "annual_rate": "0.1200",
        "term_months": 6,
        "status": "ACTIVE",
        "principal": "12000.00",
        "method": "equal_instalment",
        "schedule": schedule_record(offer.schedule),
        "next_due_on": offer.schedule.instalments[0].due_date.isoformat(),
    }


def _line_record() -> dict[str, Any]:
    return {
        "loan_id": "LINE-1",
        "application_id": "app-LINE-1",
        "borrower_id": "b-1",
        "product": "credit_line",
        "kind": "revolving",
        "opened_on": OPENED.isoformat(),
        "annual_rate": "0.1800",
        "term_months": 6,
        "status": "ACTIVE",
        "limit": "20000.00",
    }


class _Servicing(RuleBasedStateMachine):
    """What both machines share: payments, duplicates, late arrivals, closes, and the invariants."""

    record: dict[str, Any]

    def __init__(self) -> None:
        super().__init__()
        self.store = MemoryStore(copy.deepcopy(self.record))
        self.loan_id = self.record["loan_id"]
        self.today = OPENED
        self.sent: dict[str, tuple[date, Money]] = {}  # event id → (day paid, amount): the model
        self.applied_in = Money.ZERO

    def _pay(self, event_id: str, day: date, amount: Money) -> None:
        event = ServicingEvent.from_record(
            {"event_id": event_id, "kind": "repayment", "at": _moment(day).isoformat(), "amount": str(amount)}
        )
        receipt = apply_repayment(event, self.loan_id, store=self.store, catalogue=CATALOGUE, conflict=ConcurrentChange)
        if event_id in self.sent:
            assert receipt["status"] == "duplicate"
        else:
            assert receipt["status"] == "applied", receipt
            self.sent[event_id] = (day, amount)
            self.applied_in += amount

    @rule(fen=st.integers(1, 600_000), days_back=st.integers(0, 20))
    def repay(self, fen: int, days_back: int) -> None:
        """A payment on a day up to 20 days back: it may land before payments already applied."""
        day = max(OPENED, self.today - timedelta(days=days_back))
        self._pay(f"evt-{len(self.sent)}", day, Money(fen))

    @precondition(lambda self: bool(self.sent))
    @rule(data=st.data())
    def resend(self, data: st.DataObject) -> None:
        """The provider sends a notice it sent before."""
        event_id = data.draw(st.sampled_from(sorted(self.sent)))
        day, amount = self.sent[event_id]
        self._pay(event_id, day, amount)

    @rule(days=st.integers(1, 45))
    def close_days(self, days: int) -> None:
        """Time passes; the nightly close runs for the last of those days (twice: the second changes nothing)."""
        self.today += timedelta(days=days)
        warnings: list[dict[str, Any]] = []
        for _ in range(2):
            close_loan(
                self.loan_id,
                self.today,
                store=self.store,
                catalogue=CATALOGUE,
                warn=warnings.append,
                conflict=ConcurrentChange,
            )
        assert len({w["warning_id"] for w in warnings}) == len(warnings)

    def _loan(self) -> ServicedLoan:
        return self.store.load(self.loan_id)

    def _position(self) -> Position:
        loan = self._loan()
        terms = LoanTerms.from_record(loan.record, CATALOGUE)
        return replay(terms, loan.events, loan.aged_through)

    @invariant()
    def the_ledger_balances_and_rebuilds(self) -> None:
        ledger = self.store.ledger
        assert ledger.trial_balance() == Money.ZERO
        assert ledger.rebuild() == ledger.balances()

    @invariant()
    def every_payment_is_in_once_and_nothing_is_lost(self) -> None:
        loan = self._loan()
        assert sorted(e.event_id for e in loan.events if e.kind.value == "repayment") == sorted(self.sent)
        position = self._position()
        assert position.paid_in == self.applied_in
        # The books the store posted are the ones the history implies, account by account.
        assert {a: f for a, f in loan.booked.items() if f} == {a: f for a, f in position.booked.items() if f}

    @invariant()
    def money_in_is_allocated_or_credit(self) -> None:
        ledger = self.store.ledger
        loan_id = self.loan_id

        def paid(income: AccountCode, receivable: AccountCode) -> int:
            # Income recognised, less what of it is still receivable: what was paid of it.
            return -ledger.balance(Account(income)).fen - ledger.balance(Account(receivable, loan_id)).fen

        position = self._position()
        principal_repaid = position.drawn.fen - ledger.balance(Account(AccountCode.PRINCIPAL_RECEIVABLE, loan_id)).fen
        allocated = (
            principal_repaid
            + paid(AccountCode.INTEREST_INCOME, AccountCode.INTEREST_RECEIVABLE)
            + paid(AccountCode.PENALTY_INCOME, AccountCode.PENALTY_RECEIVABLE)
            + paid(AccountCode.FEE_INCOME, AccountCode.FEE_RECEIVABLE)
        )
        credit = -ledger.balance(Account(AccountCode.BORROWER_CREDIT, loan_id)).fen
        assert self.applied_in.fen == allocated + credit
        assert credit == position.credit_balance.fen >= 0

    @invariant()
    def the_order_of_arrival_does_not_matter(self) -> None:
        loan = self._loan()
        terms = LoanTerms.from_record(loan.record, CATALOGUE)
        shuffled = list(loan.events)
        random.Random(len(shuffled)).shuffle(shuffled)
        assert replay(terms, shuffled, loan.aged_through) == replay(terms, loan.events, loan.aged_through)


class InstalmentLoanServicing(_Servicing):
    record = _instalment_record()

    @invariant()
    def principal_is_outstanding_or_repaid(self) -> None:
        position = self._position()
        repaid = -self.store.ledger.balance(Account(AccountCode.PRINCIPAL_RECEIVABLE, self.loan_id))
        assert position.principal_outstanding + repaid == Money.of("12000.00")
        assert (position.status == "CLOSED") == (not position.principal_outstanding and not position.penalty_accrued)


class CreditLineServicing(_Servicing):
    record = _line_record()

    def __init__(self) -> None:
        super().__init__()
        self.payouts = FakePayouts()
        self.drawn = Money.ZERO
        self.keys = 0

    @initialize()
    def nothing_drawn_yet(self) -> None:
        assert self._position().available_limit == Money.of("20000.00")

    @rule(fen=st.integers(1, 1_500_000), refused_by_bank=st.booleans())
    def draw(self, fen: int, refused_by_bank: bool) -> None:
        """A drawdown: refused over the limit or on a frozen line; else funded, paid and booked, or released."""
        self.keys += 1
        amount = Money(fen)
        now = _moment(self.today, self.keys % 60)
        try:
            drawdown = request_drawdown(
                self.loan_id,
                "b-1",
                amount,
                f"key-{self.keys}",
                store=self.store,
                catalogue=CATALOGUE,
                start=lambda *_: None,
                conflict=ConcurrentChange,
                now=now,
            )
        except DrawdownRefused:
            position = self._position()  # refused only for a reason: frozen, matured, or over what is available
            assert position.frozen or self.today >= date(2026, 7, 10) or amount > (position.available_limit or amount)
            return
        drawdown_id = drawdown["drawdown_id"]
        reserve_drawdown_funding(
            self.loan_id,
            drawdown_id,
            lambda total: {"own_capital": total},
            {"own_capital": Money.of("1000000000.00")},
            store=self.store,
            conflict=ConcurrentChange,
        )
        self.payouts.refuse = refused_by_bank
        try:
            pay_out_drawdown(
                self.loan_id,
                drawdown_id,
                store=self.store,
                payouts=self.payouts,
                decrypt=lambda *_: {"bank_account": "6222020000001234"},
                pii=lambda application_id: (application_id, {}),
                unavailable=PayoutDown,
                rejected=PayoutRefused,
                conflict=ConcurrentChange,
                now=now,
            )
        except LendingError:
            release_drawdown(self.loan_id, drawdown_id, "payout_rejected", store=self.store, conflict=ConcurrentChange)
            return
        booked = book_drawdown(
            self.loan_id, drawdown_id, store=self.store, catalogue=CATALOGUE, conflict=ConcurrentChange
        )
        assert booked["status"] == "booked"
        self.drawn += amount

    @invariant()
    def the_limit_holds_and_each_source_is_owed_what_was_drawn(self) -> None:
        position = self._position()
        loan = self._loan()
        held = sum(
            Money.of(str(d["amount"])).fen
            for d in loan.drawdowns.values()
            if d["status"] in ("requested", "funded", "paid")
        )
        assert position.principal_outstanding.fen + held <= Money.of("20000.00").fen
        assert position.drawn == self.drawn
        funding = -self.store.ledger.balance(Account(AccountCode.FUNDING, "own_capital"))
        assert funding == self.drawn
        assert self.store.ledger.pending_balance(Account(AccountCode.FUNDING, "own_capital")) == Money.ZERO
        assert sum(self.payouts.paid.values(), Money.ZERO) == self.drawn


TestInstalmentLoanServicing = InstalmentLoanServicing.TestCase
TestInstalmentLoanServicing.settings = settings(max_examples=40, stateful_step_count=25, deadline=None)
TestCreditLineServicing = CreditLineServicing.TestCase
TestCreditLineServicing.settings = settings(max_examples=40, stateful_step_count=25, deadline=None)
