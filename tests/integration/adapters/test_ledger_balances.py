"""A batch read of a few ledger balances (the operations API's funding): one BatchGetItem, unprocessed keys read
again, an account never written at zero."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from lending import bookkeeping
from lending.adapters.ledger_store import DynamoLedgerStore
from lending.errors import LedgerContention
from lending.ledger import Transaction
from lending.money import Money

OWN = bookkeeping.funding_source("own_capital")
BANK_A = bookkeeping.funding_source("partner:bank_a")
BANK_B = bookkeeping.funding_source("partner:bank_b")


def test_posted_and_pending_balances_of_named_accounts_in_one_batch_read(dynamodb: Any, ledger_table: str) -> None:
    # Given own capital lent 3,000.00 and bank A holding 7,000.00 for a payout on its way; bank B never used
    store = DynamoLedgerStore(ledger_table, dynamodb)
    cash = bookkeeping.SETTLEMENT_CASH
    store.record(Transaction.transfer("T-1", "funding", date(2026, 3, 1), cash, OWN, Money.of("3000.00")))
    store.reserve(Transaction.transfer("T-2", "funding", date(2026, 3, 1), cash, BANK_A, Money.of("7000.00")))
    calls: list[str] = []
    dynamodb.meta.events.register("before-call.dynamodb.*", lambda model, **_: calls.append(model.name))

    # When the three sources' balances are read
    found = store.balances([OWN, BANK_A, BANK_B])

    # Then in one call, credit balances below zero, the unused source at zero
    assert calls == ["BatchGetItem"]
    assert found == {
        OWN: (Money.of("-3000.00"), Money.ZERO),
        BANK_A: (Money.ZERO, Money.of("-7000.00")),
        BANK_B: (Money.ZERO, Money.ZERO),
    }


class _Unhurried:
    """A DynamoDB client that leaves every key unprocessed the first ``times`` reads, as DynamoDB may."""

    def __init__(self, inner: Any, times: int) -> None:
        self.inner, self.times, self.reads = inner, times, 0

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:  # noqa: N803 (boto3's name)
        self.reads += 1
        if self.reads <= self.times:
            return {"Responses": {}, "UnprocessedKeys": RequestItems}
        answer: dict[str, Any] = self.inner.batch_get_item(RequestItems=RequestItems)
        return answer


def test_keys_left_unprocessed_are_read_again_and_a_read_that_never_ends_is_refused(
    dynamodb: Any, ledger_table: str
) -> None:
    writer = DynamoLedgerStore(ledger_table, dynamodb)
    cash = bookkeeping.SETTLEMENT_CASH
    writer.record(Transaction.transfer("T-1", "funding", date(2026, 3, 1), cash, OWN, Money.of("10.00")))
    patient = _Unhurried(dynamodb, times=2)
    assert DynamoLedgerStore(ledger_table, patient).balances([OWN])[OWN] == (Money.of("-10.00"), Money.ZERO)
    assert patient.reads == 3
    with pytest.raises(LedgerContention):
        DynamoLedgerStore(ledger_table, _Unhurried(dynamodb, times=100)).balances([OWN])
