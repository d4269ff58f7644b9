"""The API's lists, a page at a time: ONE Query of the owner's index per page, never a scan.

A borrower's applications and loans, and a loan's repayments (``LoanRepayments``: loan_id, requested_at, in
CollectionsTable). The borrower indexes (template.yaml) are keyed by ``borrower_id`` and a time, newest first when
read backwards, and project
what a list shows, so no page reads item by item: ``BorrowerApplications`` (borrower_id, created_at) projects an
application's summary (status, product, amount, term, offer, loan id; never its personal data), and
``BorrowerLoans`` (borrower_id, opened_at) the whole loan item, servicing state included, from which each loan's
balances are replayed as GET /v1/loans/{id} replays them.

A page asks for one item more than it shows: when that one comes back there is a next page, and it starts after the
last item shown; otherwise the list has ended (``next`` is null, with no empty page to fetch after it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lending.adapters.attribute_values import from_item, to_item
from lending.adapters.aws import client


@dataclass(frozen=True, slots=True)
class ListIndex:
    """An index a list is read from: its name and its keys (the owner's, the index's sort key, the table's key)."""

    owner_key: str
    table_key: str
    index: str
    sort_key: str

    def position(self, item: dict[str, Any]) -> dict[str, str]:
        """Where a page that ends at ``item`` resumes: the index's and the table's key values."""
        return {
            self.owner_key: str(item[self.owner_key]),
            self.sort_key: str(item[self.sort_key]),
            self.table_key: str(item[self.table_key]),
        }


APPLICATIONS = ListIndex("borrower_id", "application_id", "BorrowerApplications", "created_at")
LOANS = ListIndex("borrower_id", "loan_id", "BorrowerLoans", "opened_at")
REPAYMENTS = ListIndex("loan_id", "id", "LoanRepayments", "requested_at")


def page(
    table: str, index: ListIndex, owner: str, limit: int, after: dict[str, str] | None
) -> tuple[list[dict[str, Any]], dict[str, str] | None]:
    """Up to ``limit`` of the owner's records, newest first, after ``after`` (a position this function gave for
    the same owner); and the position the next page starts after, or None at the end."""
    keys = {index.owner_key, index.sort_key, index.table_key}
    if after is not None and (set(after) != keys or after[index.owner_key] != owner):
        raise ValueError("a position on another list")
    arguments: dict[str, Any] = {
        "TableName": table,
        "IndexName": index.index,
        "KeyConditionExpression": "#owner = :owner",
        "ExpressionAttributeNames": {"#owner": index.owner_key},
        "ExpressionAttributeValues": to_item({":owner": owner}),
        "ScanIndexForward": False,
        "Limit": limit + 1,
    }
    if after is not None:
        arguments["ExclusiveStartKey"] = to_item(after)
    response = client("dynamodb").query(**arguments)
    items = [from_item(item) for item in response.get("Items", [])]
    if len(items) > limit:
        return items[:limit], index.position(items[limit - 1])
    if "LastEvaluatedKey" in response and items:
        # DynamoDB stopped at its 1 MB page before the limit: what it read is a page, and the rest follows.
        return items, index.position(items[-1])
    return items, None
