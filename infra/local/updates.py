"""A direct path through moto's UpdateItem for the simple update expressions this project writes.

moto 5.2.5 applies an update expression by parsing it, then validating the tree with about ten full walks and
executing it (~5–9 ms for a four-action expression here), and deep-copies the item first for its stream. Most
updates the project makes are flat: ``SET #a = :v, …``, ``ADD #n :x, …`` on numbers, ``REMOVE #a, …``, on top-level
attributes named by placeholders. :func:`simple_updates` applies exactly those directly, after the same condition
check moto makes, and hands anything else to moto unchanged: nested paths, functions, arithmetic, sets, a key
attribute, an unknown placeholder, a repeated clause or attribute, an ADD to a non-number, a table with a stream.
``tests/integration/adapters/test_simple_updates.py`` holds the two paths against each other.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

_TOKEN = re.compile(r"\s*([#:][A-Za-z0-9_]+|=|,|[A-Za-z]+|\S)")
_KEYWORDS = {"SET", "ADD", "REMOVE"}

Plan = list[tuple[str, str, str | None]]  # (action, #name, :value or None)


def plan(expression: str) -> Plan | None:
    """The actions of a flat update expression, or None when it is anything else."""
    tokens = _TOKEN.findall(expression)
    if not tokens or "".join(tokens) != re.sub(r"\s+", "", expression):
        return None
    actions: Plan = []
    seen_clauses: set[str] = set()
    position = 0
    while position < len(tokens):
        keyword = tokens[position].upper()
        if keyword not in _KEYWORDS or keyword in seen_clauses:
            return None
        seen_clauses.add(keyword)
        position += 1
        while True:
            if position >= len(tokens) or not tokens[position].startswith("#"):
                return None
            name = tokens[position]
            position += 1
            value: str | None = None
            if keyword == "SET":
                if position >= len(tokens) or tokens[position] != "=":
                    return None
                position += 1
            if keyword in ("SET", "ADD"):
                if position >= len(tokens) or not tokens[position].startswith(":"):
                    return None
                value = tokens[position]
                position += 1
            actions.append((keyword, name, value))
            if position < len(tokens) and tokens[position] == ",":
                position += 1
                continue
            break
    targets = [name for _, name, _ in actions]
    if len(set(targets)) != len(targets):
        return None
    return actions


@contextmanager
def simple_updates() -> Iterator[None]:
    from moto.dynamodb import models, responses
    from moto.dynamodb.comparisons import create_condition_expression_parser
    from moto.dynamodb.exceptions import ConditionalCheckFailed, ItemSizeToUpdateTooLarge
    from moto.dynamodb.models.dynamo_type import DynamoType, LimitedSizeDict
    from moto.dynamodb.models.utilities import bytesize

    original = models.DynamoDBBackend.update_item

    def update_item(
        self: Any,
        table_name: str,
        key: dict[str, dict[str, Any]],
        update_expression: str,
        expression_attribute_names: dict[str, Any],
        expression_attribute_values: dict[str, Any],
        attribute_updates: dict[str, Any] | None = None,
        expected: dict[str, Any] | None = None,
        condition_expression: str | None = None,
        return_values_on_condition_check_failure: str | None = None,
    ) -> Any:
        def moto() -> Any:
            return original(
                self,
                table_name,
                key,
                update_expression,
                expression_attribute_names,
                expression_attribute_values,
                attribute_updates,
                expected,
                condition_expression,
                return_values_on_condition_check_failure,
            )

        actions = plan(update_expression) if update_expression and not attribute_updates and not expected else None
        table = self.tables.get(table_name)
        if actions is None or table is None or table.stream_shard is not None:
            return moto()
        names = expression_attribute_names or {}
        values = expression_attribute_values or {}
        keys = {table.hash_key_attr, table.range_key_attr} - {None}
        resolved: list[tuple[str, str, Any]] = []
        for action, name, value in actions:
            if name not in names or (value is not None and value not in values) or names[name] in keys:
                return moto()
            resolved.append((action, names[name], None if value is None else DynamoType(values[value])))
        if table.hash_key_attr not in key or (table.range_key_attr and table.range_key_attr not in key):
            return moto()
        hash_value = DynamoType(key[table.hash_key_attr])
        range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
        item = table.get_item(hash_value, range_value)
        for action, attribute, value in resolved:
            existing = None if item is None else item.attrs.get(attribute)
            if action == "ADD" and (value.type != "N" or (existing is not None and existing.type != "N")):
                return moto()  # sets, or a type error moto reports in its own words
            if action == "SET" and value.is_set() and not value.value:
                return moto()
        condition = create_condition_expression_parser(condition_expression, names, values).parse()
        if not condition.expr(item):
            if return_values_on_condition_check_failure == "ALL_OLD" and item is not None:
                raise ConditionalCheckFailed(item=item.to_json()["Attributes"])
            raise ConditionalCheckFailed
        keys_of_item = {table.hash_key_attr: DynamoType(key[table.hash_key_attr])}
        if range_value is not None:
            keys_of_item[table.range_key_attr] = DynamoType(key[table.range_key_attr])
        staged = dict(item.attrs) if item is not None else dict(keys_of_item)
        for action, attribute, value in resolved:
            if action == "SET":
                staged[attribute] = value
            elif action == "ADD":
                staged[attribute] = staged.get(attribute, DynamoType({"N": "0"})) + value
            else:
                staged.pop(attribute, None)
        # moto's limit, checked once on the result rather than on every attribute set (nothing changes when over).
        if sum(bytesize(name) + value.size() for name, value in staged.items()) > 405000:
            raise ItemSizeToUpdateTooLarge()
        if item is None:  # an update creates the item it names
            table.put_item({name: {value.type: value.value} for name, value in keys_of_item.items()})
            item = table.get_item(hash_value, range_value)
        item.attrs = LimitedSizeDict(staged)
        return item

    # Read by infra.local.transactions: this path never changes a stored value in place.
    update_item.replaces_attributes = True  # type: ignore[attr-defined]

    # moto's request layer parses each update expression only to list the placeholders it uses (read-only), on
    # every request; the same expression parses to the same tree, so that layer gets a parse it may share. The
    # backend keeps its own parser (its validator rewrites the tree it is given). Errors are never cached.
    parser = responses.UpdateExpressionParser

    class SharedParses:
        make = staticmethod(functools.lru_cache(maxsize=4096)(parser.make))

    with (
        mock.patch.object(models.DynamoDBBackend, "update_item", update_item),
        mock.patch.object(responses, "UpdateExpressionParser", SharedParses),
    ):
        yield
