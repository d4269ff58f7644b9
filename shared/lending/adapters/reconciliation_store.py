"""The kept nightly reconciliation reports in DynamoDB (ReconciliationTable): one item a business day.

Item: ``kind="daily"`` (the one partition), ``close_date`` (``YYYY-MM-DD``, the sort key, so the latest report is
the first of a descending query), ``balanced``, and ``report``: the report's record
(:meth:`lending.reconciliation.Report.to_record`) as gzip-compressed JSON. A day's report is rewritten by a rerun
of that day, never added to.

A report of books in deep trouble (a problem on every loan) may not fit in one item (400 KB): then the problems
that fit are kept, in order, and ``loans.problems_omitted`` says how many more there were; every other part of
the report, and its verdict, is kept whole.
"""

from __future__ import annotations

import gzip
import json
from datetime import date
from typing import Any

from lending.adapters.attribute_values import from_item, to_item

DAILY = "daily"
#: What the compressed report may take of DynamoDB's 400 KB item, leaving room for the keys and the verdict.
MAX_REPORT_BYTES = 380_000


def _compressed(record: dict[str, Any]) -> bytes:
    # mtime=0: the same report compresses to the same bytes, so a rerun rewrites the same item.
    return gzip.compress(json.dumps(record, sort_keys=True, separators=(",", ":")).encode(), mtime=0)


def fitted(record: dict[str, Any], limit: int = MAX_REPORT_BYTES) -> bytes:
    """The record compressed, with as many of its loan problems as fit within ``limit`` bytes."""
    data = _compressed(record)
    if len(data) <= limit:
        return data
    problems = list(record["loans"]["problems"])
    kept, low, high = b"", 0, len(problems)
    while low < high:  # the most problems that fit, by bisection (compressed size grows with every one kept)
        middle = (low + high + 1) // 2
        trial = _compressed(_keeping(record, problems, middle))
        if len(trial) <= limit:
            low, kept = middle, trial
        else:
            high = middle - 1
    return kept or _compressed(_keeping(record, problems, 0))


def _keeping(record: dict[str, Any], problems: list[str], count: int) -> dict[str, Any]:
    loans = {**record["loans"], "problems": problems[:count], "problems_omitted": len(problems) - count}
    return {**record, "loans": loans}


class ReconciliationStore:
    """Each business day's reconciliation report, kept."""

    def __init__(self, table_name: str, client: Any) -> None:
        self._table = table_name
        self._dynamodb = client

    def put(self, record: dict[str, Any]) -> None:
        """Keep ``record`` as its close date's report."""
        item = {"kind": DAILY, "close_date": record["close_date"], "balanced": bool(record["balanced"])}
        # Unconditional on purpose: a rerun of a day replaces that day's report (the same books give the same
        # item); no other writer shares the table.
        self._dynamodb.put_item(TableName=self._table, Item={**to_item(item), "report": {"B": fitted(record)}})

    def get(self, day: date) -> dict[str, Any] | None:
        """The report kept for ``day``, or None."""
        answer = self._dynamodb.get_item(
            TableName=self._table, Key=to_item({"kind": DAILY, "close_date": day.isoformat()})
        )
        return None if "Item" not in answer else _record(answer["Item"])

    def latest(self) -> dict[str, Any] | None:
        """The report of the latest day kept, or None before the first."""
        answer = self._dynamodb.query(
            TableName=self._table,
            KeyConditionExpression="#kind = :kind",
            ExpressionAttributeNames={"#kind": "kind"},
            ExpressionAttributeValues=to_item({":kind": DAILY}),
            ScanIndexForward=False,
            Limit=1,
        )
        items = answer.get("Items", [])
        return _record(items[0]) if items else None


def _record(item: dict[str, Any]) -> dict[str, Any]:
    stored = from_item(item)
    loaded: dict[str, Any] = json.loads(gzip.decompress(bytes(stored["report"])))
    return loaded
