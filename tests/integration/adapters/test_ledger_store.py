"""DynamoLedgerStore against moto: the in-memory Ledger's rules, one TransactWriteItems per change, balance bounds,
and concurrent writers; LedgerVerification checks the books it wrote."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lending import bookkeeping
from lending.adapters.ledger_store import BalanceBoundExceeded, DynamoLedgerStore
from lending.adapters.ledger_verification import LedgerVerification
from lending.errors import LendingError, PendingTransferError, TransactionConflict
from lending.ledger import Account, AccountCode, Ledger, Posting, Transaction
from lending.money import Money

ON = date(2026, 3, 1)
CASH = bookkeeping.SETTLEMENT_CASH
FEES = bookkeeping.FEE_INCOME
OWN = bookkeeping.funding_source("own_capital")
PARTNER = bookkeeping.funding_source("partner:bank_a")
LOAN = Account(AccountCode.PRINCIPAL_RECEIVABLE, "L-1")
THREADS = 8


@pytest.fixture
def store(dynamodb: Any, ledger_table: str) -> DynamoLedgerStore:
    return DynamoLedgerStore(ledger_table, dynamodb)


@pytest.fixture
def books(dynamodb: Any, ledger_table: str) -> LedgerVerification:
    return LedgerVerification(ledger_table, dynamodb)


def reservation(tx_id: str, yuan: str, source: Account = PARTNER) -> Transaction:
    return Transaction.transfer(tx_id, "funding_reservation", ON, CASH, source, Money.of(yuan))


def outcome(operation: Callable[[], bool]) -> bool | type[LendingError]:
    """What an operation answered: its result, or the class of the domain error it raised."""
    try:
        return operation()
    except LendingError as exc:
        return type(exc)


class Twin:
    """The store and an in-memory Ledger fed the same operations: every answer and every balance must agree."""

    def __init__(self, store: DynamoLedgerStore, books: LedgerVerification) -> None:
        self.store = store
        self.books = books
        self.memory = Ledger()

    def do(self, operation: str, *arguments: Any) -> bool | type[LendingError]:
        expected = outcome(lambda: getattr(self.memory, operation)(*arguments))
        actual = outcome(lambda: getattr(self.store, operation)(*arguments))
        assert actual == expected, (operation, arguments)
        return actual

    def assert_same_books(self) -> None:
        for entry in self.memory.journal:
            for posting in entry.transaction.postings:
                assert self.store.balance(posting.account) == self.memory.balance(posting.account)
                assert self.store.pending_balance(posting.account) == self.memory.pending_balance(posting.account)
        assert self.books.stored_balances() == self.memory.balances()
        assert self.books.rebuild_balances() == self.memory.rebuild()
        assert self.books.verify_balances() == []
        assert self.books.trial_balance() == self.memory.trial_balance() == Money.ZERO


def calls_of(dynamodb: Any) -> list[str]:
    """A live list of the DynamoDB operations the client makes from now on."""
    made: list[str] = []
    dynamodb.meta.events.register("before-call.dynamodb", lambda model, **_: made.append(model.name))
    return made


# Persisting


def test_a_balanced_transaction_is_stored_with_its_postings_in_one_transact_write(
    store: DynamoLedgerStore, dynamodb: Any, ledger_table: str, books: LedgerVerification
) -> None:
    # Given a disbursement with three postings
    tx = bookkeeping.disbursement("L-1/disbursement", "L-1", Money.of("10000.00"), Money.of("100.00"), ON)
    calls = calls_of(dynamodb)

    # When it is recorded
    assert store.record(tx) is True

    # Then one TransactWriteItems stored the transaction and its balances
    assert calls == ["TransactWriteItems"]
    item = dynamodb.get_item(TableName=ledger_table, Key={"pk": {"S": "TX#L-1/disbursement"}, "sk": {"S": "TX"}})
    assert item["Item"]["state"] == {"S": "posted"}
    assert item["Item"]["postings"]["L"][0] == {"L": [{"S": "principal_receivable:L-1"}, {"N": "1000000"}]}
    assert store.transaction(tx.id) == tx
    assert store.balance(LOAN) == Money.of("10000.00")
    assert store.balance(CASH) == Money.of("-9900.00")
    assert store.balance(FEES) == Money.of("-100.00")
    assert books.trial_balance() == Money.ZERO
    assert books.verify_balances() == []
    assert store.transaction("unknown") is None


def test_the_same_id_with_the_same_content_is_a_no_op(store: DynamoLedgerStore, books: LedgerVerification) -> None:
    # Given a recorded transfer
    assert store.record(reservation("t1", "500.00")) is True

    # When the same transfer is recorded again (a retried step), then nothing changes
    assert store.record(reservation("t1", "500.00")) is False
    assert store.balance(CASH) == Money.of("500.00")
    assert books.verify_balances() == []


def test_the_same_id_with_other_content_is_a_conflict_and_changes_nothing(
    store: DynamoLedgerStore, books: LedgerVerification
) -> None:
    # Given a recorded transfer
    twin = Twin(store, books)
    twin.do("record", reservation("t1", "500.00"))

    # When the id comes back with another amount, memo, or as a reservation, then each is a conflict
    assert twin.do("record", reservation("t1", "500.01")) is TransactionConflict
    changed_memo = Transaction.transfer("t1", "funding_reservation", ON, CASH, PARTNER, Money.of("500.00"), memo="x")
    assert twin.do("record", changed_memo) is TransactionConflict
    assert twin.do("reserve", reservation("t1", "500.00")) is TransactionConflict
    twin.assert_same_books()


def test_postings_on_one_account_are_merged_into_one_balance_update(
    store: DynamoLedgerStore, books: LedgerVerification
) -> None:
    # Given a transaction built by hand with two postings on the same account
    tx = Transaction("t1", "x", ON, (Posting(CASH, Money(300)), Posting(CASH, Money(200)), Posting(OWN, Money(-500))))

    # When it is recorded, then the balance holds both and the content reads back as written
    twin = Twin(store, books)
    assert twin.do("record", tx) is True
    assert store.transaction("t1") == tx
    twin.assert_same_books()


def test_a_transaction_too_large_for_one_dynamodb_transaction_is_refused_before_writing(
    store: DynamoLedgerStore,
) -> None:
    debits = [(Account(AccountCode.PRINCIPAL_RECEIVABLE, f"L-{n}"), Money(1)) for n in range(99)]
    tx = Transaction.build("big", "x", ON, debits, [(CASH, Money(99))])
    with pytest.raises(ValueError, match="exceed one DynamoDB transaction"):
        store.record(tx)
    assert store.transaction("big") is None


# Two-phase transfers, compared with the in-memory ledger


def test_reserve_then_post_moves_pending_to_posted_as_the_in_memory_ledger_does(
    store: DynamoLedgerStore, dynamodb: Any, books: LedgerVerification
) -> None:
    twin = Twin(store, books)
    shares = {"partner:bank_a": Money.of("7000.00"), "own_capital": Money.of("3000.00")}
    tx = bookkeeping.funding_reservation("A-1/funding", "A-1", shares, ON)

    assert twin.do("reserve", tx) is True
    assert store.is_pending("A-1/funding")
    assert store.pending_balance(PARTNER) == Money.of("-7000.00")
    twin.assert_same_books()

    calls = calls_of(dynamodb)
    assert twin.do("post_pending", "A-1/funding", "A-1/funding/post") is True
    assert calls == ["GetItem", "TransactWriteItems"]  # the pending postings, then one atomic write
    assert not store.is_pending("A-1/funding")
    assert store.balance(PARTNER) == Money.of("-7000.00")
    assert store.pending_balance(PARTNER) == Money.ZERO
    twin.assert_same_books()


def test_reserve_then_void_releases_the_hold_as_the_in_memory_ledger_does(
    store: DynamoLedgerStore, books: LedgerVerification
) -> None:
    twin = Twin(store, books)
    twin.do("reserve", reservation("r1", "700.00"))
    assert twin.do("void_pending", "r1", "r1/void") is True
    assert store.pending_balance(PARTNER) == Money.ZERO
    assert store.balance(PARTNER) == Money.ZERO
    twin.assert_same_books()


def test_a_pending_transfer_is_resolved_exactly_once(store: DynamoLedgerStore, books: LedgerVerification) -> None:
    twin = Twin(store, books)
    twin.do("reserve", reservation("r1", "700.00"))
    twin.do("reserve", reservation("r2", "100.00"))
    twin.do("record", reservation("t1", "50.00"))

    assert twin.do("post_pending", "r1", "r1/post") is True
    assert twin.do("post_pending", "r1", "r1/post") is False  # a retried post is a no-op
    assert twin.do("void_pending", "r1", "r1/void") is PendingTransferError  # resolved once, for good
    assert twin.do("post_pending", "r1", "r1/post-again") is PendingTransferError
    assert twin.do("void_pending", "r1", "r1/post") is TransactionConflict  # the id meant a post of r1
    assert twin.do("post_pending", "r2", "r1/post") is TransactionConflict  # ... and of r1 only
    assert twin.do("post_pending", "r2", "t1") is TransactionConflict  # a transaction's id
    assert twin.do("post_pending", "r2", "r2") is TransactionConflict  # its own id
    assert twin.do("record", reservation("r1/post", "1.00")) is TransactionConflict  # a resolution's id
    assert twin.do("post_pending", "t1", "t1/post") is PendingTransferError  # posted, never pending
    assert twin.do("void_pending", "nope", "nope/void") is PendingTransferError
    assert twin.do("void_pending", "nope", "r1/post") is TransactionConflict
    assert twin.do("void_pending", "r2", "r2/void") is True
    assert twin.do("void_pending", "r2", "r2/void") is False
    assert twin.do("reserve", reservation("r1", "700.00")) is False  # the reservation itself, retried
    twin.assert_same_books()


_IDS = st.sampled_from(["t1", "t2", "t3"])
_RESOLUTION_IDS = st.sampled_from(["t1/post", "t2/void", "x", "t3"])
_ACCOUNTS = st.sampled_from([CASH, OWN, PARTNER, LOAN])
_TRANSACTIONS = st.builds(
    lambda tx_id, pair, fen: Transaction.transfer(tx_id, "x", ON, pair[0], pair[1], Money(fen)),
    _IDS,
    st.tuples(_ACCOUNTS, _ACCOUNTS).filter(lambda pair: pair[0] != pair[1]),
    st.integers(1, 3),
)
_OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.sampled_from(["record", "reserve"]), _TRANSACTIONS),
        st.tuples(st.sampled_from(["post_pending", "void_pending"]), _IDS, _RESOLUTION_IDS),
    ),
    max_size=7,
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=_OPERATIONS)
def test_any_sequence_of_operations_answers_and_balances_as_the_in_memory_ledger(
    dynamodb: Any, ledger_table: str, fresh_table: Callable[[str], None], operations: list[tuple[Any, ...]]
) -> None:
    fresh_table("LedgerTable")  # each example starts from empty books
    twin = Twin(DynamoLedgerStore(ledger_table, dynamodb), LedgerVerification(ledger_table, dynamodb))
    for name, *arguments in operations:
        twin.do(name, *arguments)
    twin.assert_same_books()


# Balance bounds


def test_a_reservation_over_the_bound_is_refused_and_changes_nothing(
    store: DynamoLedgerStore, books: LedgerVerification
) -> None:
    # Given a partner line with a quota of 1,000.00, of which 600.00 is held
    quota = {PARTNER: Money.of("1000.00")}
    assert store.reserve(reservation("r1", "600.00"), bounds=quota) is True

    # When a reservation would take it to 1,000.01
    with pytest.raises(BalanceBoundExceeded, match=r"funding:partner:bank_a \(bound 1000.00\)") as refused:
        store.reserve(reservation("r2", "400.01"), bounds=quota)

    # Then it is refused with its code, and nothing was written
    assert refused.value.code == "balance_bound_exceeded"
    assert store.transaction("r2") is None
    assert store.pending_balance(PARTNER) == Money.of("-600.00")
    assert store.pending_balance(CASH) == Money.of("600.00")
    # ... while exactly the rest of the quota still fits, and a retry at the bound is a no-op, not a refusal
    assert store.reserve(reservation("r2", "400.00"), bounds=quota) is True
    assert store.reserve(reservation("r2", "400.00"), bounds=quota) is False
    assert books.verify_balances() == []


def test_the_bound_counts_posted_and_pending_together_and_applies_to_record(store: DynamoLedgerStore) -> None:
    # Given 600.00 posted and 300.00 held on a line limited to 1,000.00
    limit = {PARTNER: Money.of("1000.00")}
    store.record(reservation("p1", "600.00"), bounds=limit)
    store.reserve(reservation("r1", "300.00"), bounds=limit)

    # When 100.01 more is recorded, then the bound refuses it; 100.00 fits exactly
    with pytest.raises(BalanceBoundExceeded):
        store.record(reservation("p2", "100.01"), bounds=limit)
    assert store.record(reservation("p2", "100.00"), bounds=limit) is True

    # And posting or voiding a hold never counts against the bound twice
    assert store.post_pending("r1", "r1/post") is True
    assert store.balance(PARTNER) == Money.of("-1000.00")


def test_a_first_use_beyond_the_bound_is_refused(store: DynamoLedgerStore, books: LedgerVerification) -> None:
    with pytest.raises(BalanceBoundExceeded):
        store.reserve(reservation("r1", "50.01"), bounds={PARTNER: Money.of("50.00")})
    assert store.transaction("r1") is None
    assert books.stored_balances().pending == {}


def test_a_debit_on_a_bounded_account_may_bring_it_back_within_its_bound(store: DynamoLedgerStore) -> None:
    # Given a line drawn to 900.00 of 1,000.00
    store.record(reservation("p1", "900.00"), bounds={PARTNER: Money.of("1000.00")})
    # When 300.00 is repaid (a debit), then a new bound of 700.00 admits the result
    repaid = Transaction.transfer("p2", "repayment", ON, PARTNER, CASH, Money.of("300.00"))
    assert store.record(repaid, bounds={PARTNER: Money.of("700.00")}) is True
    with pytest.raises(BalanceBoundExceeded):
        store.record(reservation("p3", "0.01"), bounds={PARTNER: Money.of("600.00")})


def test_a_bound_must_name_an_account_the_transaction_posts_to(store: DynamoLedgerStore) -> None:
    with pytest.raises(ValueError, match="does not post to"):
        store.reserve(reservation("r1", "1.00"), bounds={OWN: Money.of("10.00")})


# Concurrency: each thread has its own boto3 client, all start together


def in_threads(new_client: Callable[[], Any], table: str, work: Callable[[DynamoLedgerStore, int], Any]) -> list[Any]:
    """Run ``work`` in THREADS threads released at once; each returns a result or the domain error it raised."""
    start = threading.Barrier(THREADS)
    stores = [DynamoLedgerStore(table, new_client()) for _ in range(THREADS)]

    def run(index: int) -> Any:
        store = stores[index]
        start.wait()
        try:
            return work(store, index)
        except LendingError as exc:
            return exc

    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(run, range(THREADS)))


def test_concurrent_reservations_never_take_the_account_over_its_bound(
    new_client: Callable[[], Any], store: DynamoLedgerStore, ledger_table: str, books: LedgerVerification
) -> None:
    # Given a quota of 1,000.00 and eight reservations of 300.00 (2,400.00 together)
    quota = {PARTNER: Money.of("1000.00")}

    # When they all arrive at once
    results = in_threads(new_client, ledger_table, lambda s, i: s.reserve(reservation(f"r{i}", "300.00"), bounds=quota))

    # Then exactly three fit, the rest are refused, and the account stays within its quota
    assert results.count(True) == 3
    assert all(isinstance(r, BalanceBoundExceeded) for r in results if r is not True)
    held = -(store.balance(PARTNER) + store.pending_balance(PARTNER))
    assert held == Money.of("900.00") <= quota[PARTNER]
    assert books.verify_balances() == []


def test_the_same_transaction_recorded_by_many_threads_is_applied_once(
    new_client: Callable[[], Any], store: DynamoLedgerStore, ledger_table: str, books: LedgerVerification
) -> None:
    tx = bookkeeping.disbursement("L-1/disbursement", "L-1", Money.of("10000.00"), Money.of("100.00"), ON)

    results = in_threads(new_client, ledger_table, lambda s, _: s.record(tx))

    assert sorted(results) == [False] * (THREADS - 1) + [True]
    assert store.balance(LOAN) == Money.of("10000.00")
    assert books.verify_balances() == []


def test_a_post_racing_a_void_resolves_the_pending_transfer_once(
    new_client: Callable[[], Any], store: DynamoLedgerStore, ledger_table: str, books: LedgerVerification
) -> None:
    # Given a reservation, and four threads posting it while four void it (each pair under one id)
    store.reserve(reservation("r1", "500.00"))

    def resolve(s: DynamoLedgerStore, index: int) -> bool:
        if index % 2:
            return s.post_pending("r1", "r1/post")
        return s.void_pending("r1", "r1/void")

    results = in_threads(new_client, ledger_table, resolve)

    # Then one won; its copies were no-ops, and the other side was told the transfer is resolved
    assert results.count(True) == 1
    winner_is_post = results.index(True) % 2 == 1
    for index, result in enumerate(results):
        if result is not True:
            same_side = (index % 2 == 1) == winner_is_post
            assert result is False if same_side else isinstance(result, PendingTransferError)
    assert store.pending_balance(PARTNER) == Money.ZERO
    assert store.balance(PARTNER) == (Money.of("-500.00") if winner_is_post else Money.ZERO)
    assert books.verify_balances() == []


# --- verifying while writers keep writing ---------------------------------------------------------------------------


class _WritesBetweenReads:
    """Commits the next of ``transactions`` right after each read of the balance items: a writer that keeps
    landing between the scans of a verification."""

    def __init__(self, store: DynamoLedgerStore, books: LedgerVerification, transactions: list[Transaction]) -> None:
        self.store, self.pending, self.reads = store, list(transactions), 0
        self.read_items = books._balance_items

    def __call__(self) -> dict[Account, dict[str, Any]]:
        items = self.read_items()
        self.reads += 1
        if self.pending:
            assert self.store.record(self.pending.pop(0)) is True
        return items


def test_a_transaction_committed_between_the_reads_is_not_a_difference(
    store: DynamoLedgerStore, monkeypatch: pytest.MonkeyPatch, books: LedgerVerification
) -> None:
    # Given a sound ledger, and a writer that commits one transfer just after the balances are read
    assert store.record(reservation("t1", "500.00")) is True
    writer = _WritesBetweenReads(store, books, [reservation("t2", "700.00", OWN)])
    monkeypatch.setattr(books, "_balance_items", writer)

    # When the balances are verified and read for the report
    stored, differing = books.audit_balances()

    # Then nothing differs (the balances are those of the transactions read before them), in one read
    assert differing == []
    assert writer.reads == 1
    assert stored.posted[CASH] == Money.of("500.00").fen
    assert OWN not in stored.posted
    # And the next verification sees t2 on both sides
    assert books.verify_balances() == []
    assert books.stored_balances().posted[OWN] == Money.of("-700.00").fen


def test_a_real_difference_is_reported_however_busy_the_ledger_is(
    store: DynamoLedgerStore,
    dynamodb: Any,
    ledger_table: str,
    monkeypatch: pytest.MonkeyPatch,
    books: LedgerVerification,
) -> None:
    # Given a stored balance that does not match its transactions, and a writer that never lets the ledger rest
    monkeypatch.setattr("lending.adapters.ledger_verification.QUIET_READ_PAUSE", 0.0)
    assert store.record(reservation("t1", "500.00")) is True
    dynamodb.update_item(
        TableName=ledger_table,
        Key={"pk": {"S": f"ACCOUNT#{PARTNER}"}, "sk": {"S": "BALANCE"}},
        UpdateExpression="ADD posted :one, net :one",
        ExpressionAttributeValues={":one": {"N": "1"}},
    )
    writer = _WritesBetweenReads(store, books, [reservation(f"busy-{n}", "1.00", OWN) for n in range(20)])
    monkeypatch.setattr(books, "_balance_items", writer)

    # When it is verified, Then it alone is found, after reading again for a quiet moment as often as allowed
    assert books.verify_balances() == [PARTNER]
    assert writer.reads == 7


def test_a_real_difference_is_reported_at_once_when_the_ledger_is_quiet(
    store: DynamoLedgerStore,
    dynamodb: Any,
    ledger_table: str,
    monkeypatch: pytest.MonkeyPatch,
    books: LedgerVerification,
) -> None:
    # Given a stored balance that does not match its transactions, and no other writer
    assert store.record(reservation("t1", "500.00")) is True
    dynamodb.update_item(
        TableName=ledger_table,
        Key={"pk": {"S": f"ACCOUNT#{CASH}"}, "sk": {"S": "BALANCE"}},
        UpdateExpression="ADD #pending :one",
        ExpressionAttributeNames={"#pending": "pending"},
        ExpressionAttributeValues={":one": {"N": "1"}},
    )
    writer = _WritesBetweenReads(store, books, [])
    monkeypatch.setattr(books, "_balance_items", writer)

    # When it is verified, Then it is found in one read (pending moved without net: both ways of being wrong)
    assert books.verify_balances() == [CASH]
    assert writer.reads == 1


# The stored items: the books' contract (a reshaped item orphans what is already stored)


def _raw(dynamodb: Any, table: str, pk: str, sk: str) -> dict[str, Any]:
    item: dict[str, Any] = dynamodb.get_item(TableName=table, Key={"pk": {"S": pk}, "sk": {"S": sk}})["Item"]
    return item


def test_each_item_is_stored_in_exactly_the_shape_the_books_were_written_in(
    store: DynamoLedgerStore, dynamodb: Any, ledger_table: str
) -> None:
    # Given a reservation posted under its own id, and a bounded transfer
    assert store.reserve(reservation("r1", "700.00")) is True
    assert store.post_pending("r1", "r1/post") is True
    assert store.record(reservation("t1", "0.05", OWN), bounds={OWN: Money.of("1.00")}) is True

    # Then every item holds these attributes, of these types, and nothing else
    assert _raw(dynamodb, ledger_table, "TX#r1", "TX") == {
        "pk": {"S": "TX#r1"},
        "sk": {"S": "TX"},
        "item_type": {"S": "transaction"},
        "id": {"S": "r1"},
        "kind": {"S": "funding_reservation"},
        "effective_on": {"S": "2026-03-01"},
        "postings": {
            "L": [
                {"L": [{"S": "settlement_cash"}, {"N": "70000"}]},
                {"L": [{"S": "funding:partner:bank_a"}, {"N": "-70000"}]},
            ]
        },
        "memo": {"S": ""},
        "state": {"S": "posted_from_pending"},
        "resolved_by": {"S": "r1/post"},
    }
    assert _raw(dynamodb, ledger_table, "TX#r1/post", "TX") == {
        "pk": {"S": "TX#r1/post"},
        "sk": {"S": "TX"},
        "item_type": {"S": "resolution"},
        "id": {"S": "r1/post"},
        "resolution": {"S": "post_pending"},
        "pending_id": {"S": "r1"},
    }
    assert _raw(dynamodb, ledger_table, "ACCOUNT#settlement_cash", "BALANCE") == {
        "pk": {"S": "ACCOUNT#settlement_cash"},
        "sk": {"S": "BALANCE"},
        "account": {"S": "settlement_cash"},
        "posted": {"N": "70005"},
        "pending": {"N": "0"},
        "net": {"N": "70005"},
    }
    assert _raw(dynamodb, ledger_table, "ACCOUNT#funding:own_capital", "BALANCE")["net"] == {"N": "-5"}
