"""The repositories a function works with, built from its settings in one place."""

from __future__ import annotations

from lending.adapters.applications import ApplicationRepository
from lending.adapters.audit_store import DynamoAuditStore
from lending.adapters.aws import client
from lending.adapters.ledger_store import DynamoLedgerStore
from lending.adapters.loans import LoanRepository
from lending.adapters.settings import settings


def applications() -> ApplicationRepository:
    return ApplicationRepository(settings().applications_table)


def loans() -> LoanRepository:
    return LoanRepository(settings().loans_table)


def audit() -> DynamoAuditStore:
    return DynamoAuditStore(settings().audit_table, client("dynamodb"))


def ledger() -> DynamoLedgerStore:
    return DynamoLedgerStore(settings().ledger_table, client("dynamodb"))
