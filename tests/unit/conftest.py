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


class NetworkRefused(RuntimeError):
    """A unit test reached for the network: the unit layer is the pure domain and the offline checks."""


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sockets off: any connection a unit test opens (directly, through boto3 or a vendor client) fails loudly.
    Processes a test starts are its own (a fresh interpreter importing a handler opens none either)."""
    import socket

    def refuse(self: socket.socket, address: Any) -> None:
        raise NetworkRefused(f"unit tests open no connections (asked for {address!r})")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
