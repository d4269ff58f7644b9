"""The ledger in DynamoDB (LedgerTable), with the rules of the in-memory :class:`lending.ledger.Ledger`.

Items (keys as template.yaml describes them):

- ``pk=TX#<id>, sk=TX``: a transaction's canonical content (``kind``, ``effective_on``, ``postings`` as
  ``[account, fen]`` pairs, ``memo``) and its ``state``: ``posted``, ``pending``, ``posted_from_pending`` or
  ``voided`` (with ``resolved_by``, the id of the post or void).
- ``pk=TX#<id>, sk=TX`` with ``item_type=resolution``: the post or void of a pending transfer under its own id, so
  transaction ids and resolution ids share one namespace, as in the in-memory ledger.
- ``pk=ACCOUNT#<account>, sk=BALANCE``: ``posted`` and ``pending`` balances, and ``net`` (their sum), in integer
  fen, debit positive. ``net`` exists because a condition expression cannot add two attributes.

What makes every write idempotent and exact: each operation commits its transaction (or resolution) item and every
balance update in ONE TransactWriteItems, conditioned on the item's id being new. A retry, or a copy racing on
another Lambda instance, finds the id taken; the store then compares content and answers as the in-memory ledger
does (False for the same content, :class:`TransactionConflict` for other content). A repeated
``ClientRequestToken`` is not relied on.

Book-wide accounts (settlement cash, income) are one balance item each, so every transaction writes them: DynamoDB
cancels concurrent transactions on one item (``TransactionConflict``), which :meth:`DynamoLedgerStore._transact`
retries with back-off. Beyond a few hundred writes a second they would need sharding.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date
from typing import Any, Literal

from lending.errors import (
    BalanceBoundExceeded,
    ConcurrentChange,
    LedgerContention,
    LendingError,
    PendingTransferError,
    TransactionConflict,
)
from lending.ledger import Account, Balances, Entry, Posting, Transaction, replay
from lending.money import Money

#: DynamoDB's limit on the items of one TransactWriteItems.
MAX_TRANSACT_ITEMS = 100
#: How often a write cancelled by DynamoDB for a concurrent transaction on the same items is tried again.
CONTENTION_ATTEMPTS = 6
#: How often a verification reads the table, at most, while an account differs and writers were busy between its
#: reads (see audit_balances), and the first pause between reads in seconds (doubling: 0.1 + ... + 3.2 s at most).
QUIET_READ_ATTEMPTS = 7
QUIET_READ_PAUSE = 0.1

_TX_SK = "TX"
_BALANCE_SK = "BALANCE"
_TRANSACTION = "transaction"
_RESOLUTION = "resolution"

State = Literal["posted", "pending", "posted_from_pending", "voided"]
Resolution = Literal["post_pending", "void_pending"]
_RESOLVED_STATE: Mapping[Resolution, State] = {"post_pending": "posted_from_pending", "void_pending": "voided"}
#: The states of a transaction that was reserved (pending, or resolved since).
_TWO_PHASE_STATES = frozenset({"pending", "posted_from_pending", "voided"})

# Every balance update moves posted, pending and their sum (net) together, atomically, in one update of the item.
_BALANCE_NAMES = {"#account": "account", "#posted": "posted", "#pending": "pending", "#net": "net"}
# ADD on a number attribute starts it from zero when the item or attribute is new.
_BALANCE_UPDATE = "SET #account = :account ADD #posted :posted, #pending :pending, #net :net"


def _n(value: int) -> dict[str, str]:
    return {"N": str(value)}


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _tx_key(transaction_id: str) -> dict[str, Any]:
    return {"pk": _s(f"TX#{transaction_id}"), "sk": _s(_TX_SK)}


def _balance_key(account: Account) -> dict[str, Any]:
    return {"pk": _s(f"ACCOUNT#{account}"), "sk": _s(_BALANCE_SK)}


def _transaction_item(transaction: Transaction, state: State) -> dict[str, Any]:
    postings = [{"L": [_s(str(p.account)), _n(p.amount.fen)]} for p in transaction.postings]
    return {
        **_tx_key(transaction.id),
        "item_type": _s(_TRANSACTION),
        "id": _s(transaction.id),
        "kind": _s(transaction.kind),
        "effective_on": _s(transaction.effective_on.isoformat()),
        "postings": {"L": postings},
        "memo": _s(transaction.memo),
        "state": _s(state),
    }


def _transaction_from_item(item: Mapping[str, Any]) -> Transaction:
    postings = tuple(
        Posting(Account.parse(pair["L"][0]["S"]), Money(int(pair["L"][1]["N"]))) for pair in item["postings"]["L"]
    )
    return Transaction(
        item["id"]["S"],
        item["kind"]["S"],
        date.fromisoformat(item["effective_on"]["S"]),
        postings,
        item.get("memo", {}).get("S", ""),
    )


def _deltas(transaction: Transaction) -> dict[Account, int]:
    """Each account's change in fen (postings on one account merged: a transaction may touch an item only once)."""
    deltas: dict[Account, int] = {}
    for posting in transaction.postings:
        deltas[posting.account] = deltas.get(posting.account, 0) + posting.amount.fen
    return deltas


def _attribute(item: Mapping[str, Any], name: str) -> str:
    """A string attribute, or "" when it is absent."""
    value: str = item.get(name, {}).get("S", "")
    return value


def _codes(reasons: list[dict[str, Any]]) -> list[str]:
    return [str(reason.get("Code", "None")) for reason in reasons]


def _failed(reasons: list[dict[str, Any]], index: int) -> bool:
    """True when the item at ``index`` failed its condition."""
    return index < len(reasons) and reasons[index].get("Code") == "ConditionalCheckFailed"


def _fen(item: Mapping[str, Any] | None, name: str) -> int:
    if not item or name not in item:
        return 0
    return int(item[name]["N"])


class DynamoLedgerStore:
    """Transactions and running balances in LedgerTable, under the in-memory ledger's rules."""

    def __init__(self, table_name: str, client: Any) -> None:
        self._table = table_name
        self._dynamodb = client

    # Writing

    def record(self, transaction: Transaction, bounds: Mapping[Account, Money] | None = None) -> bool:
        """Post a transaction; False when it was already posted (a no-op).

        ``bounds``: for each named account, its posted + pending credit balance must not exceed the amount after
        this write, or nothing is written and :class:`BalanceBoundExceeded` is raised.
        """
        return self._commit(transaction, "posted", bounds or {})

    def record_with(self, transaction: Transaction, also: Sequence[Mapping[str, Any]]) -> bool:
        """Post a transaction and, in the same DynamoDB transaction, the other writes in ``also`` (TransactItems,
        each with the condition that protects its record). All or nothing: when one of ``also`` fails its condition,
        :class:`ConcurrentChange` is raised (checked before the transaction's own id, so a racing copy that already
        posted it reads as the change it is); otherwise the answer is :meth:`record`'s."""
        return self._commit(transaction, "posted", {}, also)

    def reserve(self, transaction: Transaction, bounds: Mapping[Account, Money] | None = None) -> bool:
        """Record a pending transfer (phase one); False when it was already recorded. ``bounds`` as for record."""
        return self._commit(transaction, "pending", bounds or {})

    def post_pending(self, pending_id: str, post_id: str) -> bool:
        """Post a pending transfer in full (phase two); False when ``post_id`` already did it."""
        return self._resolve(pending_id, post_id, "post_pending")

    def void_pending(self, pending_id: str, void_id: str) -> bool:
        """Release a pending transfer; False when ``void_id`` already did it."""
        return self._resolve(pending_id, void_id, "void_pending")

    def _commit(
        self,
        transaction: Transaction,
        state: State,
        bounds: Mapping[Account, Money],
        also: Sequence[Mapping[str, Any]] = (),
    ) -> bool:
        deltas = _deltas(transaction)
        unbounded = [str(account) for account in bounds if account not in deltas]
        if unbounded:
            raise ValueError(f"{transaction.id}: bounds name accounts it does not post to: {', '.join(unbounded)}")
        if 1 + len(deltas) + len(also) > MAX_TRANSACT_ITEMS:
            raise ValueError(f"{transaction.id}: {len(deltas)} accounts exceed one DynamoDB transaction")
        items: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": _transaction_item(transaction, state),
                    # Protects the transaction id: it is applied once; a retry or a racing copy fails here and is
                    # answered by comparing content (same: no-op; other: conflict).
                    "ConditionExpression": "attribute_not_exists(pk)",
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            }
        ]
        accounts = list(deltas)
        for account in accounts:
            fen = deltas[account]
            posted, pending = (fen, 0) if state == "posted" else (0, fen)
            items.append({"Update": self._balance_update(account, posted, pending, bounds.get(account))})
        items.extend(dict(item) for item in also)
        reasons = self._transact(items)
        if reasons is None:
            return True
        if any(_failed(reasons, index) for index in range(1 + len(accounts), len(items))):
            raise ConcurrentChange(f"{transaction.id}: a record written with it was changed first")
        if _failed(reasons, 0):
            return self._same_transaction(transaction, state, self._existing(reasons, 0, transaction.id))
        refused = [account for index, account in enumerate(accounts, 1) if _failed(reasons, index)]
        if not refused:
            raise LendingError(f"{transaction.id}: DynamoDB cancelled the write: {_codes(reasons)}")
        described = ", ".join(f"{account} (bound {bounds[account]})" for account in refused)
        raise BalanceBoundExceeded(f"{transaction.id} would take {described} above its bound")

    def _balance_update(self, account: Account, posted: int, pending: int, bound: Money | None) -> dict[str, Any]:
        update: dict[str, Any] = {
            "TableName": self._table,
            "Key": _balance_key(account),
            "UpdateExpression": _BALANCE_UPDATE,
            "ExpressionAttributeNames": dict(_BALANCE_NAMES),
            "ExpressionAttributeValues": {
                ":account": _s(str(account)),
                ":posted": _n(posted),
                ":pending": _n(pending),
                ":net": _n(posted + pending),
            },
        }
        if bound is not None:
            # Credit balance after the write = -(net + change) <= bound  <=>  net >= -bound - change (the floor).
            floor = -bound.fen - (posted + pending)
            update["ExpressionAttributeValues"][":floor"] = _n(floor)
            if floor <= 0:
                # Protects the bound (quota, credit limit) against every concurrent writer: the balance the write
                # lands on stays within it. An account never written stands at zero, which the floor admits.
                update["ConditionExpression"] = "attribute_not_exists(#net) OR #net >= :floor"
            else:
                # Protects the bound as above; here even a first write from zero would pass it, so the account
                # must already hold enough debit balance (a missing item fails the comparison).
                update["ConditionExpression"] = "#net >= :floor"
        return update

    def _resolve(self, pending_id: str, resolution_id: str, kind: Resolution) -> bool:
        # Postings never change once written, so reading them before the write is safe; the write's conditions
        # decide whether the transfer is still pending.
        pending_item = self._get(_tx_key(pending_id))
        if pending_item is not None and pending_id == resolution_id:
            raise TransactionConflict(f"{resolution_id} is already the id of a transaction")
        if (
            pending_item is None
            or _attribute(pending_item, "item_type") != _TRANSACTION
            or _attribute(pending_item, "state") not in _TWO_PHASE_STATES
        ):
            if self._get(_tx_key(resolution_id)) is not None:
                raise TransactionConflict(f"{resolution_id} is already the id of a transaction or resolution")
            raise PendingTransferError(f"no pending transfer {pending_id}")
        pending = _transaction_from_item(pending_item)
        resolution_item = {
            **_tx_key(resolution_id),
            "item_type": _s(_RESOLUTION),
            "id": _s(resolution_id),
            "resolution": _s(kind),
            "pending_id": _s(pending_id),
        }
        items: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": resolution_item,
                    # Protects the resolution id: a post or void is applied once, and a retry of it is a no-op.
                    "ConditionExpression": "attribute_not_exists(pk)",
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            },
            {
                "Update": {
                    "TableName": self._table,
                    "Key": _tx_key(pending_id),
                    "UpdateExpression": "SET #state = :resolved, resolved_by = :resolution_id",
                    # Protects the pending transfer from being resolved twice: a post racing a void, or a second
                    # post under another id, finds it no longer pending.
                    "ConditionExpression": "#state = :pending",
                    "ExpressionAttributeNames": {"#state": "state"},
                    "ExpressionAttributeValues": {
                        ":resolved": _s(_RESOLVED_STATE[kind]),
                        ":resolution_id": _s(resolution_id),
                        ":pending": _s("pending"),
                    },
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            },
        ]
        deltas = _deltas(pending)
        if 2 + len(deltas) > MAX_TRANSACT_ITEMS:
            raise ValueError(f"{pending_id}: {len(deltas)} accounts exceed one DynamoDB transaction")
        for account, fen in deltas.items():
            # A post moves the hold to posted (net unchanged); a void releases it. Neither can breach a bound that
            # the reservation met, so these updates carry no condition.
            posted = fen if kind == "post_pending" else 0
            items.append({"Update": self._balance_update(account, posted, -fen, None)})
        reasons = self._transact(items)
        if reasons is None:
            return True
        if _failed(reasons, 0):
            earlier = self._existing(reasons, 0, resolution_id)
            if _attribute(earlier, "item_type") != _RESOLUTION:
                raise TransactionConflict(f"{resolution_id} is already the id of a transaction")
            used_for = (_attribute(earlier, "pending_id"), _attribute(earlier, "resolution"))
            if used_for != (pending_id, kind):
                raise TransactionConflict(f"{resolution_id} was used before for {used_for[1]} of {used_for[0]}")
            return False
        if _failed(reasons, 1):
            resolved_by = _attribute(self._existing(reasons, 1, pending_id), "resolved_by") or "?"
            raise PendingTransferError(f"pending transfer {pending_id} is already resolved by {resolved_by}")
        raise LendingError(f"{resolution_id}: DynamoDB cancelled the write: {_codes(reasons)}")

    def _transact(self, items: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
        """Commit the items as one transaction: None when it committed, else DynamoDB's cancellation reasons (one
        per item, in order).

        A cancellation for a concurrent transaction on the same items (no condition failed) is retried with
        jittered back-off; a condition failure is returned for the caller to explain.
        """
        for attempt in range(CONTENTION_ATTEMPTS):
            try:
                self._dynamodb.transact_write_items(TransactItems=items)
            except self._dynamodb.exceptions.TransactionCanceledException as exc:
                reasons: list[dict[str, Any]] = exc.response.get("CancellationReasons", [])
                codes = _codes(reasons)
                if "ConditionalCheckFailed" in codes or "TransactionConflict" not in codes:
                    return reasons
                time.sleep(random.uniform(0, 0.02 * 2**attempt))
            else:
                return None
        raise LedgerContention("the ledger write kept colliding with concurrent writes; try again")

    def _existing(self, reasons: list[dict[str, Any]], index: int, transaction_id: str) -> dict[str, Any]:
        """The item whose condition failed: from the cancellation when DynamoDB returned it, else read again."""
        returned: dict[str, Any] | None = reasons[index].get("Item")
        item = returned or self._get(_tx_key(transaction_id))
        if item is None:
            raise LendingError(f"{transaction_id}: a condition failed on an item that cannot be read")
        return item

    @staticmethod
    def _same_transaction(transaction: Transaction, state: State, existing: Mapping[str, Any]) -> bool:
        if _attribute(existing, "item_type") != _TRANSACTION:
            raise TransactionConflict(f"{transaction.id} is already used by a post or void")
        was_pending = existing["state"]["S"] != "posted"
        if _transaction_from_item(existing) != transaction or was_pending != (state == "pending"):
            raise TransactionConflict(f"transaction {transaction.id} was recorded before with other content")
        return False

    # Reading

    def _get(self, key: Mapping[str, Any]) -> dict[str, Any] | None:
        response = self._dynamodb.get_item(TableName=self._table, Key=dict(key), ConsistentRead=True)
        item: dict[str, Any] | None = response.get("Item")
        return item

    def balance(self, account: Account) -> Money:
        """Posted balance, debit positive."""
        return Money(_fen(self._get(_balance_key(account)), "posted"))

    def pending_balance(self, account: Account) -> Money:
        """Amount held by open pending transfers, debit positive."""
        return Money(_fen(self._get(_balance_key(account)), "pending"))

    def transaction(self, transaction_id: str) -> Transaction | None:
        """A posted or pending transaction by id (None for an unknown id or the id of a post or void)."""
        item = self._get(_tx_key(transaction_id))
        if item is None or _attribute(item, "item_type") != _TRANSACTION:
            return None
        return _transaction_from_item(item)

    def is_pending(self, transaction_id: str) -> bool:
        """True while a reserved transfer is neither posted nor voided."""
        item = self._get(_tx_key(transaction_id))
        return (
            item is not None
            and _attribute(item, "item_type") == _TRANSACTION
            and _attribute(item, "state") == ("pending")
        )

    # Verifying (reconciliation jobs, never a request path: these read the whole table)

    def _scan(self, sort_key: str) -> Iterator[dict[str, Any]]:
        arguments: dict[str, Any] = {
            "TableName": self._table,
            "ConsistentRead": True,
            "FilterExpression": "sk = :sk",
            "ExpressionAttributeValues": {":sk": _s(sort_key)},
        }
        while True:
            page = self._dynamodb.scan(**arguments)
            yield from page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                return
            arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def journal(self) -> list[Entry]:
        """The journal as the stored transactions imply it: each transaction, and its post or void if resolved."""
        return _journal_of(list(self._scan(_TX_SK)))

    def rebuild_balances(self, accounts: Iterable[Account] | None = None) -> Balances:
        """Balances replayed from the stored transactions alone (all accounts, or only those named)."""
        return _only(replay(self.journal()), accounts)

    def _balance_items(self) -> dict[Account, dict[str, Any]]:
        return {Account.parse(item["account"]["S"]): item for item in self._scan(_BALANCE_SK)}

    def stored_balances(self, accounts: Iterable[Account] | None = None) -> Balances:
        """The running balances as stored (all accounts, or only those named)."""
        return _only(_balances_of(self._balance_items()), accounts)

    def verify_balances(self, accounts: Iterable[Account] | None = None) -> list[Account]:
        """Accounts whose stored balances differ from the ones rebuilt from the transactions, or whose stored
        ``net`` is not posted + pending; empty when the ledger is sound (all accounts, or only those named)."""
        _, differing = self.audit_balances(accounts)
        return differing

    def audit_balances(self, accounts: Iterable[Account] | None = None) -> tuple[Balances, list[Account]]:
        """The stored balances and :meth:`verify_balances`' answer, both from the same read of the balances.

        Balances and transactions are read by separate scans, and writers do not stop for a report: a transaction
        committed between the scans shows in one and not the other, a difference that is not one. So the
        transactions are read just before and just after the balances. Each transaction commits with its balance
        updates in one TransactWriteItems, so a sound account's stored balance is what one of the two reads
        replays to, unless several writes to it landed while the balances were read; an account counts as
        differing only when it matches neither. While any does and the two reads disagree (writers were busy),
        the three reads are repeated, up to ``QUIET_READ_ATTEMPTS`` times with a growing pause.
        """
        wanted = None if accounts is None else set(accounts)
        for attempt in range(QUIET_READ_ATTEMPTS):
            before = list(self._scan(_TX_SK))
            items = {a: item for a, item in self._balance_items().items() if wanted is None or a in wanted}
            after = list(self._scan(_TX_SK))
            quiet = _same_items(before, after)
            replays = [_only(replay(_journal_of(read)), wanted) for read in ((before,) if quiet else (before, after))]
            differing = _differing(items, replays)
            if not differing or quiet or attempt == QUIET_READ_ATTEMPTS - 1:
                break
            time.sleep(QUIET_READ_PAUSE * 2**attempt)
        return _balances_of(items), differing

    def trial_balance(self) -> Money:
        """Sum of every stored posted balance: zero in a sound ledger."""
        return Money(sum(self.stored_balances().posted.values()))


def _journal_of(items: list[dict[str, Any]]) -> list[Entry]:
    """The journal the stored transaction items imply: each transaction, and its post or void if resolved."""
    entries: list[Entry] = []
    for item in items:
        if item["item_type"]["S"] != _TRANSACTION:
            continue
        transaction = _transaction_from_item(item)
        state = item["state"]["S"]
        if state == "posted":
            entries.append(Entry("posted", transaction))
            continue
        entries.append(Entry("pending", transaction))
        if state == "posted_from_pending":
            entries.append(Entry("post_pending", transaction, item["resolved_by"]["S"]))
        elif state == "voided":
            entries.append(Entry("void_pending", transaction, item["resolved_by"]["S"]))
    return entries


def _differing(items: Mapping[Account, Mapping[str, Any]], replays: list[Balances]) -> list[Account]:
    """Accounts whose stored posted and pending balances are those of none of the replays, or whose stored
    ``net`` is not posted + pending."""
    accounts = {*items}
    for rebuilt in replays:
        accounts.update(rebuilt.posted, rebuilt.pending)
    differing = []
    for account in accounts:
        item = items.get(account)
        posted, pending, net = _fen(item, "posted"), _fen(item, "pending"), _fen(item, "net")
        matches = any(
            (posted, pending) == (rebuilt.posted.get(account, 0), rebuilt.pending.get(account, 0))
            for rebuilt in replays
        )
        if not matches or net != posted + pending:
            differing.append(account)
    return sorted(differing, key=str)


def _same_items(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> bool:
    """Whether two reads of the transaction items found the same items in the same states."""

    def by_key(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        return {item["pk"]["S"]: item for item in items}

    return by_key(before) == by_key(after)


def _balances_of(items: Mapping[Account, Mapping[str, Any]]) -> Balances:
    posted = {account: _fen(item, "posted") for account, item in items.items()}
    pending = {account: _fen(item, "pending") for account, item in items.items()}
    return Balances.of(posted, pending)


def _only(balances: Balances, accounts: Iterable[Account] | None) -> Balances:
    if accounts is None:
        return balances
    wanted = set(accounts)
    return Balances.of(
        {a: f for a, f in balances.posted.items() if a in wanted},
        {a: f for a, f in balances.pending.items() if a in wanted},
    )
