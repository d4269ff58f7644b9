"""The unit layer opens no connections: the guard in tests/unit/conftest.py refuses every one."""

from __future__ import annotations

import socket

import pytest


def test_a_unit_test_that_reaches_for_the_network_fails_loudly() -> None:
    # Given the unit layer's sockets-off guard / When a test connects anywhere / Then the connection is refused
    with pytest.raises(RuntimeError, match="unit tests open no connections"):
        socket.create_connection(("127.0.0.1", 9), timeout=1)
