"""A borrower's lists against moto's DynamoDB, tables from template.yaml: one Query of the borrower's index a page,
newest first, only theirs, the last page saying so, and what the applications index projects."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from infra.local.template import load_template, table_definitions
from lending.adapters.attribute_values import to_item
from lending.adapters.aws import forget_clients
from lending.adapters.listing import APPLICATIONS, LOANS, page

TABLES = table_definitions(load_template())
APPLICATIONS_TABLE = str(TABLES["ApplicationsTable"]["TableName"])
LOANS_TABLE = str(TABLES["LoansTable"]["TableName"])


@pytest.fixture
def tables(aws: Any) -> Any:
    dynamodb = aws.client("dynamodb")
    existing = set(dynamodb.list_tables()["TableNames"])
    for logical_id in ("ApplicationsTable", "LoansTable"):
        if TABLES[logical_id]["TableName"] in existing:
            dynamodb.delete_table(TableName=TABLES[logical_id]["TableName"])
        dynamodb.create_table(**TABLES[logical_id])
    forget_clients()
    return dynamodb


def _moment(n: int) -> str:
    return (datetime(2026, 3, 1, tzinfo=UTC) + timedelta(seconds=n)).isoformat()


def _apply(dynamodb: Any, borrower: str, n: int) -> None:
    record = {
        "application_id": f"{borrower}-{n}",
        "borrower_id": borrower,
        "created_at": _moment(n),
        "status": "RECEIVED",
        "product": "business_instalment",
        "amount": "1000.00",
        "term_months": 6,
        "pii": {"phone": "ciphertext"},
    }
    dynamodb.put_item(TableName=APPLICATIONS_TABLE, Item=to_item(record))


def test_pages_of_a_borrowers_applications_are_newest_first_only_theirs_and_end_with_no_next(tables: Any) -> None:
    # Given five applications of one borrower, interleaved with another's
    for n in range(5):
        _apply(tables, "b-1", n)
        _apply(tables, "b-2", n)
    # When the borrower's list is read two at a time
    seen, after, pages = [], None, 0
    while True:
        items, after = page(APPLICATIONS_TABLE, APPLICATIONS, "b-1", 2, after)
        seen += [item["application_id"] for item in items]
        pages += 1
        if after is None:
            break
    # Then three pages, newest first, all theirs; the last says it is the last
    assert seen == [f"b-1-{n}" for n in reversed(range(5))]
    assert pages == 3
    # And the index holds the summary, never the personal data
    items, _ = page(APPLICATIONS_TABLE, APPLICATIONS, "b-1", 1, None)
    assert "pii" not in items[0]
    assert {"status", "product", "amount", "created_at"} <= set(items[0])


def test_a_full_last_page_says_it_is_the_last(tables: Any) -> None:
    for n in range(4):
        _apply(tables, "b-1", n)
    first, after = page(APPLICATIONS_TABLE, APPLICATIONS, "b-1", 2, None)
    last, after = page(APPLICATIONS_TABLE, APPLICATIONS, "b-1", 2, after)
    assert ([i["application_id"] for i in first + last], after) == ([f"b-1-{n}" for n in (3, 2, 1, 0)], None)


def test_a_position_on_another_borrowers_list_is_refused_before_anything_is_read(tables: Any) -> None:
    _apply(tables, "b-2", 0)
    _, after = page(APPLICATIONS_TABLE, APPLICATIONS, "b-2", 1, None)
    assert after is None
    theirs = {"borrower_id": "b-2", "created_at": _moment(0), "application_id": "b-2-0"}
    with pytest.raises(ValueError, match="another list"):
        page(APPLICATIONS_TABLE, APPLICATIONS, "b-1", 1, theirs)
    with pytest.raises(ValueError, match="another list"):
        page(LOANS_TABLE, LOANS, "b-2", 1, theirs)  # an applications position on the loans list


def test_the_loans_index_holds_each_loan_whole(tables: Any) -> None:
    loan = {
        "loan_id": "L-1",
        "borrower_id": "b-1",
        "opened_at": _moment(0),
        "servicing": {"events": [], "aged_through": "2026-03-01"},
        "schedule": [{"number": 1, "due_date": "2026-04-01"}],
    }
    tables.put_item(TableName=LOANS_TABLE, Item=to_item(loan))
    items, after = page(LOANS_TABLE, LOANS, "b-1", 20, None)
    assert (items, after) == ([loan], None)
