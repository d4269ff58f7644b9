"""The portfolio's running figures and daily snapshots in DynamoDB (PortfolioTable), see lending.portfolio.

Items (partition key ``part``, sort key ``cell``):
- ``cells#<shard>`` / a cell's key: ``loans``, ``principal``, ``provision``, ``written_off`` (N, fen): the loans
  standing in that cell whose ids fall in the shard (a loan's shard is fixed by its id, so the cells' writes spread
  over 16 partitions and items);
- ``rolls#<shard>`` / ``<month>|<from>|<to>``: ``loans`` (N) that rolled between those states in that month;
- ``snapshot`` / ``YYYY-MM-DD``: the day's portfolio as the daily close wrote it (``document``, a JSON string).

The cell and roll updates are ADDs inside the loan's own all-or-nothing write (its booking, or a servicing write
conditioned on its version): they are applied exactly when the loan's change is, never on their own.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any

from lending.calendar import business_date
from lending.portfolio import Cell, Figures, Roll, moves, rolled, standing

SHARDS = 16
SNAPSHOT = "snapshot"


def shard_of(loan_id: str) -> int:
    return zlib.crc32(loan_id.encode()) % SHARDS


class PortfolioStore:
    def __init__(self, table: str, client: Any) -> None:
        self._table = table
        self._dynamodb = client

    def changes(
        self,
        loan_id: str,
        before: tuple[Mapping[str, Any], Mapping[str, Any]] | None,
        after: tuple[Mapping[str, Any], dict[str, Any]],
        about: date | None = None,
    ) -> list[dict[str, Any]]:
        """The updates that move a loan from where it stood (``before``: its record and servicing state; None when
        it is being booked) to where it stands (``after``); records in ``after``'s state what the loan remembers
        of its month (for the roll rates). ``about``: the business day the write is about (the close of the 31st
        runs on the 1st, and belongs to the month that ended), else today.

        A loan whose state has no month remembered was booked before the portfolio was kept: it enters its cell
        now, as if booked (it was never counted in the one it stood in)."""
        record, state = after
        if before is not None and "month_roll" not in before[1]:
            before = None
        now = standing(record, state)
        was = None if before is None else standing(*before)
        month = (about or business_date()).isoformat()[:7]
        remembered = None if before is None else before[1].get("month_roll")
        counts, state["month_roll"] = rolled(remembered, None if was is None else was[0].state, now[0].state, month)
        shard = shard_of(loan_id)
        items = [self._cell_update(shard, cell, figures) for cell, figures in moves(was, now).items()]
        items += [self._roll_update(shard, roll, count) for roll, count in counts.items() if roll.start != roll.now]
        return items

    def _cell_update(self, shard: int, cell: Cell, figures: Figures) -> dict[str, Any]:
        return {
            "Update": {
                "TableName": self._table,
                "Key": {"part": {"S": f"cells#{shard}"}, "cell": {"S": cell.key}},
                # No condition: the ADD is applied with the loan's own conditional write, or not at all.
                "UpdateExpression": "ADD loans :l, principal :p, provision :v, written_off :w",
                "ExpressionAttributeValues": {
                    ":l": {"N": str(figures.loans)},
                    ":p": {"N": str(figures.principal)},
                    ":v": {"N": str(figures.provision)},
                    ":w": {"N": str(figures.written_off)},
                },
            }
        }

    def _roll_update(self, shard: int, roll: Roll, count: int) -> dict[str, Any]:
        return {
            "Update": {
                "TableName": self._table,
                "Key": {"part": {"S": f"rolls#{shard}"}, "cell": {"S": roll.key}},
                # No condition: as a cell's, applied with the loan's own conditional write.
                "UpdateExpression": "ADD loans :l",
                "ExpressionAttributeValues": {":l": {"N": str(count)}},
            }
        }

    def _query(self, part: str) -> Iterator[dict[str, Any]]:
        arguments: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "part = :part",
            "ExpressionAttributeValues": {":part": {"S": part}},
            "ConsistentRead": True,
        }
        while True:
            page = self._dynamodb.query(**arguments)
            yield from page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                return
            arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def cells(self) -> list[tuple[Cell, Figures]]:
        """Every cell, summed over the shards (one query per shard: as many cells as products × industries × …)."""
        summed: dict[Cell, Figures] = {}
        for shard in range(SHARDS):
            for item in self._query(f"cells#{shard}"):
                cell = Cell.parse(item["cell"]["S"])
                figures = Figures(*(int(item.get(name, {"N": "0"})["N"]) for name in Figures.__slots__))
                summed[cell] = summed.get(cell, Figures()) + figures
        return list(summed.items())

    def rolls(self, month: str) -> list[tuple[Roll, int]]:
        """The month's roll counts, summed over the shards."""
        summed: dict[Roll, int] = {}
        for shard in range(SHARDS):
            for item in self._query(f"rolls#{shard}"):
                roll = Roll.parse(item["cell"]["S"])
                if roll.month == month:
                    summed[roll] = summed.get(roll, 0) + int(item["loans"]["N"])
        return list(summed.items())

    def save_snapshot(self, snapshot: Mapping[str, Any]) -> None:
        """Keep the day's snapshot (a rerun of the day's close replaces it with what the cells say then)."""
        self._dynamodb.put_item(
            TableName=self._table,
            Item={
                "part": {"S": SNAPSHOT},
                "cell": {"S": str(snapshot["date"])},
                "document": {"S": json.dumps(snapshot, ensure_ascii=False, separators=(",", ":"))},
            },
        )

    def snapshot(self, day: date | None = None) -> dict[str, Any] | None:
        """The snapshot of ``day`` (None: the latest before or on today), or None when there is none. One call."""
        if day is not None:
            item = self._dynamodb.get_item(
                TableName=self._table, Key={"part": {"S": SNAPSHOT}, "cell": {"S": day.isoformat()}}
            ).get("Item")
        else:
            items = self._dynamodb.query(
                TableName=self._table,
                KeyConditionExpression="part = :part",
                ExpressionAttributeValues={":part": {"S": SNAPSHOT}},
                ScanIndexForward=False,
                Limit=1,
            ).get("Items", [])
            item = items[0] if items else None
        if item is None:
            return None
        document: dict[str, Any] = json.loads(item["document"]["S"])
        return document

    def previous(self, day: date) -> dict[str, Any] | None:
        """The latest snapshot before ``day`` (what the close carries the curves and month's counts from)."""
        items = self._dynamodb.query(
            TableName=self._table,
            KeyConditionExpression="part = :part AND cell < :day",
            ExpressionAttributeValues={":part": {"S": SNAPSHOT}, ":day": {"S": day.isoformat()}},
            ScanIndexForward=False,
            Limit=1,
        ).get("Items", [])
        if not items:
            return None
        document: dict[str, Any] = json.loads(items[0]["document"]["S"])
        return document
