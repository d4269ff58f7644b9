"""Servicing against moto's DynamoDB: one atomic write per fact, exactly once under duplicates and races, the due-date
index, and the ledger agreeing with each loan's own history."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from infra.local.template import load_template, table_definitions
from lending.adapters.audit_store import DynamoAuditStore
from lending.adapters.aws import client, forget_clients
from lending.adapters.ledger_store import DynamoLedgerStore
from lending.adapters.ledger_verification import LedgerVerification
from lending.adapters.loans import LoanRepository
from lending.adapters.servicing import LoanServicingStore
from lending.catalogue import Method, load_catalogue
from lending.errors import ConcurrentChange, DrawdownRefused
from lending.ledger import Account, AccountCode
from lending.money import Money
from lending.pricing import make_offer
from lending.servicing import EventKind, ServicingEvent, schedule_record
from lending.steps.daily_close import close_loan
from lending.steps.drawdowns import request_drawdown
from lending.steps.repayments import SUSPENSE, apply_repayment

CATALOGUE = load_catalogue()
TABLES = table_definitions(load_template())
OPENED = date(2026, 1, 10)


@pytest.fixture
def store(aws: Any) -> LoanServicingStore:
    dynamodb = aws.client("dynamodb")
    existing = set(dynamodb.list_tables()["TableNames"])
    for logical_id in ("LoansTable", "LedgerTable", "AuditTable"):
        if TABLES[logical_id]["TableName"] in existing:
            dynamodb.delete_table(TableName=TABLES[logical_id]["TableName"])
        dynamodb.create_table(**TABLES[logical_id])
    forget_clients()
    loans_table = TABLES["LoansTable"]["TableName"]
    return LoanServicingStore(
        loans_table,
        LoanRepository(loans_table),
        DynamoLedgerStore(TABLES["LedgerTable"]["TableName"], dynamodb),
        DynamoAuditStore(TABLES["AuditTable"]["TableName"], dynamodb),
        dynamodb,
    )


def _book_instalment(store: LoanServicingStore, loan_id: str, principal: str = "12000.00", months: int = 6) -> None:
    offer = make_offer(
        CATALOGUE, "business_instalment", Money.of(principal), months, Method.EQUAL_INSTALMENT, OPENED, Decimal("0.12")
    )
    schedule = schedule_record(offer.schedule)
    LoanRepository(TABLES["LoansTable"]["TableName"]).create(
        {
            "loan_id": loan_id,
            "application_id": f"app-{loan_id}",
            "borrower_id": "borrower-1",
            "product": "business_instalment",
            "kind": "instalment",
            "opened_at": f"{OPENED}T02:00:00+00:00",
            "opened_on": OPENED.isoformat(),
            "annual_rate": "0.1200",
            "term_months": months,
            "status": "ACTIVE",
            "principal": principal,
            "method": "equal_instalment",
            "schedule": schedule,
            "funding": {"reservation_id": f"app-{loan_id}/funding", "shares": {"own_capital": principal}},
            "next_due_on": schedule[0]["due_date"],
            "principal_outstanding": principal,
        }
    )


def _book_line(store: LoanServicingStore, loan_id: str, limit: str = "50000.00") -> None:
    LoanRepository(TABLES["LoansTable"]["TableName"]).create(
        {
            "loan_id": loan_id,
            "application_id": f"app-{loan_id}",
            "borrower_id": "borrower-1",
            "product": "credit_line",
            "kind": "revolving",
            "opened_at": f"{OPENED}T02:00:00+00:00",
            "opened_on": OPENED.isoformat(),
            "annual_rate": "0.1800",
            "term_months": 12,
            "status": "ACTIVE",
            "limit": limit,
            "principal_outstanding": "0.00",
            "frozen": False,
        }
    )


def _payment(event_id: str, amount: str, day: date) -> ServicingEvent:
    moment = datetime(day.year, day.month, day.day, 3, tzinfo=UTC)
    return ServicingEvent(event_id, EventKind.REPAYMENT, moment, Money.of(amount))


def _pay(store: LoanServicingStore, loan_id: str, event: ServicingEvent) -> dict[str, Any]:
    return apply_repayment(event, loan_id, store=store, catalogue=CATALOGUE)


def _ledger_matches_history(store: LoanServicingStore, loan_id: str) -> None:
    loan = store.load(loan_id)
    for account, fen in loan.booked.items():
        if account.key == loan_id:
            assert store.ledger.balance(account).fen == fen, account
    books = LedgerVerification(TABLES["LedgerTable"]["TableName"], client("dynamodb"))
    assert books.trial_balance() == Money.ZERO
    assert books.verify_balances() == []


def test_a_repayment_is_one_write_of_loan_ledger_and_audit(store: LoanServicingStore) -> None:
    _book_instalment(store, "L-1")
    receipt = _pay(store, "L-1", _payment("evt-1", "2100.00", date(2026, 2, 10)))
    assert receipt["status"] == "applied"
    loan = store.load("L-1")
    assert loan.version == 1
    assert [e.event_id for e in loan.events] == ["evt-1"]
    assert loan.record["next_due_on"] == "2026-03-10"  # the first instalment is settled
    _ledger_matches_history(store, "L-1")
    assert [e.kind for e in store.audit.events("app-L-1")] == ["repayment_applied"]


def test_the_same_payment_sent_by_eight_threads_at_once_is_applied_once(store: LoanServicingStore) -> None:
    _book_instalment(store, "L-2")
    event = _payment("evt-dup", "500.00", date(2026, 2, 10))
    receipts: list[str] = []
    barrier = threading.Barrier(8)

    def send() -> None:
        barrier.wait()
        receipts.append(_pay(store, "L-2", event)["status"])

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(receipts) == ["applied"] + ["duplicate"] * 7
    assert store.ledger.balance(Account(AccountCode.SETTLEMENT_CASH)) == Money.of("500.00")
    _ledger_matches_history(store, "L-2")


def test_payments_out_of_paid_at_order_end_where_the_ordered_ones_do(store: LoanServicingStore) -> None:
    # The provider's event ids are unique across all its events, so each loan's copies get their own.
    _book_instalment(store, "L-in-order")
    _book_instalment(store, "L-reordered")
    for suffix, loan_id, order in (("1", "L-in-order", (0, 1)), ("2", "L-reordered", (1, 0))):
        events = [
            _payment(f"evt-a{suffix}", "2100.00", date(2026, 2, 20)),
            _payment(f"evt-b{suffix}", "2100.00", date(2026, 3, 25)),
        ]
        for index in order:
            _pay(store, loan_id, events[index])
    in_order, reordered = store.load("L-in-order"), store.load("L-reordered")
    assert {str(a.code): f for a, f in in_order.booked.items()} == {str(a.code): f for a, f in reordered.booked.items()}
    for name in ("principal_outstanding", "penalty_accrued", "days_past_due", "credit_balance"):
        assert in_order.state[name] == reordered.state[name], name
    assert in_order.record["next_due_on"] == reordered.record["next_due_on"]
    _ledger_matches_history(store, "L-reordered")


def test_a_payment_for_an_unknown_loan_is_parked_in_suspense(store: LoanServicingStore) -> None:
    receipt = _pay(store, "L-nowhere", _payment("evt-lost", "88.00", date(2026, 2, 1)))
    assert receipt["status"] == "parked"
    _pay(store, "L-nowhere", _payment("evt-lost", "88.00", date(2026, 2, 1)))
    assert store.ledger.balance(SUSPENSE) == -Money.of("88.00")


def test_concurrent_drawdowns_never_take_a_line_over_its_limit(store: LoanServicingStore) -> None:
    _book_line(store, "LINE-1", "50000.00")
    accepted: list[str] = []
    refused: list[str] = []
    barrier = threading.Barrier(8)

    def draw(number: int) -> None:
        barrier.wait()
        try:
            request_drawdown(
                "LINE-1",
                "borrower-1",
                Money.of("15000.00"),
                f"key-{number}",
                store=store,
                catalogue=CATALOGUE,
                start=lambda *_: None,
                now=datetime(2026, 1, 20, 3, tzinfo=UTC),
            )
        except DrawdownRefused:
            refused.append(str(number))
        else:
            accepted.append(str(number))

    threads = [threading.Thread(target=draw, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (len(accepted), len(refused)) == (3, 5)  # 3 × 15,000 fits in 50,000; a fourth would not
    held = sum(Money.of(d["amount"]).fen for d in store.load("LINE-1").drawdowns.values())
    assert held == Money.of("45000.00").fen


def test_the_close_reads_only_loans_due_through_the_index_and_is_idempotent(store: LoanServicingStore) -> None:
    _book_instalment(store, "L-due")
    _book_instalment(store, "L-paid-off")
    # Repaid in full before its first due date (the overpayment is the borrower's credit): nothing ever falls due
    _pay(store, "L-paid-off", _payment("evt-payoff", "12100.00", date(2026, 2, 1)))
    day = date(2026, 2, 15)
    assert sorted(store.due(day)) == ["L-due"]
    warnings: list[dict[str, Any]] = []

    def close(loan_id: str) -> dict[str, Any]:
        return close_loan(loan_id, day, store=store, catalogue=CATALOGUE, warn=warnings.append)

    assert close("L-due") == {
        "loan_id": "L-due",
        "changed": True,
        "warned": True,
        "classified": True,
        "written_off": False,
    }
    loan = store.load("L-due")
    assert loan.state["classification"] == "special_mention"
    assert (loan.state["days_past_due"], loan.state["bucket"]) == (5, "dpd_1_30")
    assert [w["bucket"] for w in warnings] == ["dpd_1_30"]
    assert close("L-due") == {"loan_id": "L-due", "changed": False, "warned": False}
    assert store.load("L-due").version == loan.version
    _ledger_matches_history(store, "L-due")


def test_a_write_links_to_the_chain_head_it_remembers_and_reads_it_again_when_the_chain_grew_elsewhere(
    store: LoanServicingStore,
) -> None:
    _book_instalment(store, "L-chain")
    _pay(store, "L-chain", _payment("evt-1", "100.00", date(2026, 1, 20)))
    assert store.load("L-chain").state["audit_head"]["index"] == 0
    # Something outside servicing appends to the application's chain (a late origination step, say).
    store.audit.append("app-L-chain", "notified", datetime(2026, 1, 21, tzinfo=UTC), {"channel": "sms"})
    assert _pay(store, "L-chain", _payment("evt-2", "100.00", date(2026, 1, 22)))["status"] == "applied"
    assert _pay(store, "L-chain", _payment("evt-3", "100.00", date(2026, 1, 23)))["status"] == "applied"
    events = store.audit.events("app-L-chain")
    assert [e.kind for e in events] == ["repayment_applied", "notified", "repayment_applied", "repayment_applied"]
    assert store.audit.verify("app-L-chain") is None


def test_a_write_on_a_loan_another_writer_changed_fails_without_reading_the_chain_head(
    store: LoanServicingStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a loan that remembers its chain's head, read by one writer, then changed by another (a payment)
    _book_instalment(store, "L-stale")
    _pay(store, "L-stale", _payment("evt-1", "100.00", date(2026, 1, 20)))
    stale = store.load("L-stale")
    _pay(store, "L-stale", _payment("evt-2", "100.00", date(2026, 1, 21)))
    heads_read: list[str] = []
    monkeypatch.setattr(store.audit, "head", heads_read.append)
    # When the first writer saves what it computed from the stale read
    with pytest.raises(ConcurrentChange) as failed:
        store.save(
            stale,
            changes={"aged_through": "2026-01-22"},
            position=None,
            transaction=None,
            audit=("day_closed", datetime(2026, 1, 22, tzinfo=UTC), {}),
        )
    # Then it is told the loan changed (the workflow's retry reads it again), and no head was read for nothing (a
    # role that only appends after a remembered head may not Query the audit table)
    assert failed.value.changed == {0, 1}  # the payment moved both the loan and its chain
    assert heads_read == []
    assert store.load("L-stale").version == stale.version + 1


def test_a_parked_payment_stays_parked_when_its_loan_appears_later(store: LoanServicingStore) -> None:
    event = _payment("evt-early-bird", "300.00", date(2026, 1, 20))
    assert _pay(store, "L-late", event)["status"] == "parked"
    _book_instalment(store, "L-late")
    # The provider retries the notice: it is in the books once, in suspense, for a person to move.
    assert _pay(store, "L-late", event)["status"] == "parked"
    assert store.load("L-late").events == []
    assert store.ledger.balance(SUSPENSE) == -Money.of("300.00")
    assert store.ledger.balance(Account(AccountCode.SETTLEMENT_CASH)) == Money.of("300.00")
