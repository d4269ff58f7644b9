"""The ledger's items in DynamoDB (LedgerTable): their keys, and a transaction to and from its item.

Items (keys as template.yaml describes them):

- ``pk=TX#<id>, sk=TX``: a transaction's canonical content (``kind``, ``effective_on``, ``postings`` as
  ``[account, fen]`` pairs, ``memo``) and its ``state``: ``posted``, ``pending``, ``posted_from_pending`` or
  ``voided`` (with ``resolved_by``, the id of the post or void).
- ``pk=TX#<id>, sk=TX`` with ``item_type=resolution``: the post or void of a pending transfer under its own id, so
  transaction ids and resolution ids share one namespace, as in the in-memory ledger.
- ``pk=ACCOUNT#<account>, sk=BALANCE``: ``posted`` and ``pending`` balances, and ``net`` (their sum), in integer
  fen, debit positive. ``net`` exists because a condition expression cannot add two attributes.

The account codes and the posting pairs are the books' stored names: renaming one orphans every balance under it.
Records here are the items decoded by :mod:`lending.adapters.attribute_values` (numbers as ``Decimal``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, Literal, TypeIs

from lending.adapters.attribute_values import to_item
from lending.ledger import Account, Posting, Transaction
from lending.money import Money

TX_SK = "TX"
BALANCE_SK = "BALANCE"
TRANSACTION = "transaction"
RESOLUTION = "resolution"

State = Literal["posted", "pending", "posted_from_pending", "voided"]


def tx_key(transaction_id: str) -> dict[str, Any]:
    """The key of a transaction's (or a resolution's) item, as attribute values."""
    return to_item({"pk": f"TX#{transaction_id}", "sk": TX_SK})


def balance_key(account: Account) -> dict[str, Any]:
    """The key of an account's balance item, as attribute values."""
    return to_item({"pk": f"ACCOUNT#{account}", "sk": BALANCE_SK})


def transaction_item(transaction: Transaction, state: State) -> dict[str, Any]:
    """A transaction's item in ``state``, as attribute values."""
    return {
        **tx_key(transaction.id),
        **to_item(
            {
                "item_type": TRANSACTION,
                "id": transaction.id,
                "kind": transaction.kind,
                "effective_on": transaction.effective_on.isoformat(),
                "postings": [[str(p.account), p.amount.fen] for p in transaction.postings],
                "memo": transaction.memo,
                "state": state,
            }
        ),
    }


def transaction_of(record: Mapping[str, Any]) -> Transaction:
    """The transaction a stored transaction record holds."""
    postings = tuple(Posting(Account.parse(account), Money(int(fen))) for account, fen in record["postings"])
    return Transaction(
        record["id"], record["kind"], date.fromisoformat(record["effective_on"]), postings, record.get("memo", "")
    )


def text(record: Mapping[str, Any] | None, name: str) -> str:
    """A string attribute of a record, or "" when the record or the attribute is absent."""
    return str((record or {}).get(name, ""))


def fen(record: Mapping[str, Any] | None, name: str) -> int:
    """A balance attribute of a record in fen, 0 when the record or the attribute is absent."""
    return int((record or {}).get(name, 0))


def is_transaction(record: Mapping[str, Any] | None) -> TypeIs[Mapping[str, Any]]:
    """Whether a record is a transaction's (not a resolution's, not missing)."""
    return text(record, "item_type") == TRANSACTION
