"""Every AWS call made in this process, seen through botocore's own event system (no patch of botocore or moto).

botocore raises ``before-parameter-build`` for each client call before anything is serialized, ``before-call`` just
before it would be sent (a handler's answer there is taken as the service's), and ``after-call`` with the parsed
answer. Handlers in ``botocore.handlers.BUILTIN_HANDLERS`` are registered with every session made after they are
added, which is how moto registers its own stubber; :func:`_register` adds this module's three once, and drops the
sessions made before it (boto3's default one, which moto's Step Functions interpreter uses, and the functions'
cached one), so every client built afterwards reports here.

- :func:`listening`: ``listener(model, params, context)`` before each call; an exception it raises is the call's.
- :func:`recording`: each call's service, operation, parameters and parsed answer, after it returns.
- :func:`answering`: calls answered by ``answer(service, operation, params)`` without reaching any service (or
  moto), for timing the caller's own work (:mod:`infra.bench.servicing`). The answer is handed to the caller as
  botocore's parsed answer would be, so it must be a fresh one each time (the caller may change it).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

Listener = Callable[[Any, dict[str, Any], dict[str, Any]], None]
#: (HTTP status, parsed answer) for a call, or None to let it go its way.
Answerer = Callable[[str, str, dict[str, Any]], tuple[int, dict[str, Any]] | None]


@dataclass(frozen=True, slots=True)
class Answered:
    """One call and what it was answered (kept in memory for a benchmark's replay, never logged)."""

    service: str  # botocore's service name, e.g. "dynamodb"
    operation: str  # e.g. "TransactWriteItems"
    params: dict[str, Any]
    status: int
    answer: dict[str, Any]


_listeners: list[Listener] = []
_recorders: list[list[Answered]] = []
_answerers: list[Answerer] = []


def _before_parameter_build(params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
    for listener in list(_listeners):
        listener(model, params, context)
    if _recorders or _answerers:
        context["infra.local.calls"] = params  # the caller's parameters, for the two below


def _before_call(model: Any, context: dict[str, Any], **_: Any) -> Any:
    if not _answerers:
        return None
    from botocore.awsrequest import AWSResponse

    params = context.get("infra.local.calls", {})
    found = _answerers[-1](model.service_model.service_name, model.name, params)
    if found is None:
        return None
    status, answer = found
    return AWSResponse("https://answered.locally/", status, {}, None), answer


def _after_call(http_response: Any, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
    if not _recorders:
        return
    answer = {k: v for k, v in parsed.items() if k != "ResponseMetadata"}
    call = Answered(
        model.service_model.service_name,
        model.name,
        context.get("infra.local.calls", {}),
        int(http_response.status_code),
        copy.deepcopy(answer),
    )
    for recorder in _recorders:
        recorder.append(call)


_HANDLERS = (
    ("before-parameter-build", _before_parameter_build),
    ("before-call", _before_call),
    ("after-call", _after_call),
)


def _register() -> None:
    import boto3
    from botocore.handlers import BUILTIN_HANDLERS

    from lending.adapters.aws import forget_clients

    if all(entry in BUILTIN_HANDLERS for entry in _HANDLERS):
        return
    BUILTIN_HANDLERS.extend(entry for entry in _HANDLERS if entry not in BUILTIN_HANDLERS)
    boto3.DEFAULT_SESSION = None
    forget_clients()


@contextmanager
def listening(listener: Listener) -> Iterator[None]:
    """``listener`` sees every call made in the block, before it is sent."""
    _register()
    _listeners.append(listener)
    try:
        yield
    finally:
        _listeners.remove(listener)


@contextmanager
def recording() -> Iterator[list[Answered]]:
    """The calls made in the block that returned, in order, with their answers."""
    _register()
    calls: list[Answered] = []
    _recorders.append(calls)
    try:
        yield calls
    finally:
        _recorders.remove(calls)


@contextmanager
def answering(answer: Answerer) -> Iterator[None]:
    """Calls in the block answered by ``answer`` (where it returns one) without being sent."""
    _register()
    _answerers.append(answer)
    try:
        yield
    finally:
        _answerers.remove(answer)
