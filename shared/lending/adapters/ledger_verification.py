"""Checking the books in LedgerTable: the journal the stored transactions imply, balances rebuilt from it, and the
stored running balances compared with them.

Reconciliation jobs only, never a request path: these read the whole table. The items are
:mod:`lending.adapters.ledger_items`'; :mod:`lending.adapters.ledger_store` writes them.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from lending.adapters.attribute_values import from_item, to_attribute
from lending.adapters.ledger_items import BALANCE_SK, TX_SK, fen, is_transaction, transaction_of
from lending.ledger import Account, Balances, Entry, replay
from lending.money import Money

#: How often a verification reads the table, at most, while an account differs and writers were busy between its
#: reads (see audit_balances), and the first pause between reads in seconds (doubling: 0.1 + ... + 3.2 s at most).
QUIET_READ_ATTEMPTS = 7
QUIET_READ_PAUSE = 0.1


class LedgerVerification:
    """Whole-table reads of LedgerTable that check its running balances against its transactions."""

    def __init__(self, table_name: str, client: Any) -> None:
        self._table = table_name
        self._dynamodb = client

    def _scan(self, sort_key: str) -> Iterator[dict[str, Any]]:
        arguments: dict[str, Any] = {
            "TableName": self._table,
            "ConsistentRead": True,
            "FilterExpression": "sk = :sk",
            "ExpressionAttributeValues": {":sk": to_attribute(sort_key)},
        }
        while True:
            page = self._dynamodb.scan(**arguments)
            yield from (from_item(item) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return
            arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def journal(self) -> list[Entry]:
        """The journal as the stored transactions imply it: each transaction, and its post or void if resolved."""
        return _journal_of(list(self._scan(TX_SK)))

    def rebuild_balances(self, accounts: Iterable[Account] | None = None) -> Balances:
        """Balances replayed from the stored transactions alone (all accounts, or only those named)."""
        return _only(replay(self.journal()), accounts)

    def _balance_items(self) -> dict[Account, dict[str, Any]]:
        return {Account.parse(record["account"]): record for record in self._scan(BALANCE_SK)}

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
            before = list(self._scan(TX_SK))
            items = {a: item for a, item in self._balance_items().items() if wanted is None or a in wanted}
            after = list(self._scan(TX_SK))
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


def _journal_of(records: list[dict[str, Any]]) -> list[Entry]:
    """The journal the stored transaction records imply: each transaction, and its post or void if resolved."""
    entries: list[Entry] = []
    for record in records:
        if not is_transaction(record):
            continue
        transaction = transaction_of(record)
        state = record["state"]
        if state == "posted":
            entries.append(Entry("posted", transaction))
            continue
        entries.append(Entry("pending", transaction))
        if state == "posted_from_pending":
            entries.append(Entry("post_pending", transaction, record["resolved_by"]))
        elif state == "voided":
            entries.append(Entry("void_pending", transaction, record["resolved_by"]))
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
        posted, pending, net = fen(item, "posted"), fen(item, "pending"), fen(item, "net")
        matches = any(
            (posted, pending) == (rebuilt.posted.get(account, 0), rebuilt.pending.get(account, 0))
            for rebuilt in replays
        )
        if not matches or net != posted + pending:
            differing.append(account)
    return sorted(differing, key=str)


def _same_items(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> bool:
    """Whether two reads of the transaction items found the same items in the same states."""

    def by_key(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        return {record["pk"]: record for record in records}

    return by_key(before) == by_key(after)


def _balances_of(items: Mapping[Account, Mapping[str, Any]]) -> Balances:
    posted = {account: fen(item, "posted") for account, item in items.items()}
    pending = {account: fen(item, "pending") for account, item in items.items()}
    return Balances.of(posted, pending)


def _only(balances: Balances, accounts: Iterable[Account] | None) -> Balances:
    if accounts is None:
        return balances
    wanted = set(accounts)
    return Balances.of(
        {a: f for a, f in balances.posted.items() if a in wanted},
        {a: f for a, f in balances.pending.items() if a in wanted},
    )
