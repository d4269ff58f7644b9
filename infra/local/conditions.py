"""Condition expressions parsed once per request, not three times, in moto's DynamoDB.

moto 5.2.5 parses an item's ConditionExpression in the request handler (to list the placeholders it uses), again
in the backend's transaction loop, and again in the put or update it then makes: ~0.1–0.2 ms a parse, so a
repayment's three conditions cost ~1 ms of parsing. The parse is a pure function of the expression, its names and
its values, and the tree it returns is never changed after it is built (its nodes are only ever evaluated against
an item), so :func:`shared_condition_parses` hands out the tree an equal parse built before, with the same lists of
placeholders found. A parse that fails is not kept: it fails again, in moto's own words.
``tests/integration/adapters/test_local_dynamodb_paths.py`` holds the two ways against each other.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

#: Distinct (expression, names, values) kept; the oldest is forgotten first.
CAPACITY = 4096


def _frozen(value: Any) -> Any:
    """A hashable stand-in equal for equal JSON-like values (dicts compared as mappings, lists in order)."""
    if isinstance(value, dict):
        return ("dict", frozenset((key, _frozen(item)) for key, item in value.items()))
    if isinstance(value, list):
        return ("list", tuple(_frozen(item) for item in value))
    return (type(value).__name__, value)


@contextmanager
def shared_condition_parses() -> Iterator[None]:
    from moto.dynamodb.comparisons import ConditionExpressionParser

    parse = ConditionExpressionParser.parse
    # The placeholders an expression's text uses (names, values: as the parser lists them), and the trees by
    # (expression, the names and values those placeholders stand for): a write's other values (a whole loan's
    # state, say) are no part of its condition's parse.
    placeholders: dict[str | None, tuple[list[str], list[str]]] = {}
    parsed: OrderedDict[Any, Any] = OrderedDict()

    def key_of(parser: Any, names_found: list[str], values_found: list[str]) -> Any:
        names = parser.expression_attribute_names
        values = parser.expression_attribute_values
        return (
            parser.condition_expression,
            # The parser lists plain attribute names with the placeholders: those are in the expression's text.
            tuple((name, names[name]) for name in names_found if name.startswith("#")),
            tuple((value, _frozen(values[value])) for value in values_found),
        )

    def shared_parse(self: Any) -> Any:
        seen = placeholders.get(self.condition_expression)
        if seen is not None:
            try:
                tree = parsed.get(key_of(self, *seen))
            except (KeyError, TypeError):  # a placeholder without its name or value: moto says so
                tree = None
            if tree is not None:
                self.expr_attr_names_found.extend(seen[0])
                self.expr_attr_values_found.extend(seen[1])
                return tree
        names_before, values_before = len(self.expr_attr_names_found), len(self.expr_attr_values_found)
        tree = parse(self)
        found = (self.expr_attr_names_found[names_before:], self.expr_attr_values_found[values_before:])
        placeholders[self.condition_expression] = found
        try:
            parsed[key_of(self, *found)] = tree
        except (KeyError, TypeError):
            return tree
        if len(parsed) > CAPACITY:
            parsed.popitem(last=False)
        if len(placeholders) > CAPACITY:
            placeholders.clear()
        return tree

    with mock.patch.object(ConditionExpressionParser, "parse", shared_parse):
        yield
