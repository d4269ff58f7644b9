"""List cursors (lending.api.cursors): opaque, signed for one list of one borrower, refused anywhere else."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lending.api.cursors import BadCursor, decode, encode
from lending.steps.lists import offset_page

SECRET = b"k" * 48
MINE = "applications\nborrower-1\n"
THEIRS = "applications\nborrower-2\n"
POSITION = {"borrower_id": "borrower-1", "created_at": "2026-03-01T02:00:00+00:00", "application_id": "a-1"}


def test_a_cursor_gives_back_its_position_on_its_own_list() -> None:
    cursor = encode(POSITION, scope=MINE, secret=SECRET)
    assert decode(cursor, scope=MINE, secret=SECRET) == POSITION


def test_a_cursor_is_refused_on_another_borrowers_list_and_under_another_key() -> None:
    cursor = encode(POSITION, scope=MINE, secret=SECRET)
    with pytest.raises(BadCursor):
        decode(cursor, scope=THEIRS, secret=SECRET)
    with pytest.raises(BadCursor):
        decode(cursor, scope=MINE, secret=b"another key")


def test_a_position_rewritten_into_another_borrowers_key_is_refused() -> None:
    # Given a client that decodes its cursor's payload and puts another borrower's id in it
    payload, mac = encode(POSITION, scope=MINE, secret=SECRET).split(".")
    forged = {**json.loads(base64.urlsafe_b64decode(payload + "==")), "borrower_id": "borrower-2"}
    text = base64.urlsafe_b64encode(json.dumps(forged).encode()).rstrip(b"=").decode()
    # Then neither list takes it
    for scope in (MINE, THEIRS):
        with pytest.raises(BadCursor):
            decode(f"{text}.{mac}", scope=scope, secret=SECRET)


@given(st.text(max_size=2000))
def test_anything_else_is_a_bad_cursor_never_another_error(text: str) -> None:
    with pytest.raises(BadCursor):
        decode(text, scope=MINE, secret=SECRET)


@pytest.mark.parametrize(
    ("size", "limit", "offset", "page", "following"),
    [(5, 2, 0, [0, 1], 2), (5, 2, 4, [4], None), (4, 2, 2, [2, 3], None), (0, 20, 0, [], None), (3, 5, 7, [], None)],
)
def test_an_offset_page_ends_with_no_next_when_nothing_follows(
    size: int, limit: int, offset: int, page: list[int], following: int | None
) -> None:
    assert offset_page(list(range(size)), limit, offset) == (page, following)


def test_a_list_query_is_limit_and_cursor_only_and_a_bad_position_names_the_cursor() -> None:
    from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

    from lending.api import paging

    paging.only_paging(["limit", "cursor"])
    with pytest.raises(RequestValidationError) as refused:
        paging.only_paging(["limit", "limt", ""])
    assert [e["loc"] for e in refused.value.errors()] == [("query", ""), ("query", "limt")]
    assert paging.position(None, scope=MINE, secret=SECRET) is None
    assert paging.offset_after(None) == 0
    assert paging.offset_after({"offset": 40}) == 40
    for bad in ({"offset": -1}, {"offset": True}, {"offset": "1"}, POSITION):
        with pytest.raises(RequestValidationError):
            paging.offset_after(dict(bad))
    with pytest.raises(RequestValidationError):
        paging.key_after({"offset": 3})
    assert paging.key_after(dict(POSITION)) == POSITION
    with pytest.raises(RequestValidationError) as refused:
        paging.position("x.y", scope=MINE, secret=SECRET)
    assert [e["loc"] for e in refused.value.errors()] == [("query", "cursor")]
