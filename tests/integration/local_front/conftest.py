"""Fixtures: the local front on a free port with scripted functions behind it (see local_front_harness)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from local_front_harness import WEB_URL, Front, Functions, local_stack_stand_in, ok

from infra.local.api import ApiServer, LocalApi, web_origin_policy


@pytest.fixture(scope="module")
def _served() -> Iterator[Front]:
    """One front per test module (starting and stopping one costs half a second of shutdown polling)."""
    functions = Functions()
    api = LocalApi(local_stack_stand_in(), cors=web_origin_policy(WEB_URL), lambda_client=functions)
    server = ApiServer(api, port=0).start()
    try:
        yield Front(server, api, functions)
    finally:
        server.stop()


@pytest.fixture
def front(_served: Front) -> Front:
    """The front, its functions answering 200 and with no invocations yet."""
    _served.functions.script = ok
    _served.functions.invocations.clear()
    return _served


@pytest.fixture
def functions(front: Front) -> Functions:
    return front.functions
