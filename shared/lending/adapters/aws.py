"""boto3 clients, created on first use and cached per (service, region), all from one session.

Nothing is created at import time, so importing a handler costs no client set-up and a test needs no patching: it
sets the region (``AWS_REGION`` in Lambda, ``AWS_DEFAULT_REGION`` elsewhere) in the function's environment, read
through :func:`lending.adapters.environment.lambda_environment`. One session per process: each new session loads
botocore's service data again (three clients from three sessions took ~186 ms, from one ~88 ms). A boto3 client is
safe to share between threads once it is built; building one, and the session, is not, so creation goes through a
lock.
"""

from __future__ import annotations

import threading
from functools import cache
from typing import Any

from lending.adapters.environment import lambda_environment

_clients: dict[tuple[str, str | None], Any] = {}
_creating = threading.Lock()


def region() -> str | None:
    """The region of the current invocation: Lambda's ``AWS_REGION``, else ``AWS_DEFAULT_REGION``, else boto3's."""
    environment = lambda_environment()
    return environment.get("AWS_REGION") or environment.get("AWS_DEFAULT_REGION") or None


@cache
def _session() -> Any:
    """The process's one boto3 session (built under ``_creating``)."""
    import boto3  # deferred: a handler that never calls AWS does not pay for the import

    return boto3.session.Session()


def client(service: str) -> Any:
    """The cached boto3 client for ``service`` in the current region (built on first use)."""
    key = (service, region())
    found = _clients.get(key)
    if found is not None:
        return found
    with _creating:
        found = _clients.get(key)
        if found is None:
            found = _session().client(service, region_name=key[1])
            _clients[key] = found
    return found


def forget_clients() -> None:
    """Drop every cached client (for tests that switch credentials or mocks between cases)."""
    with _creating:
        _clients.clear()
        _session.cache_clear()
