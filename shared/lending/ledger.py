"""A double-entry ledger after TigerBeetle's rules, in memory and pure.

- A transaction's postings sum to exactly zero, checked where the transaction is built. Debits are positive,
  credits negative.
- Transactions are idempotent by id: the same id with the same content is a no-op; with other content it is a
  :class:`TransactionConflict`.
- Two-phase transfers: a pending transfer holds amounts in the accounts' pending balances; it is later posted
  (the amounts move to posted balances) or voided (released), exactly once, each by a transfer of its own id.
- Every change is an entry in an append-only journal; :meth:`Ledger.rebuild` replays the journal and must give the
  running balances.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Literal, NamedTuple

from lending.errors import PendingTransferError, TransactionConflict, UnbalancedTransaction
from lending.money import Money


class AccountCode(StrEnum):
    """The chart of accounts. Kept per loan (receivables, credit) or per funding source, by an account key."""

    PRINCIPAL_RECEIVABLE = "principal_receivable"
    INTEREST_RECEIVABLE = "interest_receivable"
    PENALTY_RECEIVABLE = "penalty_receivable"
    FEE_RECEIVABLE = "fee_receivable"
    SETTLEMENT_CASH = "settlement_cash"
    FUNDING = "funding"  # keyed by funding source: own_capital, partner:<bank>
    INTEREST_INCOME = "interest_income"
    PENALTY_INCOME = "penalty_income"
    FEE_INCOME = "fee_income"
    BORROWER_CREDIT = "borrower_credit"  # money we owe a borrower: overpayments
    SUSPENSE = "suspense"  # money received that we cannot yet place, held for investigation
    WRITE_OFF = "write_off"  # keyed by loan: receivables taken off the book (the borrower still owes them)
    PROVISION_EXPENSE = "provision_expense"  # the allowance's change charged to the period
    LOAN_LOSS_ALLOWANCE = "loan_loss_allowance"  # keyed by loan: the provision its grade implies (a contra-asset)
    RECOVERY_INCOME = "recovery_income"  # money collected on a loan after it was written off


class Normal(StrEnum):
    DEBIT = "debit"
    CREDIT = "credit"


#: The side on which each account normally carries its balance (assets and expenses: debit).
NORMAL_BALANCE: Mapping[AccountCode, Normal] = {
    AccountCode.PRINCIPAL_RECEIVABLE: Normal.DEBIT,
    AccountCode.INTEREST_RECEIVABLE: Normal.DEBIT,
    AccountCode.PENALTY_RECEIVABLE: Normal.DEBIT,
    AccountCode.FEE_RECEIVABLE: Normal.DEBIT,
    AccountCode.SETTLEMENT_CASH: Normal.DEBIT,
    AccountCode.WRITE_OFF: Normal.DEBIT,
    AccountCode.PROVISION_EXPENSE: Normal.DEBIT,
    AccountCode.FUNDING: Normal.CREDIT,
    AccountCode.INTEREST_INCOME: Normal.CREDIT,
    AccountCode.PENALTY_INCOME: Normal.CREDIT,
    AccountCode.FEE_INCOME: Normal.CREDIT,
    AccountCode.BORROWER_CREDIT: Normal.CREDIT,
    AccountCode.SUSPENSE: Normal.CREDIT,
    AccountCode.LOAN_LOSS_ALLOWANCE: Normal.CREDIT,
    AccountCode.RECOVERY_INCOME: Normal.CREDIT,
}


class Account(NamedTuple):
    """An account of the chart, kept for one key (a loan id, a funding source) or for the book as a whole."""

    code: AccountCode
    key: str = ""

    def __str__(self) -> str:
        return f"{self.code}:{self.key}" if self.key else str(self.code)

    @classmethod
    def parse(cls, text: str) -> Account:
        """The inverse of ``str``: ``"principal_receivable:L-1"``."""
        code, _, key = text.partition(":")
        return cls(AccountCode(code), key)


class Posting(NamedTuple):
    """One leg of a transaction: a debit (positive) or a credit (negative) to an account."""

    account: Account
    amount: Money


@dataclass(frozen=True, slots=True)
class Transaction:
    """A balanced set of postings with a unique id. Building an unbalanced one raises."""

    id: str
    kind: str
    effective_on: date
    postings: tuple[Posting, ...]
    memo: str = ""

    def __post_init__(self) -> None:
        if not self.id:
            raise UnbalancedTransaction("a transaction needs an id")
        if len(self.postings) < 2:
            raise UnbalancedTransaction(f"{self.id}: a transaction needs at least two postings")
        imbalance = 0
        for posting in self.postings:
            if not posting.amount.fen:
                raise UnbalancedTransaction(f"{self.id}: a posting of zero says nothing; leave it out")
            imbalance += posting.amount.fen
        if imbalance:
            raise UnbalancedTransaction(f"{self.id}: postings are off balance by {Money(imbalance)}")

    @classmethod
    def build(
        cls,
        id: str,
        kind: str,
        effective_on: date,
        debits: Iterable[tuple[Account, Money]],
        credits: Iterable[tuple[Account, Money]] = (),
        memo: str = "",
    ) -> Transaction:
        """A transaction from debit and credit legs (amounts as positive Money); zero legs are dropped and legs on
        the same account merged.

        The postings keep the legs' order, so building the same business fact twice gives equal transactions.
        """
        merged: dict[Account, int] = {}
        for account, amount in debits:
            if amount.fen:
                merged[account] = merged.get(account, 0) + amount.fen
        for account, amount in credits:
            if amount.fen:
                merged[account] = merged.get(account, 0) - amount.fen
        postings = tuple(Posting(a, Money(f)) for a, f in merged.items() if f)
        return cls(id, kind, effective_on, postings, memo)

    @classmethod
    def transfer(
        cls,
        id: str,
        kind: str,
        effective_on: date,
        debit: Account,
        credit: Account,
        amount: Money,
        memo: str = "",
    ) -> Transaction:
        """The simplest transaction: ``amount`` from ``credit`` to ``debit``."""
        return cls.build(id, kind, effective_on, [(debit, amount)], [(credit, amount)], memo)


EntryKind = Literal["posted", "pending", "post_pending", "void_pending"]


@dataclass(frozen=True, slots=True)
class Entry:
    """A line of the journal: a posted or pending transaction, or the resolution of a pending one."""

    kind: EntryKind
    transaction: Transaction  # for post/void: the pending transaction they resolve
    resolution_id: str = ""  # the id of the post or void


@dataclass(frozen=True, slots=True)
class Balances:
    """Posted and pending balances per account (fen, debit positive)."""

    posted: Mapping[Account, int]
    pending: Mapping[Account, int]

    @classmethod
    def of(cls, posted: Mapping[Account, int], pending: Mapping[Account, int]) -> Balances:
        """Balances without the accounts that stand at zero, so equal books compare equal."""
        return cls({a: f for a, f in posted.items() if f}, {a: f for a, f in pending.items() if f})


class Ledger:
    """An in-memory ledger: the domain's rules; a repository persists its entries."""

    def __init__(self) -> None:
        self._journal: list[Entry] = []
        self._transactions: dict[str, Transaction] = {}  # posted and pending, by id
        self._pending: dict[str, Transaction] = {}  # still open
        self._resolutions: dict[str, tuple[str, EntryKind]] = {}  # post/void id → (pending id, kind)
        self._resolved: dict[str, str] = {}  # pending id → the id that resolved it
        self._posted: dict[Account, int] = defaultdict(int)
        self._pending_balances: dict[Account, int] = defaultdict(int)

    # Writing

    def _seen(self, transaction: Transaction, kind: EntryKind) -> bool:
        """True when this exact transaction was recorded the same way before; raise when the id means another."""
        previous = self._transactions.get(transaction.id)
        if previous is None:
            if transaction.id in self._resolutions:
                raise TransactionConflict(f"{transaction.id} is already used by a post or void")
            return False
        was_pending = transaction.id in self._pending or transaction.id in self._resolved
        if previous != transaction or was_pending != (kind == "pending"):
            raise TransactionConflict(f"transaction {transaction.id} was recorded before with other content")
        return True

    def record(self, transaction: Transaction) -> bool:
        """Post a transaction; returns False when it was already posted (a no-op)."""
        if self._seen(transaction, "posted"):
            return False
        self._append(Entry("posted", transaction))
        return True

    def reserve(self, transaction: Transaction) -> bool:
        """Record a pending transfer (phase one); returns False when it was already recorded."""
        if self._seen(transaction, "pending"):
            return False
        self._append(Entry("pending", transaction))
        return True

    def post_pending(self, pending_id: str, post_id: str) -> bool:
        """Post a pending transfer in full (phase two); returns False when ``post_id`` already did it."""
        return self._resolve(pending_id, post_id, "post_pending")

    def void_pending(self, pending_id: str, void_id: str) -> bool:
        """Release a pending transfer; returns False when ``void_id`` already did it."""
        return self._resolve(pending_id, void_id, "void_pending")

    def _resolve(self, pending_id: str, resolution_id: str, kind: EntryKind) -> bool:
        if resolution_id in self._transactions:
            raise TransactionConflict(f"{resolution_id} is already the id of a transaction")
        earlier = self._resolutions.get(resolution_id)
        if earlier is not None:
            if earlier != (pending_id, kind):
                raise TransactionConflict(f"{resolution_id} was used before for {earlier[1]} of {earlier[0]}")
            return False
        if pending_id in self._resolved:
            raise PendingTransferError(
                f"pending transfer {pending_id} is already resolved by {self._resolved[pending_id]}"
            )
        pending = self._pending.get(pending_id)
        if pending is None:
            raise PendingTransferError(f"no pending transfer {pending_id}")
        self._append(Entry(kind, pending, resolution_id))
        return True

    def _append(self, entry: Entry) -> None:
        self._journal.append(entry)
        _apply(entry, self._posted, self._pending_balances)
        transaction = entry.transaction
        if entry.kind == "posted":
            self._transactions[transaction.id] = transaction
        elif entry.kind == "pending":
            self._transactions[transaction.id] = transaction
            self._pending[transaction.id] = transaction
        else:
            del self._pending[transaction.id]
            self._resolved[transaction.id] = entry.resolution_id
            self._resolutions[entry.resolution_id] = (transaction.id, entry.kind)

    # Reading

    @property
    def journal(self) -> tuple[Entry, ...]:
        return tuple(self._journal)

    def balance(self, account: Account) -> Money:
        """Posted balance, debit positive."""
        return Money(self._posted.get(account, 0))

    def pending_balance(self, account: Account) -> Money:
        """Amount held by open pending transfers, debit positive."""
        return Money(self._pending_balances.get(account, 0))

    def balances(self) -> Balances:
        return Balances.of(self._posted, self._pending_balances)

    def rebuild(self) -> Balances:
        """Balances replayed from the journal alone."""
        return replay(self._journal)

    def trial_balance(self) -> Money:
        """Sum of every posted balance: zero in a sound ledger."""
        return Money(sum(self._posted.values()))

    def is_pending(self, transaction_id: str) -> bool:
        return transaction_id in self._pending


def _apply(entry: Entry, posted: dict[Account, int], pending: dict[Account, int]) -> None:
    for posting in entry.transaction.postings:
        fen = posting.amount.fen
        if entry.kind == "posted":
            posted[posting.account] += fen
        elif entry.kind == "pending":
            pending[posting.account] += fen
        elif entry.kind == "post_pending":
            pending[posting.account] -= fen
            posted[posting.account] += fen
        else:
            pending[posting.account] -= fen


def replay(journal: Iterable[Entry]) -> Balances:
    """Balances from a journal, as a check on the running ones."""
    posted: dict[Account, int] = defaultdict(int)
    pending: dict[Account, int] = defaultdict(int)
    for entry in journal:
        _apply(entry, posted, pending)
    return Balances.of(posted, pending)
