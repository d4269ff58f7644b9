"""The OpenAPI document the layer serves is the one the functions' routes generate now."""

from __future__ import annotations

from infra.local.openapi import DOCUMENT, render


def test_the_shipped_openapi_document_is_current() -> None:
    # When it is generated again from every API function's routes
    # Then it is byte for byte the one the layer ships (regenerate with `python -m infra.local.openapi`)
    assert DOCUMENT.read_text() == render()
