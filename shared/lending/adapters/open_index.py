"""The OpenLoans index of LoansTable: ``open_shard`` (partition) and ``loan_id`` (sort), present only while a loan
or line is ``ACTIVE``. Booking sets it (lending.adapters.loans); the servicing write that leaves a loan anything but
active (closed, written off) removes it (lending.adapters.servicing.new_attributes). The monthly re-check lists
open loans from it page by page, so its reads grow with the open loans and never with the closed ones.

Shards spread the index's writes. The index projects ``product``, so the lister picks the products the re-check
watches without reading a loan.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

#: How many partitions the index spreads loans over (the lister walks them in order).
OPEN_SHARDS = 8
OPEN_INDEX = "OpenLoans"


def open_shard(loan_id: str) -> str:
    """The loan's partition of the index (stable: derived from the id)."""
    return f"open#{int(hashlib.sha256(loan_id.encode()).hexdigest()[:8], 16) % OPEN_SHARDS}"


def open_loans_page(
    dynamodb: Any, table: str, cursor: dict[str, Any] | None, *, limit: int, watched: Callable[[str], bool]
) -> tuple[list[str], dict[str, Any] | None]:
    """Up to about ``limit`` open loans' ids whose product ``watched`` accepts, from where ``cursor`` (this
    function's own) left off; and the cursor of the rest, or None when every shard has been read."""
    shard = int(cursor["shard"]) if cursor else 0
    start = cursor.get("start") if cursor else None
    found: list[str] = []
    while shard < OPEN_SHARDS:
        arguments: dict[str, Any] = {
            "TableName": table,
            "IndexName": OPEN_INDEX,
            "KeyConditionExpression": "open_shard = :shard",
            "ExpressionAttributeValues": {":shard": {"S": f"open#{shard}"}},
            "Limit": limit - len(found),
        }
        if start:
            arguments["ExclusiveStartKey"] = start
        page = dynamodb.query(**arguments)
        found += [item["loan_id"]["S"] for item in page.get("Items", []) if watched(item["product"]["S"])]
        start = page.get("LastEvaluatedKey")
        if start is None:
            shard += 1
        if len(found) >= limit or (start is None and shard >= OPEN_SHARDS):
            break
        # A page that read ``limit`` items but kept fewer (products not watched) goes on with the rest of the shard.
    following = None if shard >= OPEN_SHARDS else {"shard": shard, "start": start}
    return found, following
