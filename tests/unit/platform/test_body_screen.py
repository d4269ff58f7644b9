"""Bodies refused before anything parses them: size, content type, encoding and nesting."""

from __future__ import annotations

import base64
import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from lending.api.http import MAX_BODY_BYTES, MAX_NESTING, nesting_depth, screen_body

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ab'),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(alphabet='[]{}"a'), inner, max_size=3),
    max_leaves=20,
)


def _depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    return 0


@given(json_values)
def test_the_depth_counted_without_parsing_is_the_parsed_depth(value: Any) -> None:
    assert nesting_depth(json.dumps(value).encode()) == _depth(value)


def _event(body: bytes, content_type: str | None = "application/json", *, encoded: bool = False) -> dict[str, Any]:
    headers = {} if content_type is None else {"Content-Type": content_type}
    text = base64.b64encode(body).decode() if encoded else body.decode("utf-8", "surrogateescape")
    return {"body": text, "isBase64Encoded": encoded, "headers": headers}


def _code(answer: dict[str, Any] | None) -> tuple[int, str] | None:
    return None if answer is None else (answer["statusCode"], json.loads(answer["body"])["error"]["code"])


def test_a_good_body_passes_and_a_base64_one_is_handed_on_as_text() -> None:
    assert screen_body(_event(b'{"amount": "1.00"}')) is None
    assert screen_body(_event(b'{"amount": "1.00"}', None)) is None
    event = _event('{"名": "李"}'.encode(), "application/json; charset=utf-8", encoded=True)
    assert screen_body(event) is None
    assert (event["body"], event["isBase64Encoded"]) == ('{"名": "李"}', False)


def test_each_refusal_answers_the_contract_body() -> None:
    assert _code(screen_body(_event(b"[" * (MAX_NESTING + 1) + b"]" * (MAX_NESTING + 1)))) == (400, "nesting_too_deep")
    assert screen_body(_event(b"[" * MAX_NESTING + b"]" * MAX_NESTING)) is None
    assert _code(screen_body(_event(b"x" * (MAX_BODY_BYTES + 1), "text/plain"))) == (413, "payload_too_large")
    assert _code(screen_body(_event(b"{}", "multipart/form-data"))) == (415, "unsupported_media_type")
    assert _code(screen_body(_event(b'{"a": "\xff"}', encoded=True))) == (400, "invalid_encoding")
