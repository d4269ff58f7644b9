"""A Query on a table's own key reads one partition in moto's DynamoDB, not the whole table.

moto 5.2.5 answers ``Query`` on a table's primary key by listing every item of the table, sorted, and keeping those
with the partition key asked for: the time grows with the table (the audit table holds every application's
events; reading one chain's head took 5–12 ms in the bench and grows with each loan). DynamoDB reads the one
partition. :func:`partition_queries` runs moto's own query code with the table's item list narrowed to that
partition: the same items in the same order (the partition's items, sorted by sort key, are exactly the
whole-table list filtered to the partition), so paging, limits, filters and projections stay moto's.
Index queries are left as they are.
``tests/integration/adapters/test_local_dynamodb_paths.py`` holds the two ways against each other.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock


class _Partition:
    """A table seen through one partition: every attribute is the table's, but ``all_items``."""

    def __init__(self, table: Any, hash_key: Any) -> None:
        self._table = table
        self._hash_key = hash_key

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)

    def all_items(self) -> list[Any]:
        from moto.dynamodb.models.dynamo_type import Item

        stored = self._table.items.get(self._hash_key)  # .get: the items dict is a defaultdict
        if stored is None:
            return []
        if self._table.range_key_attr:
            return sorted((item for item in stored.values() if isinstance(item, Item)), key=lambda i: i.range_key)
        return [stored] if isinstance(stored, Item) else []


@contextmanager
def partition_queries() -> Iterator[None]:
    from moto.dynamodb.models.table import Table

    query = Table.query

    def partition_query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = kwargs.get("index_name", args[6] if len(args) > 6 else None)
        if index_name or hash_key is None or isinstance(self, _Partition):
            return query(self, hash_key, *args, **kwargs)
        return query(_Partition(self, hash_key), hash_key, *args, **kwargs)

    with mock.patch.object(Table, "query", partition_query):
        yield
