"""A function's environment variables, read through one door.

In AWS this is ``os.environ``. The local runtime runs every function in one process, so it hands each invocation
its own environment (the template's, resolved) through a context variable instead of rewriting ``os.environ``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar

_PROVIDED: ContextVar[Mapping[str, str] | None] = ContextVar("lambda_environment", default=None)


def lambda_environment() -> Mapping[str, str]:
    """The current invocation's environment variables."""
    provided = _PROVIDED.get()
    return os.environ if provided is None else provided


@contextmanager
def provided_environment(variables: Mapping[str, str]) -> Iterator[None]:
    """Run the block with ``variables`` as the function's environment (the local runtime's way in)."""
    token = _PROVIDED.set(dict(variables))
    try:
        yield
    finally:
        _PROVIDED.reset(token)
