"""The repositories a function works with, built from its settings in one place.

Each repository's module is imported when a function first asks for one, so a function pays at import only for
the stores it uses (the ledger store brings the ledger and money types with it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lending.adapters.aws import client
from lending.adapters.settings import settings

if TYPE_CHECKING:
    from lending.adapters.applications import ApplicationRepository
    from lending.adapters.audit_store import DynamoAuditStore
    from lending.adapters.ledger_store import DynamoLedgerStore
    from lending.adapters.loans import LoanRepository
    from lending.adapters.portfolio import PortfolioStore


def applications() -> ApplicationRepository:
    from lending.adapters.applications import ApplicationRepository

    return ApplicationRepository(settings().applications_table)


def loans() -> LoanRepository:
    from lending.adapters.loans import LoanRepository

    return LoanRepository(settings().loans_table, portfolio())


def portfolio() -> PortfolioStore:
    from lending.adapters.portfolio import PortfolioStore

    return PortfolioStore(settings().portfolio_table, client("dynamodb"))


def audit() -> DynamoAuditStore:
    from lending.adapters.audit_store import DynamoAuditStore

    return DynamoAuditStore(settings().audit_table, client("dynamodb"))


def ledger() -> DynamoLedgerStore:
    from lending.adapters.ledger_store import DynamoLedgerStore

    return DynamoLedgerStore(settings().ledger_table, client("dynamodb"))
