"""Fixtures shared by the lending domain tests: the shipped catalogue, as an object and as a JSON document."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import pytest

from lending.catalogue import Catalogue, load_catalogue


@pytest.fixture(scope="session")
def shipped_catalogue() -> Catalogue:
    """The catalogue the layer ships, loaded the way the functions load it."""
    return load_catalogue()


@pytest.fixture
def catalogue_document() -> dict[str, Any]:
    """A fresh, mutable copy of the shipped catalogue JSON, for tests that change one thing and parse it."""
    raw = resources.files("lending").joinpath("data/catalogue.json").read_text()
    document: dict[str, Any] = json.loads(raw)
    return document
