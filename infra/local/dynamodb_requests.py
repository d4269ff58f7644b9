"""A short way into moto's DynamoDB for the requests the platform makes.

moto answers a boto3 call the way a server answers HTTP: it matches the URL against every service's patterns,
rebuilds the request as a werkzeug request, parses the body as a query string and then as JSON against the
operation's input shape, finds the handler method by listing the class's members, and only then runs the
operation. For a repayment's two DynamoDB calls that preamble took ~3 ms of ~10 ms inside moto (measured with
moto 5.2.5). :func:`direct_dynamodb_requests` takes requests to DynamoDB's endpoint for the operations in
:data:`OPERATIONS` straight to moto's own ``DynamoHandler.call_action`` (the operation, its errors, its
serialization, request id and CRC32 headers stay moto's), with the handler set up as ``setup_class`` sets it up for
a JSON request, and the body parsed by :func:`parse_json`, which gives the result moto's ``JSONParser`` gives.

Anything else goes moto's whole way: other services and operations, requests with binary attribute values
(``"B"``/``"BS"``, which moto decodes), bodies moto's query-string pass would read an ``Action`` from, IAM
authorization turned on, request recording, passthrough or whitelist settings.
``tests/integration/adapters/test_local_dynamodb_paths.py`` holds the two ways against each other.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from types import SimpleNamespace
from typing import Any
from unittest import mock
from urllib.parse import urlparse

#: What the platform (and Powertools' idempotency layer) asks DynamoDB for at run time.
OPERATIONS = frozenset(
    {
        "GetItem",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "Query",
        "Scan",
        "TransactWriteItems",
        "TransactGetItems",
        "BatchGetItem",
        "BatchWriteItem",
    }
)

_ENDPOINT = re.compile(r"https://dynamodb\.[a-z0-9-]+\.amazonaws\.com/?")
#: A key "B" or "BS" in the body's JSON (binary AttributeValues); an attribute named so also matches (moto's way).
_BINARY = re.compile(rb'"BS?"\s*:')
_JSON_CONTENT = "application/x-amz-json-1.0"
#: Members of these types come out of moto's parser changed (decoded, converted): such bodies go moto's way.
_CONVERTED = frozenset({"blob", "timestamp", "float", "double"})


@cache
def _members(shape: Any) -> tuple[tuple[str, str, Any], ...]:
    """A structure's members as (name, name on the wire, shape), in the shape's order."""
    return tuple((name, member.serialization.get("name", name), member) for name, member in shape.members.items())


@cache
def _by_wire_name(shape: Any) -> dict[str, tuple[tuple[str, str, Any]]]:
    """A structure's members by their name on the wire (each as a one-member tuple of :func:`_members`)."""
    return {wire_name: ((name, wire_name, member),) for name, wire_name, member in _members(shape)}


@cache
def _plain_types(shape: Any) -> bool:
    """Whether every value under ``shape`` parses to itself or an ``int`` (no blob, timestamp or float),
    leaving out DynamoDB's AttributeValue, whose binary members are looked for in the body instead."""
    seen: set[str] = set()

    def walk(node: Any) -> bool:
        if node.name in seen:
            return True
        seen.add(node.name)
        kind = node.type_name
        if kind == "structure":
            return all(walk(member) for name, member in node.members.items() if not _binary_member(node, name))
        if kind == "list":
            return walk(node.member)
        if kind == "map":
            return walk(node.key) and walk(node.value)
        return kind not in _CONVERTED

    return walk(shape)


def _binary_member(structure: Any, name: str) -> bool:
    return structure.name == "AttributeValue" and name in ("B", "BS")


def parse_json(shape: Any, value: Any) -> Any:
    """``value`` (the request body's JSON) as moto's JSON parser returns it for a shape of :func:`_plain_types`:
    structures keep their known, non-null members in the shape's order; integers are ``int``."""
    kind = shape.type_name
    if kind == "structure":
        if value is None:
            return None
        if shape.is_document_type:
            return value
        parsed = {}
        # A one-member value (every AttributeValue) looks up its member instead of trying each of the shape's.
        members = _by_wire_name(shape).get(next(iter(value)), ()) if len(value) == 1 else _members(shape)
        for name, wire_name, member in members:
            raw = value.get(wire_name)
            if raw is not None:
                parsed[name] = parse_json(member, raw)
        return parsed
    if kind == "list":
        member = shape.member
        return [parse_json(member, item) for item in value]
    if kind == "map":
        key_shape, value_shape = shape.key, shape.value
        return {parse_json(key_shape, k): parse_json(value_shape, v) for k, v in value.items()}
    if kind in ("integer", "long", "short", "byte"):
        return int(value)
    return value


class _FunctionNames:
    """What ``method_names_from_class`` answers, for the one question moto's ``call_action`` asks of it (is the
    action a function of the class?), without listing every member of the class on each request."""

    def __init__(self, owner: type) -> None:
        self._owner = owner

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and inspect.isfunction(getattr(self._owner, name, None))


def _set_up(handler: Any, url: str, headers: Any, body: bytes, params: dict[str, Any]) -> Any:
    """``handler`` as moto's ``setup_class`` leaves it for a JSON POST of ``body`` to ``url`` (path "/", no query
    string). Its query-string pass of a JSON body yields nonsense keys that are only ever looked at for an Action,
    and the direct path takes no body with "Action" in it."""
    from moto.core.utils import utcnow
    from moto.iam.models import mark_account_as_visited
    from moto.utilities.utils import get_partition
    from werkzeug.http import http_date

    handler.is_werkzeug_request = False
    handler.normalized_request = None
    handler.parsed_url = urlparse(url)
    handler.form_data = {}
    handler.raw_body = body
    handler.body = body.decode("utf-8")
    handler.uri = url
    handler.path = handler.raw_path = handler.parsed_url.path
    handler.querystring = handler.data = {}
    handler.method = "POST"
    handler.headers = headers
    handler.region = handler.get_region_from_url(SimpleNamespace(headers=headers), url)
    handler.partition = get_partition(handler.region)
    handler.uri_match = {}
    handler.response_headers = {"server": "amazon.com", "date": http_date(utcnow())}
    handler.params = params
    handler.access_key = handler.get_access_key()
    handler.current_account = handler.get_current_account()
    mark_account_as_visited(
        account_id=handler.current_account, access_key=handler.access_key, service="dynamodb", region=handler.region
    )
    return handler


@contextmanager
def direct_dynamodb_requests() -> Iterator[None]:
    from moto import settings as moto_settings
    from moto.core import config as moto_config
    from moto.core import responses as moto_responses
    from moto.core.botocore_stubber import BotocoreStubber
    from moto.core.common_types import TYPE_RESPONSE
    from moto.core.exceptions import HTTPException
    from moto.core.responses import get_service_model
    from moto.dynamodb.responses import DynamoHandler
    from moto.moto_api import recorder
    from werkzeug.datastructures import Headers

    original = BotocoreStubber.process_request
    service_model = get_service_model("dynamodb")

    def direct(request: Any) -> TYPE_RESPONSE | None:
        """moto's answer to ``request`` by the short way, or None where it must go moto's whole way."""
        if not _ENDPOINT.fullmatch(request.url) or request.method != "POST":
            return None
        # As moto's request carries them: values decoded as UTF-8, Transfer-Encoding dropped.
        headers = Headers(
            [
                (key, value.decode("utf-8") if isinstance(value, bytes) else value)
                for key, value in request.headers.items()
                if key.lower() != "transfer-encoding"
            ]
        )
        operation = headers.get("X-Amz-Target", "").rpartition(".")[2]
        body = request.body
        if (
            operation not in OPERATIONS
            or headers.get("Content-Type") != _JSON_CONTENT
            or not isinstance(body, bytes)
            or b"Action" in body  # moto's query-string pass of the body could take an Action from it
            or _BINARY.search(body)  # a binary AttributeValue ("B", "BS"), decoded by moto's parser
            or headers.get("Content-Encoding")
            or float("inf") != moto_settings.INITIAL_NO_AUTH_ACTION_COUNT  # IAM authorization is on
            or recorder._user_enabled
            or moto_config.passthrough_url(request.url.rstrip("/"))
            or moto_config.passthrough_service("dynamodb")
            or not moto_config.service_whitelisted("dynamodb")
        ):
            return None
        input_shape = service_model.operation_model(operation).input_shape
        if not _plain_types(input_shape):
            return None
        text = body.decode("utf-8")
        try:
            params = parse_json(input_shape, json.loads(text)) if text else {}
        except ValueError:  # not JSON: moto answers that in its own words
            return None
        handler = _set_up(DynamoHandler(), request.url, headers, body, params)
        try:
            result: TYPE_RESPONSE = handler.call_action()
        except HTTPException as error:
            return error.code, error.get_headers(), error.get_body()
        return result

    def process_request(self: Any, request: Any) -> TYPE_RESPONSE | None:
        answer = direct(request)
        return original(self, request) if answer is None else answer

    with (
        mock.patch.object(BotocoreStubber, "process_request", process_request),
        # For every service: call_action lists the handler class's members (inspect.getmembers) per request.
        mock.patch.object(moto_responses, "method_names_from_class", _FunctionNames),
    ):
        yield
