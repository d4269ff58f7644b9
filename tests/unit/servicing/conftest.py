"""Shared by the servicing tests: booked loan records (the shape lending.steps.disbursement.book writes) and an
in-memory store with the servicing store's rules (a write names the version it read; a stale one is refused).

Test modules here get these through fixtures (``booked_instalment``, ``booked_line``, ``memory_store``), which hand
back the functions and classes below, so nothing depends on how pytest names this module.
"""

from __future__ import annotations

import copy
import threading
import time as clock
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest

from lending.adapters.servicing import new_attributes
from lending.catalogue import Catalogue, Method, load_catalogue
from lending.errors import ConcurrentChange, LoanNotFound
from lending.ledger import Ledger, Transaction
from lending.money import Money
from lending.pricing import make_offer
from lending.rates import format_rate
from lending.serviced_loan import ServicedLoan
from lending.servicing import Position, schedule_record

CATALOGUE: Catalogue = load_catalogue()
OPENED = date(2026, 1, 10)
_CHINA = timedelta(hours=8)
#: How long a thread waits at the rendezvous for the others. Only a thread that never reads (a test that has already
#: failed) leaves the others waiting this long; any loaded machine gets eight threads to their first read far sooner.
RENDEZVOUS_SECONDS = 300.0


def cst(day: date, hour: int = 10, minute: int = 0) -> datetime:
    """A UTC moment whose China Standard Time date is ``day`` (10:00 in Beijing by default)."""
    return datetime.combine(day, time(hour, minute), tzinfo=UTC) - _CHINA


def instalment_record(
    loan_id: str = "L-1",
    *,
    product: str = "business_instalment",
    principal: str = "12000.00",
    months: int = 6,
    method: Method = Method.EQUAL_INSTALMENT,
    annual_rate: str = "0.12",
    opened_on: date = OPENED,
    borrower_id: str = "b-1",
) -> dict[str, Any]:
    """A booked instalment loan as lending.steps.disbursement.book writes it (priced by lending.pricing.make_offer)."""
    rate = Decimal(annual_rate)
    offer = make_offer(CATALOGUE, product, Money.of(principal), months, method, opened_on, rate)
    schedule = schedule_record(offer.schedule)
    return {
        "loan_id": loan_id,
        "application_id": f"app-{loan_id}",
        "borrower_id": borrower_id,
        "product": product,
        "kind": "instalment",
        "opened_at": cst(opened_on).isoformat(),
        "opened_on": opened_on.isoformat(),
        "annual_rate": format_rate(rate),
        "term_months": months,
        "status": "ACTIVE",
        "principal": str(Money.of(principal)),
        "method": method.value,
        "upfront_fee": str(offer.upfront_fee),
        "apr": format_rate(offer.apr),
        "schedule": schedule,
        "next_due_on": schedule[0]["due_date"],
        "principal_outstanding": str(Money.of(principal)),
    }


def line_record(
    loan_id: str = "LINE-1",
    *,
    limit: str = "20000.00",
    months: int = 6,
    annual_rate: str = "0.18",
    opened_on: date = OPENED,
    borrower_id: str = "b-1",
) -> dict[str, Any]:
    """A credit line as lending.steps.disbursement.book opens it (no money moves until a drawdown)."""
    return {
        "loan_id": loan_id,
        "application_id": f"app-{loan_id}",
        "borrower_id": borrower_id,
        "product": "credit_line",
        "kind": "revolving",
        "opened_at": cst(opened_on).isoformat(),
        "opened_on": opened_on.isoformat(),
        "annual_rate": format_rate(Decimal(annual_rate)),
        "term_months": months,
        "status": "ACTIVE",
        "limit": str(Money.of(limit)),
        "principal_outstanding": "0.00",
        "frozen": False,
    }


class StaleWrite(ConcurrentChange):
    """The loan moved on since it was read: nothing was written (the steps re-read and redo)."""


class NoSuchLoan(LoanNotFound):
    """No loan under that id, as the store raises it."""


class MemoryLedger(Ledger):
    """The in-memory ledger with the ledger port's signatures (bounds are the store's business, ignored here),
    safe to write from several threads."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.RLock()

    def record(self, transaction: Transaction, bounds: Any = None) -> bool:
        with self._lock:
            return super().record(transaction)

    def reserve(self, transaction: Transaction, bounds: Any = None) -> bool:
        with self._lock:
            return super().reserve(transaction)

    def post_pending(self, pending_id: str, post_id: str) -> bool:
        with self._lock:
            return super().post_pending(pending_id, post_id)

    def void_pending(self, pending_id: str, void_id: str) -> bool:
        with self._lock:
            return super().void_pending(pending_id, void_id)

    def transaction(self, transaction_id: str) -> Transaction | None:
        for entry in self.journal:
            if entry.kind in ("posted", "pending") and entry.transaction.id == transaction_id:
                return entry.transaction
        return None


@dataclass
class MemoryStore:
    """One process's LoansTable and ledger. ``save`` is all-or-nothing and refuses a write computed from a version
    that is no longer current; reads hand out copies, so two readers race exactly as two Lambdas would."""

    records: dict[str, dict[str, Any]]
    ledger: MemoryLedger = field(default_factory=MemoryLedger)
    audit: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    saves: int = 0
    stale: int = 0
    pause: float = 0.0  # seconds to wait after each read: widens the read-compute-write window for races
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _rendezvous: threading.Barrier | None = None
    _met: set[int] = field(default_factory=set)

    def meet_after_first_read(self, threads: int) -> None:
        """Hold each thread after its first read until ``threads`` have read: they all compute from the same
        version, so every write but one is refused as stale and redone (a race that does not depend on timing)."""
        self._rendezvous = threading.Barrier(threads)
        self._met = {threading.get_ident()}  # the test's own thread reads without waiting

    def load(self, loan_id: str) -> ServicedLoan:
        with self._lock:
            record = self.records.get(loan_id)
            if record is None:
                raise NoSuchLoan(f"no loan {loan_id}")
            loan = ServicedLoan.parse(copy.deepcopy(record))
            first_read = self._rendezvous is not None and threading.get_ident() not in self._met
            self._met.add(threading.get_ident())
        if first_read and self._rendezvous is not None:
            self._rendezvous.wait(timeout=RENDEZVOUS_SECONDS)
        if self.pause:
            clock.sleep(self.pause)
        return loan

    def save(
        self,
        loan: ServicedLoan,
        *,
        changes: Mapping[str, Any],
        position: Position | None,
        transaction: Transaction | None,
        audit: tuple[str, datetime, Mapping[str, Any]] | None,
    ) -> None:
        values, removes = new_attributes(loan, changes, position)
        with self._lock:
            current = self.records[loan.loan_id]
            if int(current.get("version", 0)) != loan.version:
                self.stale += 1
                raise StaleWrite(f"{loan.loan_id} is at version {current.get('version', 0)}, read {loan.version}")
            if transaction is not None:
                self.ledger.record(transaction)  # raises (and writes nothing) on a conflicting id
            current.update(copy.deepcopy(values))
            for name in removes:
                current.pop(name, None)
            if audit is not None:
                kind, _, data = audit
                self.audit.append((loan.chain, kind, dict(data)))
            self.saves += 1


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    return CATALOGUE


@pytest.fixture(scope="session")
def booked_instalment() -> Callable[..., dict[str, Any]]:
    return instalment_record


@pytest.fixture(scope="session")
def booked_line() -> Callable[..., dict[str, Any]]:
    return line_record


@pytest.fixture(scope="session")
def memory_store() -> Callable[..., MemoryStore]:
    """``memory_store(record, ...)``: a store holding those loan records."""

    def make(*records: dict[str, Any]) -> MemoryStore:
        return MemoryStore({r["loan_id"]: copy.deepcopy(r) for r in records})

    return make


@pytest.fixture(scope="session")
def at() -> Callable[..., datetime]:
    """``at(day, hour=10, minute=0)``: a moment on that business day."""
    return cst
