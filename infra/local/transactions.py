"""moto's TransactWriteItems with an item-level rollback.

moto 5.2.5 backs a transaction out by deep-copying every table the transaction names before it starts (tens of
milliseconds for a small table, seconds for a table of 100,000 loans). A transaction only ever changes the items it
names, so a copy of those items is an exact rollback: this keeps moto's own transaction code (its conditions,
cancellation reasons and error order) and swaps only the backup, table copy for item copies.
"""

from __future__ import annotations

import copy
import types
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

from infra.local.updates import plan


@contextmanager
def item_level_rollback() -> Iterator[None]:
    from moto.dynamodb import models
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    original = models.DynamoDBBackend.transact_write_items

    def keep_tables(value: Any, memo: Any = None) -> Any:
        # The table "backup" is the live table itself; the items are backed up below.
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        backups: list[tuple[Table, DynamoType, DynamoType | None, Any, Any]] = []
        for entry in transact_items:
            if "ConditionCheck" in entry:
                continue  # changes nothing
            operation = next(iter(entry.values()), {})
            table = self.tables.get(operation.get("TableName"))
            key = operation.get("Item") if "Put" in entry else operation.get("Key")
            if table is None or not key or table.hash_key_attr not in key:
                continue  # moto itself reports what is wrong with it
            hash_value = DynamoType(key[table.hash_key_attr])
            range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr in key else None
            try:
                current = table.get_item(hash_value, range_value)
            except Exception:
                continue
            # A put or delete replaces the stored Item object and a flat update (infra/local/updates.py) replaces its
            # attribute dict, so keeping both references restores them exactly; any other update goes through
            # moto's executor, which may change values in place, so it gets a deep copy.
            direct = getattr(models.DynamoDBBackend.update_item, "replaces_attributes", False)
            in_place = "Update" in entry and (not direct or plan(operation.get("UpdateExpression") or "") is None)
            if current is None or not in_place:
                backups.append((table, hash_value, range_value, current, None if current is None else current.attrs))
            else:
                snapshot = copy.deepcopy(current)
                backups.append((table, hash_value, range_value, snapshot, snapshot.attrs))
        try:
            original(self, transact_items)
        except Exception:
            for table, hash_value, range_value, item, attributes in reversed(backups):
                if item is None:
                    table.delete_item(hash_value, range_value)
                    continue
                item.attrs = attributes
                if range_value is not None:
                    table.items[hash_value][range_value] = item
                else:
                    table.items[hash_value] = item
            raise

    shim = types.SimpleNamespace(deepcopy=keep_tables)
    with (
        mock.patch.object(models, "copy", shim),
        mock.patch.object(models.DynamoDBBackend, "transact_write_items", transact_write_items),
    ):
        yield
