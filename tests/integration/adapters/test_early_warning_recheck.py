"""The monthly re-check against moto's DynamoDB: the OpenLoans index lists open loans only, a page of bounded batches
at a time; a warning's action is one servicing write with its audit event; warnings are kept once and published once,
however often the month runs."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from infra.local.template import load_template, table_definitions
from lending.adapters.audit_store import DynamoAuditStore
from lending.adapters.aws import forget_clients
from lending.adapters.ledger_store import DynamoLedgerStore
from lending.adapters.loans import LoanRepository
from lending.adapters.open_index import open_loans_page
from lending.adapters.servicing import LoanServicingStore
from lending.adapters.vendors.bureau import ReportedDefault
from lending.adapters.warnings import WarningStore
from lending.applicant import Person
from lending.catalogue import load_catalogue
from lending.money import Money
from lending.risk.cash_flow import BankStatement, BankTransaction
from lending.risk.electricity import MeterReading
from lending.risk.policy import load_policy
from lending.risk.tax import TaxFiling
from lending.servicing import EventKind, ServicingEvent
from lending.steps.early_warning import recheck_batch, watched_products

CATALOGUE = load_catalogue()
POLICY = load_policy()
TABLES = table_definitions(load_template())
OPENED = date(2026, 12, 5)
MONTH = date(2027, 2, 1)


@pytest.fixture
def tables(aws: Any) -> Any:
    dynamodb = aws.client("dynamodb")
    existing = set(dynamodb.list_tables()["TableNames"])
    for logical_id in ("LoansTable", "LedgerTable", "AuditTable", "WarningsTable"):
        if TABLES[logical_id]["TableName"] in existing:
            dynamodb.delete_table(TableName=TABLES[logical_id]["TableName"])
        dynamodb.create_table(**TABLES[logical_id])
    forget_clients()
    return dynamodb


@pytest.fixture
def store(tables: Any) -> LoanServicingStore:
    loans_table = TABLES["LoansTable"]["TableName"]
    return LoanServicingStore(
        loans_table,
        LoanRepository(loans_table),
        DynamoLedgerStore(TABLES["LedgerTable"]["TableName"], tables),
        DynamoAuditStore(TABLES["AuditTable"]["TableName"], tables),
        tables,
    )


@pytest.fixture
def warnings(tables: Any) -> WarningStore:
    return WarningStore(TABLES["WarningsTable"]["TableName"], tables)


def _book_line(loan_id: str, product: str = "credit_line") -> None:
    LoanRepository(TABLES["LoansTable"]["TableName"]).create(
        {
            "loan_id": loan_id,
            "application_id": f"app-{loan_id}",
            "borrower_id": "borrower-1",
            "product": product,
            "kind": "revolving",
            "opened_at": f"{OPENED}T02:00:00+00:00",
            "opened_on": OPENED.isoformat(),
            "annual_rate": "0.1800",
            "term_months": 12,
            "status": "ACTIVE",
            "limit": "50000.00",
            "principal_outstanding": "0.00",
            "frozen": False,
        }
    )


class Applications:
    def get(self, application_id: str) -> dict[str, Any]:
        return {
            "application_id": application_id,
            "pii": {},
            "business": {"name": "Hua Trading"},
            "business_assessment": {"average_monthly_inflow": "100000.00"},
        }


def _decrypt(record_id: str, ciphertexts: Mapping[str, Any], fields: tuple[str, ...]) -> dict[str, str]:
    return {
        "name": "Zhang Min",
        "id_number": "11010519491231002X",
        "phone": "+8613900000001",
        "bank_account": "6222020200001234",
    }


class Vendors:
    """Stand-ins for the bank, the bureau and the grid: January's inflow 30,000 (70% down), a default reported in
    January, steady electricity; counting every call."""

    def __init__(self) -> None:
        self.calls = 0

    def fetch_statements(self, bank_account: str, months: int = 12, *, holder: Person) -> BankStatement:
        self.calls += 1
        january = (BankTransaction(date(2027, 1, 9), Money.of("30000.00"), "sales"),)
        return BankStatement(date(2027, 1, 1), date(2027, 1, 31), january)

    def fetch_tax_filings(self, holder: Person, tax_id: str | None = None) -> list[TaxFiling]:
        self.calls += 1
        return [TaxFiling(date(2027, 1, 1), date(2027, 1, 31), Money.of("29000.00"))]

    def fetch_report(self, applicant: Person, consent_reference: str) -> Any:
        self.calls += 1
        return type("Report", (), {"defaults": (ReportedDefault(reported_on=date(2027, 1, 4), amount="80000.00"),)})

    def fetch_readings(self, business_name: str, months: int = 12, *, holder: Person) -> tuple[MeterReading, ...]:
        self.calls += 1
        return (
            *tuple(MeterReading(date(2026, m, 1), Decimal("1000")) for m in range(2, 13)),
            MeterReading(date(2027, 1, 1), Decimal("990")),
        )


def _recheck(store: LoanServicingStore, warnings: WarningStore, loan_ids: list[str], vendors: Vendors) -> Any:
    published: list[Mapping[str, Any]] = []
    notices: list[Mapping[str, Any]] = []
    summary = recheck_batch(
        loan_ids,
        MONTH,
        store=store,
        applications=Applications(),
        decrypt=_decrypt,
        bank_data=vendors,
        bureau=vendors,
        electricity=vendors,
        warnings=warnings,
        publish=published.append,
        notify=notices.append,
        catalogue=CATALOGUE,
        policy=POLICY,
    )
    return summary, published, notices


def test_the_open_loans_index_lists_open_watched_loans_in_pages_and_a_closed_loan_leaves_it(
    store: LoanServicingStore, tables: Any
) -> None:
    # Given seven open lines
    for n in range(7):
        _book_line(f"CL-{n}")
    table = TABLES["LoansTable"]["TableName"]
    watched = watched_products(CATALOGUE).__contains__
    # When they are listed three at a time / Then every one comes once, and the listing ends
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        found, cursor = open_loans_page(tables, table, cursor, limit=3, watched=watched)
        seen += found
        pages += 1
        assert len(found) <= 3
        if cursor is None:
            break
    assert sorted(seen) == [f"CL-{n}" for n in range(7)]
    assert pages <= 8 + 3
    # And a line drawn and repaid in full (closed at maturity it would be; here: the status the replay gives) leaves
    store.save(
        store.load("CL-0"),
        changes={},
        position=_closed_position("CL-0"),
        transaction=None,
        audit=None,
    )
    remaining, _ = open_loans_page(tables, table, None, limit=100, watched=watched)
    assert "CL-0" not in remaining
    assert len(remaining) == 6
    # And a product the re-check does not watch is never listed
    consumer_only = open_loans_page(tables, table, None, limit=100, watched=lambda product: product == "consumer")
    assert consumer_only == ([], None)


def _closed_position(loan_id: str) -> Any:
    from dataclasses import replace

    from lending.servicing import LoanStatus, LoanTerms, replay

    terms = LoanTerms.from_record(LoanRepository(TABLES["LoansTable"]["TableName"]).get(loan_id), CATALOGUE)
    return replace(replay(terms, [], OPENED), status=LoanStatus.CLOSED, next_due_on=None)


def test_a_warning_is_acted_on_once_with_its_audit_event_and_kept_and_published_once(
    store: LoanServicingStore, warnings: WarningStore
) -> None:
    # Given a line that drew 20,000, with no audit head kept yet (the re-check's write reads the chain's head)
    _book_line("CL-1")
    drawn = ServicingEvent("draw-1", EventKind.DRAWDOWN, datetime(2026, 12, 6, 2, tzinfo=UTC), Money.of("20000.00"))
    loan = store.load("CL-1")
    store.audit.append(loan.chain, "line_opened", datetime(2026, 12, 5, 2, tzinfo=UTC), {})
    store.save(
        loan,
        changes={"events": [drawn.to_record()]},
        position=None,
        transaction=None,
        audit=None,
    )
    vendors = Vendors()

    # When the month is re-checked, twice
    summary, published, notices = _recheck(store, warnings, ["CL-1"], vendors)
    again, published_again, notices_again = _recheck(store, warnings, ["CL-1"], vendors)

    # Then the cash-flow drop cut the limit to what was drawn, the new default froze the line; electricity was steady
    assert summary == {"month": "2027-02", "loans_checked": 1, "loans_skipped": 0, "warnings": 2, "loans_failed": 0}
    state = store.load("CL-1").state
    assert state["limit_cut"] == {"to": "20000.00", "warning_id": "CL-1/2027-02/cash_flow_drop", "on": "2027-01-31"}
    assert state["warning_freeze"] == {"warning_id": "CL-1/2027-02/bureau_change", "on": "2027-01-31"}
    assert [w["kind"] for w in published] == ["cash_flow_drop", "bureau_change"]
    assert [n["reason"] for n in notices] == ["cash_flow_drop", "bureau_change"]
    assert published[0]["evidence"]["declared_revenue"] == "29000.00"
    # And once in the audit chain, once in the table, once published: the second run raised nothing
    assert (again["warnings"], published_again, notices_again) == (0, [], [])
    kinds = [e.kind for e in store.audit.events(store.load("CL-1").chain)]
    assert kinds.count("early_warning") == 1
    listed, following = warnings.page(10, None)
    assert (sorted(w["warning_id"] for w in listed), following) == (
        ["CL-1/2027-02/bureau_change", "CL-1/2027-02/cash_flow_drop"],
        None,
    )
    assert all(w.get("published_at") for w in warnings.for_loan("CL-1"))


def test_a_warning_recorded_but_not_published_before_a_crash_is_published_by_the_rerun(
    store: LoanServicingStore, warnings: WarningStore
) -> None:
    # Given the month's cash-flow warning kept, its publication lost with the crash before the servicing write
    _book_line("CL-2")
    warnings.record(
        {
            "warning_id": "CL-2/2027-02/cash_flow_drop",
            "loan_id": "CL-2",
            "kind": "cash_flow_drop",
            "raised_at": "2027-02-01T01:00:00+00:00",
            "as_of": "2027-01-31",
            "evidence": {},
            "action": "limit_cut",
        }
    )
    # When the month runs again / Then it is published, and kept as it was first recorded
    _, published, _ = _recheck(store, warnings, ["CL-2"], Vendors())
    assert "CL-2/2027-02/cash_flow_drop" in [w["warning_id"] for w in published]
    [kept] = [w for w in warnings.for_loan("CL-2") if w["kind"] == "cash_flow_drop"]
    assert kept["raised_at"] == "2027-02-01T01:00:00+00:00"
    assert kept["published_at"]


def test_a_closed_or_consumer_loan_is_skipped_without_a_vendor_call(
    store: LoanServicingStore, warnings: WarningStore
) -> None:
    _book_line("CL-3")
    store.save(store.load("CL-3"), changes={}, position=_closed_position("CL-3"), transaction=None, audit=None)
    vendors = Vendors()
    summary, published, _ = _recheck(store, warnings, ["CL-3"], vendors)
    assert (summary["loans_skipped"], vendors.calls, published) == (1, 0, [])
