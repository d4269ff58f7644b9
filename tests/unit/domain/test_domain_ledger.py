"""The ledger: balanced where built, idempotent by id, two-phase transfers, balances rebuilt from the journal."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from lending.errors import PendingTransferError, TransactionConflict, UnbalancedTransaction
from lending.ledger import Account, AccountCode, Ledger, Posting, Transaction
from lending.money import Money

ON = date(2026, 3, 1)
CASH = Account(AccountCode.SETTLEMENT_CASH)
OWN = Account(AccountCode.FUNDING, "own_capital")
PARTNER = Account(AccountCode.FUNDING, "partner:bank_a")
LOAN = Account(AccountCode.PRINCIPAL_RECEIVABLE, "L-1")
ACCOUNTS = [CASH, OWN, PARTNER, LOAN]


def test_an_unbalanced_transaction_cannot_be_built() -> None:
    with pytest.raises(UnbalancedTransaction, match="off balance"):
        Transaction("t", "x", ON, (Posting(CASH, Money(100)), Posting(OWN, Money(-99))))


def test_the_same_id_and_content_is_a_no_op_and_other_content_a_conflict() -> None:
    ledger = Ledger()
    tx = Transaction.transfer("t1", "funding", ON, CASH, OWN, Money(500))
    assert ledger.record(tx) is True
    assert ledger.record(Transaction.transfer("t1", "funding", ON, CASH, OWN, Money(500))) is False
    assert ledger.balance(CASH) == Money(500)
    with pytest.raises(TransactionConflict):
        ledger.record(Transaction.transfer("t1", "funding", ON, CASH, OWN, Money(501)))


def test_a_pending_transfer_holds_then_posts() -> None:
    ledger = Ledger()
    ledger.reserve(Transaction.transfer("r1", "reserve", ON, CASH, OWN, Money(700)))
    assert (ledger.balance(CASH), ledger.pending_balance(CASH)) == (Money.ZERO, Money(700))
    assert ledger.post_pending("r1", "r1/post") is True
    assert (ledger.balance(CASH), ledger.pending_balance(CASH)) == (Money(700), Money.ZERO)
    assert ledger.post_pending("r1", "r1/post") is False  # a retried post is a no-op
    with pytest.raises(PendingTransferError):
        ledger.void_pending("r1", "r1/void")  # resolved once, for good


def test_a_void_releases_the_hold() -> None:
    ledger = Ledger()
    ledger.reserve(Transaction.transfer("r1", "reserve", ON, CASH, PARTNER, Money(700)))
    ledger.void_pending("r1", "r1/void")
    assert ledger.pending_balance(PARTNER) == Money.ZERO
    assert ledger.balance(PARTNER) == Money.ZERO
    with pytest.raises(PendingTransferError):
        ledger.post_pending("r1", "r1/post")
    with pytest.raises(PendingTransferError):
        ledger.post_pending("nope", "nope/post")


class LedgerMachine(RuleBasedStateMachine):
    """Random records, reservations, posts and voids — retries included — against one ledger."""

    def __init__(self) -> None:
        super().__init__()
        self.ledger = Ledger()
        self.next_id = 0
        self.recorded: list[Transaction] = []
        self.pending: list[str] = []

    def _new(self, debit: Account, credit: Account, fen: int) -> Transaction:
        self.next_id += 1
        return Transaction.transfer(f"t{self.next_id}", "any", ON, debit, credit, Money(fen))

    @rule(debit=st.sampled_from(ACCOUNTS), credit=st.sampled_from(ACCOUNTS), fen=st.integers(1, 10**9))
    def record(self, debit: Account, credit: Account, fen: int) -> None:
        if debit == credit:
            return
        tx = self._new(debit, credit, fen)
        assert self.ledger.record(tx)
        self.recorded.append(tx)

    @rule(debit=st.sampled_from(ACCOUNTS), credit=st.sampled_from(ACCOUNTS), fen=st.integers(1, 10**9))
    def reserve(self, debit: Account, credit: Account, fen: int) -> None:
        if debit == credit:
            return
        tx = self._new(debit, credit, fen)
        assert self.ledger.reserve(tx)
        self.pending.append(tx.id)

    @rule(data=st.data())
    def retry_a_recorded_one(self, data: st.DataObject) -> None:
        if self.recorded:
            assert self.ledger.record(data.draw(st.sampled_from(self.recorded))) is False

    @rule(data=st.data(), post=st.booleans())
    def resolve(self, data: st.DataObject, post: bool) -> None:
        if not self.pending:
            return
        pending_id = data.draw(st.sampled_from(self.pending))
        resolution = f"{pending_id}/{'post' if post else 'void'}"
        resolve = self.ledger.post_pending if post else self.ledger.void_pending
        assert resolve(pending_id, resolution) is True
        assert resolve(pending_id, resolution) is False  # the retry
        self.pending.remove(pending_id)

    @invariant()
    def balanced_and_rebuildable(self) -> None:
        assert self.ledger.trial_balance() == Money.ZERO
        assert sum(self.ledger.balances().pending.values()) == 0
        assert self.ledger.rebuild() == self.ledger.balances()
        assert all(sum(p.amount.fen for p in e.transaction.postings) == 0 for e in self.ledger.journal)


TestLedgerMachine = LedgerMachine.TestCase
TestLedgerMachine.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
