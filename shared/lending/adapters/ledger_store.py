"""The ledger's write path in DynamoDB (LedgerTable), with the rules of the in-memory :class:`lending.ledger.Ledger`.

The items are :mod:`lending.adapters.ledger_items`'; reading the whole table back to check the books is
:mod:`lending.adapters.ledger_verification`'s.

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
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from lending.adapters.attribute_values import from_item, to_item
from lending.adapters.ledger_items import (
    RESOLUTION,
    State,
    balance_key,
    fen,
    is_transaction,
    text,
    transaction_item,
    transaction_of,
    tx_key,
)
from lending.errors import (
    BalanceBoundExceeded,
    ConcurrentChange,
    LedgerContention,
    LendingError,
    PendingTransferError,
    TransactionConflict,
)
from lending.ledger import Account, Transaction
from lending.money import Money

#: DynamoDB's limit on the items of one TransactWriteItems.
MAX_TRANSACT_ITEMS = 100
#: DynamoDB's limit on the keys of one BatchGetItem.
MAX_BATCH_GET = 100
#: How often a write cancelled by DynamoDB for a concurrent transaction on the same items is tried again.
CONTENTION_ATTEMPTS = 6

Resolution = Literal["post_pending", "void_pending"]
_RESOLVED_STATE: Mapping[Resolution, State] = {"post_pending": "posted_from_pending", "void_pending": "voided"}
#: The states of a transaction that was reserved (pending, or resolved since).
_TWO_PHASE_STATES = frozenset({"pending", "posted_from_pending", "voided"})

# Every balance update moves posted, pending and their sum (net) together, atomically, in one update of the item.
_BALANCE_NAMES = {"#account": "account", "#posted": "posted", "#pending": "pending", "#net": "net"}
# ADD on a number attribute starts it from zero when the item or attribute is new.
_BALANCE_UPDATE = "SET #account = :account ADD #posted :posted, #pending :pending, #net :net"


def _deltas(transaction: Transaction) -> dict[Account, int]:
    """Each account's change in fen (postings on one account merged: a transaction may touch an item only once)."""
    deltas: dict[Account, int] = {}
    for posting in transaction.postings:
        deltas[posting.account] = deltas.get(posting.account, 0) + posting.amount.fen
    return deltas


def _codes(reasons: list[dict[str, Any]]) -> list[str]:
    return [str(reason.get("Code", "None")) for reason in reasons]


def _failed(reasons: list[dict[str, Any]], index: int) -> bool:
    """True when the item at ``index`` failed its condition."""
    return index < len(reasons) and reasons[index].get("Code") == "ConditionalCheckFailed"


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
                    "Item": transaction_item(transaction, state),
                    # Protects the transaction id: it is applied once; a retry or a racing copy fails here and is
                    # answered by comparing content (same: no-op; other: conflict).
                    "ConditionExpression": "attribute_not_exists(pk)",
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            }
        ]
        accounts = list(deltas)
        for account in accounts:
            change = deltas[account]
            posted, pending = (change, 0) if state == "posted" else (0, change)
            items.append({"Update": self._balance_update(account, posted, pending, bounds.get(account))})
        items.extend(dict(item) for item in also)
        reasons = self._transact(items)
        if reasons is None:
            return True
        first_also = 1 + len(accounts)
        changed = [index - first_also for index in range(first_also, len(items)) if _failed(reasons, index)]
        if changed:
            raise ConcurrentChange(f"{transaction.id}: a record written with it was changed first", changed)
        if _failed(reasons, 0):
            return self._same_transaction(transaction, state, self._existing(reasons, 0, transaction.id))
        refused = [account for index, account in enumerate(accounts, 1) if _failed(reasons, index)]
        if not refused:
            raise LendingError(f"{transaction.id}: DynamoDB cancelled the write: {_codes(reasons)}")
        described = ", ".join(f"{account} (bound {bounds[account]})" for account in refused)
        raise BalanceBoundExceeded(f"{transaction.id} would take {described} above its bound")

    def _balance_update(self, account: Account, posted: int, pending: int, bound: Money | None) -> dict[str, Any]:
        values: dict[str, Any] = {
            ":account": str(account),
            ":posted": posted,
            ":pending": pending,
            ":net": posted + pending,
        }
        update: dict[str, Any] = {
            "TableName": self._table,
            "Key": balance_key(account),
            "UpdateExpression": _BALANCE_UPDATE,
            "ExpressionAttributeNames": dict(_BALANCE_NAMES),
        }
        if bound is not None:
            # Credit balance after the write = -(net + change) <= bound  <=>  net >= -bound - change (the floor).
            floor = -bound.fen - (posted + pending)
            values[":floor"] = floor
            if floor <= 0:
                # Protects the bound (quota, credit limit) against every concurrent writer: the balance the write
                # lands on stays within it. An account never written stands at zero, which the floor admits.
                update["ConditionExpression"] = "attribute_not_exists(#net) OR #net >= :floor"
            else:
                # Protects the bound as above; here even a first write from zero would pass it, so the account
                # must already hold enough debit balance (a missing item fails the comparison).
                update["ConditionExpression"] = "#net >= :floor"
        update["ExpressionAttributeValues"] = to_item(values)
        return update

    def _resolve(self, pending_id: str, resolution_id: str, kind: Resolution) -> bool:
        # Postings never change once written, so reading them before the write is safe; the write's conditions
        # decide whether the transfer is still pending.
        pending_record = self._get(tx_key(pending_id))
        if pending_record is not None and pending_id == resolution_id:
            raise TransactionConflict(f"{resolution_id} is already the id of a transaction")
        if not is_transaction(pending_record) or text(pending_record, "state") not in _TWO_PHASE_STATES:
            if self._get(tx_key(resolution_id)) is not None:
                raise TransactionConflict(f"{resolution_id} is already the id of a transaction or resolution")
            raise PendingTransferError(f"no pending transfer {pending_id}")
        pending = transaction_of(pending_record)
        resolution_item = {
            **tx_key(resolution_id),
            **to_item({"item_type": RESOLUTION, "id": resolution_id, "resolution": kind, "pending_id": pending_id}),
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
                    "Key": tx_key(pending_id),
                    "UpdateExpression": "SET #state = :resolved, resolved_by = :resolution_id",
                    # Protects the pending transfer from being resolved twice: a post racing a void, or a second
                    # post under another id, finds it no longer pending.
                    "ConditionExpression": "#state = :pending",
                    "ExpressionAttributeNames": {"#state": "state"},
                    "ExpressionAttributeValues": to_item(
                        {":resolved": _RESOLVED_STATE[kind], ":resolution_id": resolution_id, ":pending": "pending"}
                    ),
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            },
        ]
        deltas = _deltas(pending)
        if 2 + len(deltas) > MAX_TRANSACT_ITEMS:
            raise ValueError(f"{pending_id}: {len(deltas)} accounts exceed one DynamoDB transaction")
        for account, change in deltas.items():
            # A post moves the hold to posted (net unchanged); a void releases it. Neither can breach a bound that
            # the reservation met, so these updates carry no condition.
            posted = change if kind == "post_pending" else 0
            items.append({"Update": self._balance_update(account, posted, -change, None)})
        reasons = self._transact(items)
        if reasons is None:
            return True
        if _failed(reasons, 0):
            earlier = self._existing(reasons, 0, resolution_id)
            if text(earlier, "item_type") != RESOLUTION:
                raise TransactionConflict(f"{resolution_id} is already the id of a transaction")
            used_for = (text(earlier, "pending_id"), text(earlier, "resolution"))
            if used_for != (pending_id, kind):
                raise TransactionConflict(f"{resolution_id} was used before for {used_for[1]} of {used_for[0]}")
            return False
        if _failed(reasons, 1):
            resolved_by = text(self._existing(reasons, 1, pending_id), "resolved_by") or "?"
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
        """The record whose condition failed: from the cancellation when DynamoDB returned it, else read again."""
        returned: dict[str, Any] | None = reasons[index].get("Item")
        record = from_item(returned) if returned else self._get(tx_key(transaction_id))
        if record is None:
            raise LendingError(f"{transaction_id}: a condition failed on an item that cannot be read")
        return record

    @staticmethod
    def _same_transaction(transaction: Transaction, state: State, existing: Mapping[str, Any]) -> bool:
        if not is_transaction(existing):
            raise TransactionConflict(f"{transaction.id} is already used by a post or void")
        was_pending = existing["state"] != "posted"
        if transaction_of(existing) != transaction or was_pending != (state == "pending"):
            raise TransactionConflict(f"transaction {transaction.id} was recorded before with other content")
        return False

    # Reading one item (whole-table reads are lending.adapters.ledger_verification's)

    def _get(self, key: Mapping[str, Any]) -> dict[str, Any] | None:
        response = self._dynamodb.get_item(TableName=self._table, Key=dict(key), ConsistentRead=True)
        item: dict[str, Any] | None = response.get("Item")
        return None if item is None else from_item(item)

    def balance(self, account: Account) -> Money:
        """Posted balance, debit positive."""
        return Money(fen(self._get(balance_key(account)), "posted"))

    def pending_balance(self, account: Account) -> Money:
        """Amount held by open pending transfers, debit positive."""
        return Money(fen(self._get(balance_key(account)), "pending"))

    def balances(self, accounts: Sequence[Account]) -> dict[Account, tuple[Money, Money]]:
        """Posted and pending balances of a few named accounts (debit positive), in one BatchGetItem (and a retry
        of any keys DynamoDB left unprocessed); an account never written stands at zero. At most 100 accounts."""
        if len(accounts) > MAX_BATCH_GET:
            raise ValueError(f"{len(accounts)} accounts exceed one BatchGetItem ({MAX_BATCH_GET})")
        found: dict[Account, tuple[Money, Money]] = dict.fromkeys(accounts, (Money.ZERO, Money.ZERO))
        keys = [balance_key(account) for account in found]
        wanted: dict[str, Any] = {self._table: {"Keys": keys, "ConsistentRead": True}} if keys else {}
        for attempt in range(CONTENTION_ATTEMPTS + 1):
            if not wanted:
                return found
            if attempt == CONTENTION_ATTEMPTS:
                break
            if attempt:
                time.sleep(random.uniform(0, 0.02 * 2**attempt))
            answer = self._dynamodb.batch_get_item(RequestItems=wanted)
            for item in answer.get("Responses", {}).get(self._table, []):
                record = from_item(item)
                balances = (Money(fen(record, "posted")), Money(fen(record, "pending")))
                found[Account.parse(text(record, "account"))] = balances
            wanted = answer.get("UnprocessedKeys") or {}
        raise LedgerContention("DynamoDB kept leaving balance reads unprocessed; try again")

    def transaction(self, transaction_id: str) -> Transaction | None:
        """A posted or pending transaction by id (None for an unknown id or the id of a post or void)."""
        record = self._get(tx_key(transaction_id))
        if record is None or not is_transaction(record):
            return None
        return transaction_of(record)

    def is_pending(self, transaction_id: str) -> bool:
        """True while a reserved transfer is neither posted nor voided."""
        record = self._get(tx_key(transaction_id))
        return is_transaction(record) and text(record, "state") == "pending"
