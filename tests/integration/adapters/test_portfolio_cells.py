"""The portfolio's cells on moto: booked loans enter them, servicing writes move them (through a write-off), and
the close's snapshot adds them up to the book."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from infra.local.template import load_template, table_definitions
from lending.adapters.audit_store import DynamoAuditStore
from lending.adapters.aws import forget_clients
from lending.adapters.ledger_store import DynamoLedgerStore
from lending.adapters.loans import LoanRepository
from lending.adapters.portfolio import PortfolioStore
from lending.adapters.servicing import LoanServicingStore
from lending.catalogue import Method, load_catalogue
from lending.money import Money
from lending.pricing import make_offer
from lending.servicing import LoanTerms, opening, schedule_record
from lending.steps.daily_close import close_loan, snapshot_day

CATALOGUE = load_catalogue()
TABLES = table_definitions(load_template())
OPENED = date(2026, 1, 10)


@pytest.fixture
def stores(aws: Any) -> tuple[LoanServicingStore, PortfolioStore]:
    dynamodb = aws.client("dynamodb")
    existing = set(dynamodb.list_tables()["TableNames"])
    for logical_id in ("LoansTable", "LedgerTable", "AuditTable", "PortfolioTable"):
        if TABLES[logical_id]["TableName"] in existing:
            dynamodb.delete_table(TableName=TABLES[logical_id]["TableName"])
        dynamodb.create_table(**TABLES[logical_id])
    forget_clients()
    portfolio = PortfolioStore(TABLES["PortfolioTable"]["TableName"], dynamodb)
    loans_table = TABLES["LoansTable"]["TableName"]
    store = LoanServicingStore(
        loans_table,
        LoanRepository(loans_table, portfolio),
        DynamoLedgerStore(TABLES["LedgerTable"]["TableName"], dynamodb),
        DynamoAuditStore(TABLES["AuditTable"]["TableName"], dynamodb),
        dynamodb,
        portfolio,
    )
    return store, portfolio


def _book(store: LoanServicingStore, portfolio: PortfolioStore, loan_id: str, principal: str) -> dict[str, Any]:
    offer = make_offer(
        CATALOGUE, "business_instalment", Money.of(principal), 6, Method.EQUAL_INSTALMENT, OPENED, Decimal("0.12")
    )
    schedule = schedule_record(offer.schedule)
    record: dict[str, Any] = {
        "loan_id": loan_id,
        "application_id": f"app-{loan_id}",
        "borrower_id": "borrower-1",
        "product": "business_instalment",
        "industry": "retail",
        "kind": "instalment",
        "opened_at": f"{OPENED}T02:00:00+00:00",
        "opened_on": OPENED.isoformat(),
        "annual_rate": "0.1200",
        "term_months": 6,
        "status": "ACTIVE",
        "principal": principal,
        "method": "equal_instalment",
        "schedule": schedule,
        "next_due_on": schedule[0]["due_date"],
        "principal_outstanding": principal,
    }
    provision, record["servicing"] = opening(LoanTerms.from_record(record, CATALOGUE), f"{loan_id}/provision")
    assert provision is not None
    store.ledger.record(provision)
    assert LoanRepository(TABLES["LoansTable"]["TableName"], portfolio).create(record)
    return record


def test_loans_move_between_cells_through_their_write_off_and_the_snapshot_adds_up(
    stores: tuple[LoanServicingStore, PortfolioStore],
) -> None:
    store, portfolio = stores
    first = _book(store, portfolio, "L-1", "12000.00")
    _book(store, portfolio, "L-2", "30000.00")
    # Booked: two normal, current loans, their principal and the 1% allowance
    snapshot = snapshot_day(OPENED, portfolio=portfolio, catalogue=CATALOGUE)
    assert (snapshot["loans"], snapshot["principal_outstanding"], snapshot["provisions"]) == (2, "42000.00", "420.00")
    # L-1 is never repaid: graded down each night, then written off at 180 days (L-2 is never read: not due)
    due = date.fromisoformat(first["schedule"][0]["due_date"])
    day = due
    while day <= due + timedelta(days=180):
        close_loan("L-1", day, store=store, catalogue=CATALOGUE, warn=lambda w: None)
        day += timedelta(days=1)
    assert store.load("L-1").record["status"] == "WRITTEN_OFF"
    snapshot = snapshot_day(day, portfolio=portfolio, catalogue=CATALOGUE)
    # Then the cells are the book: L-2 alone on it, L-1 written off (all its principal: nothing was repaid)
    assert snapshot["loans"] == 2
    assert snapshot["principal_outstanding"] == "30000.00"
    assert snapshot["provisions"] == "300.00"
    assert snapshot["written_off"] == "12000.00"
    assert snapshot["by_status"]["WRITTEN_OFF"]["loans"] == 1
    assert snapshot["classification"] == {
        "normal": {"loans": 1, "principal_outstanding": "30000.00", "provision": "300.00", "written_off": "0.00"}
    }
    assert snapshot["buckets"]["written_off"]["written_off"] == "12000.00"
    # And the months' rolls: L-1 rolled from current into delinquency, bucket by bucket, month by month
    moved = {(r["month"], r["from_state"], r["to_state"]) for r in snapshot["roll_rates"]}
    assert all(start != end for _, start, end in moved)
    # And the kept snapshot is what the operations API reads, in one call
    assert portfolio.snapshot(day) == snapshot
    assert portfolio.snapshot() == snapshot
