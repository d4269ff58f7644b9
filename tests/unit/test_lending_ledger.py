"""The ledger: balanced transactions, idempotent ids, two-phase transfers, and balances rebuilt from the journal."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from lending.bookkeeping import SETTLEMENT_CASH, disbursement, funding_reservation, funding_source, of_loan
from lending.errors import PendingTransferError, TransactionConflict, UnbalancedTransaction
from lending.ledger import Account, AccountCode, Balances, Ledger, Posting, Transaction, replay
from lending.money import Money

ON = date(2026, 1, 15)
CASH = Account(AccountCode.SETTLEMENT_CASH)
OWN = Account(AccountCode.FUNDING, "own_capital")
PARTNER = Account(AccountCode.FUNDING, "partner:icbc")
PRINCIPAL = Account(AccountCode.PRINCIPAL_RECEIVABLE, "L-1")
INCOME = Account(AccountCode.INTEREST_INCOME)
ACCOUNTS = [CASH, OWN, PARTNER, PRINCIPAL, INCOME, Account(AccountCode.BORROWER_CREDIT, "L-1")]


def _move(tx_id: str, amount: str, debit: Account = CASH, credit: Account = OWN) -> Transaction:
    return Transaction.transfer(tx_id, "test", ON, debit, credit, Money.of(amount))


# Building transactions


@pytest.mark.parametrize(
    ("postings", "message"),
    [
        ((Posting(CASH, Money(100)), Posting(OWN, Money(-99))), "off balance by 0.01"),
        ((Posting(CASH, Money(100)),), "at least two postings"),
        ((Posting(CASH, Money(100)), Posting(OWN, Money(-100)), Posting(INCOME, Money.ZERO)), "posting of zero"),
        ((), "at least two postings"),
    ],
    ids=["off-by-a-fen", "one-leg", "zero-leg", "no-legs"],
)
def test_an_unbalanced_transaction_is_refused_where_it_is_built(postings: tuple[Posting, ...], message: str) -> None:
    # Given postings that do not make a balanced transaction
    # When the transaction is built
    # Then it refuses to exist
    with pytest.raises(UnbalancedTransaction, match=re.escape(message)):
        Transaction("T-1", "test", ON, postings)


def test_a_transaction_needs_an_id() -> None:
    with pytest.raises(UnbalancedTransaction, match="needs an id"):
        _move("", "1.00")


def test_build_refuses_debits_and_credits_that_differ() -> None:
    with pytest.raises(UnbalancedTransaction, match=r"off balance by 1\.00"):
        Transaction.build("T-1", "test", ON, [(CASH, Money.of("101"))], [(OWN, Money.of("100"))])


def test_build_drops_zero_legs_and_merges_legs_on_one_account() -> None:
    # Given debits and credits with a zero leg and two legs on the same account
    # When the transaction is built
    transaction = Transaction.build(
        "T-1",
        "test",
        ON,
        [(CASH, Money.of("60")), (CASH, Money.of("40")), (INCOME, Money.ZERO)],
        [(OWN, Money.of("70")), (PARTNER, Money.of("30"))],
    )
    # Then it has one posting per account, debits positive and credits negative, in the legs' order
    assert transaction.postings == (
        Posting(CASH, Money.of("100")),
        Posting(OWN, Money.of("-70")),
        Posting(PARTNER, Money.of("-30")),
    )


def test_an_account_reads_back_from_its_text() -> None:
    assert str(PARTNER) == "funding:partner:icbc"
    assert Account.parse(str(PARTNER)) == PARTNER
    assert Account.parse(str(CASH)) == CASH


# Idempotency


def test_recording_the_same_transaction_twice_is_a_no_op() -> None:
    # Given a ledger with one transaction recorded
    ledger = Ledger()
    assert ledger.record(_move("T-1", "100.00"))

    # When the same transaction (same id, same content) is recorded again
    again = ledger.record(_move("T-1", "100.00"))

    # Then it returns False and changes nothing
    assert again is False
    assert len(ledger.journal) == 1
    assert ledger.balance(CASH) == Money.of("100.00")
    assert ledger.balance(OWN) == Money.of("-100.00")


@pytest.mark.parametrize(
    "other",
    [
        _move("T-1", "100.01"),
        _move("T-1", "100.00", debit=PRINCIPAL),
        Transaction.transfer("T-1", "other kind", ON, CASH, OWN, Money.of("100.00")),
        Transaction.transfer("T-1", "test", date(2026, 1, 16), CASH, OWN, Money.of("100.00")),
        Transaction.transfer("T-1", "test", ON, CASH, OWN, Money.of("100.00"), memo="changed"),
    ],
    ids=["amount", "account", "kind", "date", "memo"],
)
def test_the_same_id_with_other_content_is_a_conflict(other: Transaction) -> None:
    # Given a ledger with T-1 recorded
    ledger = Ledger()
    ledger.record(_move("T-1", "100.00"))
    # When another transaction with the id T-1 is recorded
    # Then it is a conflict and nothing changes
    with pytest.raises(TransactionConflict, match="T-1"):
        ledger.record(other)
    assert len(ledger.journal) == 1
    assert ledger.balance(CASH) == Money.of("100.00")


def test_a_posted_transaction_cannot_be_reserved_under_the_same_id_nor_the_reverse() -> None:
    ledger = Ledger()
    ledger.record(_move("T-1", "1.00"))
    ledger.reserve(_move("P-1", "1.00"))
    with pytest.raises(TransactionConflict):
        ledger.reserve(_move("T-1", "1.00"))
    with pytest.raises(TransactionConflict):
        ledger.record(_move("P-1", "1.00"))


# Two-phase transfers


def test_posting_a_pending_transfer_moves_it_from_pending_to_posted() -> None:
    # Given a funding reservation of 100,000.00: 40% own capital, 60% a partner bank
    ledger = Ledger()
    shares = {"own_capital": Money.of("40000"), "partner:icbc": Money.of("60000")}
    assert ledger.reserve(funding_reservation("F-1", "L-1", shares, ON))

    # Then the amounts are held as pending, not posted
    assert ledger.is_pending("F-1")
    assert ledger.pending_balance(SETTLEMENT_CASH) == Money.of("100000")
    assert ledger.pending_balance(funding_source("partner:icbc")) == Money.of("-60000")
    assert ledger.balance(SETTLEMENT_CASH) == Money.ZERO

    # When it is posted
    assert ledger.post_pending("F-1", "F-1:post")

    # Then the same amounts are posted and nothing is pending
    assert not ledger.is_pending("F-1")
    assert ledger.balance(SETTLEMENT_CASH) == Money.of("100000")
    assert ledger.balance(funding_source("own_capital")) == Money.of("-40000")
    assert ledger.pending_balance(SETTLEMENT_CASH) == Money.ZERO
    assert ledger.balances() == Balances.of(
        {
            SETTLEMENT_CASH: 10_000_000,
            funding_source("own_capital"): -4_000_000,
            funding_source("partner:icbc"): -6_000_000,
        },
        {},
    )

    # And the loan can then be disbursed from the cash, net of a 1,000.00 fee
    assert ledger.record(disbursement("D-1", "L-1", Money.of("100000"), Money.of("1000"), ON))
    assert ledger.balance(SETTLEMENT_CASH) == Money.of("1000")
    assert ledger.balance(of_loan(AccountCode.PRINCIPAL_RECEIVABLE, "L-1")) == Money.of("100000")
    assert ledger.trial_balance() == Money.ZERO


def test_voiding_a_pending_transfer_releases_it() -> None:
    # Given a pending transfer
    ledger = Ledger()
    ledger.reserve(_move("P-1", "500.00"))
    # When it is voided
    assert ledger.void_pending("P-1", "P-1:void")
    # Then nothing is pending or posted
    assert ledger.balances() == Balances.of({}, {})
    assert not ledger.is_pending("P-1")
    assert [entry.kind for entry in ledger.journal] == ["pending", "void_pending"]


def test_resolving_a_pending_transfer_twice_is_refused_but_repeating_the_same_resolution_is_a_no_op() -> None:
    # Given a pending transfer posted by "P-1:post"
    ledger = Ledger()
    ledger.reserve(_move("P-1", "500.00"))
    ledger.post_pending("P-1", "P-1:post")

    # When the same post is repeated (a retry), it is a no-op
    assert ledger.post_pending("P-1", "P-1:post") is False
    # And a post or void under another id is refused
    with pytest.raises(PendingTransferError, match="already resolved by P-1:post"):
        ledger.post_pending("P-1", "P-1:post-again")
    with pytest.raises(PendingTransferError, match="already resolved"):
        ledger.void_pending("P-1", "P-1:void")
    # And the same resolution id cannot mean a void
    with pytest.raises(TransactionConflict):
        ledger.void_pending("P-1", "P-1:post")

    # Then it was posted exactly once
    assert ledger.balance(CASH) == Money.of("500.00")
    assert len(ledger.journal) == 2


def test_a_void_after_a_void_is_refused() -> None:
    ledger = Ledger()
    ledger.reserve(_move("P-1", "5.00"))
    ledger.void_pending("P-1", "V-1")
    assert ledger.void_pending("P-1", "V-1") is False
    with pytest.raises(PendingTransferError):
        ledger.void_pending("P-1", "V-2")
    with pytest.raises(PendingTransferError):
        ledger.post_pending("P-1", "V-3")


def test_posting_what_is_not_pending_is_refused() -> None:
    # Given a ledger with one posted transaction
    ledger = Ledger()
    ledger.record(_move("T-1", "5.00"))
    # When an unknown or already-posted transaction is posted as pending
    # Then it is refused
    with pytest.raises(PendingTransferError, match="no pending transfer P-9"):
        ledger.post_pending("P-9", "P-9:post")
    with pytest.raises(PendingTransferError, match="no pending transfer T-1"):
        ledger.post_pending("T-1", "T-1:post")


def test_a_resolution_id_cannot_reuse_a_transaction_id_or_another_resolution() -> None:
    ledger = Ledger()
    ledger.record(_move("T-1", "5.00"))
    ledger.reserve(_move("P-1", "5.00"))
    ledger.reserve(_move("P-2", "5.00"))
    with pytest.raises(TransactionConflict):
        ledger.post_pending("P-1", "T-1")
    ledger.post_pending("P-1", "R-1")
    with pytest.raises(TransactionConflict):
        ledger.post_pending("P-2", "R-1")
    with pytest.raises(TransactionConflict):
        ledger.record(_move("R-1", "5.00"))


# Random sequences of operations


@st.composite
def _legs(draw: st.DrawFn) -> tuple[list[tuple[Account, Money]], list[tuple[Account, Money]]]:
    """Balanced debit and credit legs over 2–4 different accounts."""
    accounts = draw(st.lists(st.sampled_from(ACCOUNTS), min_size=2, max_size=4, unique=True))
    split = draw(st.integers(1, len(accounts) - 1))
    debits = [(account, Money(draw(st.integers(1, 10**9)))) for account in accounts[:split]]
    owed = sum(amount.fen for _, amount in debits)
    credit_accounts = accounts[split:][:owed]  # never more credit legs than fen to share
    cuts = (
        sorted(
            draw(
                st.lists(
                    st.integers(1, owed - 1),
                    min_size=len(credit_accounts) - 1,
                    max_size=len(credit_accounts) - 1,
                    unique=True,
                )
            )
        )
        if owed > 1
        else []
    )
    bounds = [0, *cuts, owed]
    credits = [(account, Money(bounds[i + 1] - bounds[i])) for i, account in enumerate(credit_accounts)]
    return debits, credits


class LedgerOperations(RuleBasedStateMachine):
    """Record, reserve, post and void at random, retrying ids, against a model of what the balances must be."""

    def __init__(self) -> None:
        super().__init__()
        self.ledger = Ledger()
        self.posted: dict[str, Transaction] = {}
        self.open: dict[str, Transaction] = {}
        self.resolutions: dict[str, tuple[str, str]] = {}  # resolution id → (pending id, "post" or "void")
        self.pending_ever: dict[str, Transaction] = {}
        self.model_posted: Counter[Account] = Counter()
        self.model_pending: Counter[Account] = Counter()
        self.serial = 0

    def _new_id(self, prefix: str) -> str:
        self.serial += 1
        return f"{prefix}-{self.serial}"

    @rule(legs=_legs())
    def record(self, legs: tuple[list[tuple[Account, Money]], list[tuple[Account, Money]]]) -> None:
        transaction = Transaction.build(self._new_id("T"), "test", ON, *legs)
        assert self.ledger.record(transaction) is True
        self.posted[transaction.id] = transaction
        for posting in transaction.postings:
            self.model_posted[posting.account] += posting.amount.fen

    @rule(legs=_legs())
    def reserve(self, legs: tuple[list[tuple[Account, Money]], list[tuple[Account, Money]]]) -> None:
        transaction = Transaction.build(self._new_id("P"), "test", ON, *legs)
        assert self.ledger.reserve(transaction) is True
        self.open[transaction.id] = transaction
        self.pending_ever[transaction.id] = transaction
        for posting in transaction.postings:
            self.model_pending[posting.account] += posting.amount.fen

    @precondition(lambda self: self.posted)
    @rule(data=st.data())
    def retry_record(self, data: st.DataObject) -> None:
        transaction = data.draw(st.sampled_from(sorted(self.posted.values(), key=lambda t: t.id)))
        assert self.ledger.record(transaction) is False

    @precondition(lambda self: self.posted)
    @rule(data=st.data(), extra=st.integers(1, 100))
    def conflicting_record(self, data: st.DataObject, extra: int) -> None:
        original = data.draw(st.sampled_from(sorted(self.posted.values(), key=lambda t: t.id)))
        postings = list(original.postings)
        first, second = postings[0], postings[1]
        postings[0] = Posting(first.account, first.amount + Money(extra))
        postings[1] = Posting(second.account, second.amount - Money(extra))
        if not postings[1].amount:  # keep it a valid, balanced transaction with other content
            postings[1] = Posting(second.account, second.amount - Money(extra + 1))
            postings[0] = Posting(first.account, first.amount + Money(extra + 1))
        changed = Transaction(original.id, original.kind, original.effective_on, tuple(postings), original.memo)
        with pytest.raises(TransactionConflict):
            self.ledger.record(changed)

    @precondition(lambda self: self.pending_ever)
    @rule(data=st.data())
    def retry_reserve(self, data: st.DataObject) -> None:
        transaction = data.draw(st.sampled_from(sorted(self.pending_ever.values(), key=lambda t: t.id)))
        assert self.ledger.reserve(transaction) is False

    @precondition(lambda self: self.open)
    @rule(data=st.data(), post=st.booleans())
    def resolve(self, data: st.DataObject, post: bool) -> None:
        pending_id = data.draw(st.sampled_from(sorted(self.open)))
        resolution_id = self._new_id("R")
        if post:
            assert self.ledger.post_pending(pending_id, resolution_id) is True
        else:
            assert self.ledger.void_pending(pending_id, resolution_id) is True
        transaction = self.open.pop(pending_id)
        self.resolutions[resolution_id] = (pending_id, "post" if post else "void")
        for posting in transaction.postings:
            self.model_pending[posting.account] -= posting.amount.fen
            if post:
                self.model_posted[posting.account] += posting.amount.fen

    @precondition(lambda self: self.resolutions)
    @rule(data=st.data())
    def retry_resolution(self, data: st.DataObject) -> None:
        resolution_id = data.draw(st.sampled_from(sorted(self.resolutions)))
        pending_id, kind = self.resolutions[resolution_id]
        resolve = self.ledger.post_pending if kind == "post" else self.ledger.void_pending
        assert resolve(pending_id, resolution_id) is False

    @precondition(lambda self: self.resolutions)
    @rule(data=st.data(), post=st.booleans())
    def resolve_again(self, data: st.DataObject, post: bool) -> None:
        pending_id, _ = self.resolutions[data.draw(st.sampled_from(sorted(self.resolutions)))]
        resolve = self.ledger.post_pending if post else self.ledger.void_pending
        with pytest.raises(PendingTransferError):
            resolve(pending_id, self._new_id("R"))

    @invariant()
    def every_transaction_is_balanced(self) -> None:
        for entry in self.ledger.journal:
            assert sum(posting.amount.fen for posting in entry.transaction.postings) == 0

    @invariant()
    def the_books_balance_and_rebuild(self) -> None:
        balances = self.ledger.balances()
        assert self.ledger.trial_balance() == Money.ZERO
        assert sum(balances.pending.values()) == 0
        assert self.ledger.rebuild() == balances
        assert replay(self.ledger.journal) == balances
        assert balances == Balances.of(self.model_posted, self.model_pending)
        assert {t for t in self.open if self.ledger.is_pending(t)} == set(self.open)


LedgerOperations.TestCase.settings = settings(max_examples=60, stateful_step_count=25, deadline=None)
TestRandomLedgerOperations = LedgerOperations.TestCase
