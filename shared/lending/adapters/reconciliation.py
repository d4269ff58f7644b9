"""The reconciliation report over the stored tables (an offline job: it reads whole tables, never on a request path)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from lending.adapters.attribute_values import from_item
from lending.adapters.ledger_verification import LedgerVerification
from lending.catalogue import Catalogue, load_catalogue
from lending.operations import fundings_of
from lending.reconciliation import LoanFacts, Report, build_report
from lending.serviced_loan import ServicedLoan


def _scan(dynamodb: Any, table: str) -> Iterator[dict[str, Any]]:
    arguments: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    while True:
        page = dynamodb.scan(**arguments)
        for item in page.get("Items", []):
            yield from_item(item)
        if "LastEvaluatedKey" not in page:
            return
        arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def loan_facts(record: dict[str, Any]) -> LoanFacts:
    """A stored loan item as the report reads it: funding booked for the loan itself and each booked drawdown."""
    loan = ServicedLoan.parse(record)
    return LoanFacts(loan.loan_id, record, tuple(loan.events), loan.aged_through, fundings_of(loan))


def reconcile_tables(
    loans_table: str,
    ledger_table: str,
    *,
    region: str | None = None,
    catalogue: Catalogue | None = None,
    close_date: date | None = None,
    dynamodb: Any = None,
) -> Report:
    """Read the ledger and every loan, and build the report (with ``dynamodb``, a client of the caller's: the
    nightly job's own; else one for ``region``)."""
    if dynamodb is None:
        import boto3

        dynamodb = boto3.client("dynamodb", region_name=region)
    books = LedgerVerification(ledger_table, dynamodb)
    stored, unbalanced = books.audit_balances()  # one quiet read: balances and their check agree on the moment
    posted = stored.posted
    loans = [loan_facts(record) for record in _scan(dynamodb, loans_table)]
    return build_report(
        posted=posted,
        unbalanced_accounts=unbalanced,
        loans=loans,
        catalogue=catalogue or load_catalogue(),
        close_date=close_date,
    )
