"""Fixtures of the sandbox vendor tests: the four vendors running, and a stand-in HTTP server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from stand_in import IDENTITY_SECRET, StandIn

from infra.local.vendors import SandboxVendors


@pytest.fixture(scope="module")
def vendors() -> Iterator[SandboxVendors]:
    """All four vendors on ephemeral ports, calling back quickly."""
    with SandboxVendors(
        identity_secret=IDENTITY_SECRET, callback_delay=0.05, callback_attempts=3, callback_backoff=0.05
    ) as running:
        yield running


@pytest.fixture
def stand_in() -> Iterator[StandIn]:
    """A fresh stand-in server: our webhook, or a vendor that misbehaves."""
    server = StandIn().start()
    yield server
    server.stop()
