"""A list's query (``?limit=`` and ``?cursor=``, nothing else) read into a position, refused as the contract's 422
naming the field: a cursor that is not this list's, or a parameter a list does not take (a misspelt ``limt`` would
otherwise page silently at the default)."""

from __future__ import annotations

from collections.abc import Iterable

from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from lending.api import cursors

PAGING_PARAMETERS = frozenset({"limit", "cursor"})


def _refused(field: str, problem: str, kind: str = "value_error") -> RequestValidationError:
    return RequestValidationError([{"loc": ("query", field), "msg": problem, "type": kind}])


def only_paging(names: Iterable[str]) -> None:
    """Refuse any query parameter but ``limit`` and ``cursor``."""
    unknown = sorted(set(names) - PAGING_PARAMETERS)
    if unknown:
        raise RequestValidationError(
            [{"loc": ("query", n), "msg": "not a parameter of this list", "type": "extra_forbidden"} for n in unknown]
        )


def position(cursor: str | None, *, scope: str, secret: bytes) -> dict[str, str | int] | None:
    """The position a cursor holds (None: the first page)."""
    if cursor is None:
        return None
    try:
        return cursors.decode(cursor, scope=scope, secret=secret)
    except cursors.BadCursor as exc:
        raise _refused("cursor", str(exc)) from None


def key_after(found: dict[str, str | int] | None) -> dict[str, str] | None:
    """A position that is an index key (its values strings)."""
    if found is None:
        return None
    if not all(isinstance(v, str) for v in found.values()):
        raise _refused("cursor", "not a cursor of this list")
    return {k: str(v) for k, v in found.items()}


def offset_after(found: dict[str, str | int] | None) -> int:
    """A position that is an offset into a derived list (0: the first page)."""
    offset = 0 if found is None else found.get("offset")
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise _refused("cursor", "not a cursor of this list")
    return offset
