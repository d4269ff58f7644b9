"""The local API front on a free port, with the template's routes and scripted functions behind it (helpers).

The functions are a stand-in for ``lambda.invoke`` (no moto, no handlers): each test scripts what the function
answers and reads back the proxy events the front built. Requests go over a real socket, so what a client sees
(an answer, or a dropped connection) is what is tested.
"""

from __future__ import annotations

import gzip
import http.client
import io
import json
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from importlib import resources
from typing import Any

import jwt

from infra.local.api import ApiServer, LocalApi
from infra.local.stack import DeployedStack
from infra.local.template import ApiRoute, api_routes, load_template

ROUTES = api_routes(load_template())
WEB_URL = "http://127.0.0.1:5173"
REGION = "ap-east-1"
USER_POOL = "ap-east-1_localfront"
CLIENT_ID = "local-front-client"
#: A bound on one request or connection: it only ends a test that has already failed, so it is generous.
WAIT = 120.0

#: (payload, FunctionError or None) for an event
Script = Callable[[dict[str, Any]], tuple[Any, str | None]]


def ok(event: dict[str, Any]) -> tuple[Any, str | None]:
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": '{"ok": true}'}, None


@dataclass
class Functions:
    """Stands in for the Lambda client: records each invocation, answers as scripted."""

    script: Script = ok
    invocations: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def invoke(self, FunctionName: str, Payload: bytes) -> dict[str, Any]:  # noqa: N803 (boto3's names)
        event = json.loads(Payload)
        self.invocations.append((FunctionName, event))
        payload, error = self.script(event)
        raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        answer: dict[str, Any] = {"StatusCode": 200, "Payload": io.BytesIO(raw)}
        if error:
            answer["FunctionError"] = error
        return answer

    @property
    def events(self) -> list[dict[str, Any]]:
        return [event for _, event in self.invocations]


def local_stack_stand_in() -> DeployedStack:
    physical = {route.function: f"lending-local-{route.function}" for route in ROUTES}
    return DeployedStack(REGION, physical, {}, {}, {}, list(ROUTES), USER_POOL, CLIENT_ID)


def route(path: str, method: str) -> ApiRoute:
    return next(r for r in ROUTES if r.path == path and r.method == method)


def methods_of(path: str) -> set[str]:
    return {r.method for r in ROUTES if r.path == path}


def id_token(sub: str = "borrower-1", groups: tuple[str, ...] = ()) -> str:
    """An ID token of the stand-in pool, signed with moto's Cognito key (the one the front trusts)."""
    raw = resources.files("moto").joinpath("cognitoidp/resources/jwks-private.json.gz").read_bytes()
    key = jwt.PyJWK(json.loads(gzip.decompress(raw))).key
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": f"https://cognito-idp.{REGION}.amazonaws.com/{USER_POOL}",
        "sub": sub,
        "aud": CLIENT_ID,
        "token_use": "id",
        "iat": now,
        "exp": now + 3600,
    }
    if groups:
        claims["cognito:groups"] = list(groups)
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "dummy"})


@dataclass
class Answer:
    status: int
    headers: Message
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Front:
    """The front on a free port, and a client for it."""

    server: ApiServer
    api: LocalApi
    functions: Functions

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.server.server.server_address[:2]
        return str(host), int(port)

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> Answer:
        """One request on a fresh connection; an answer, or the exception a dropped connection raises."""
        connection = http.client.HTTPConnection(*self.address, timeout=WAIT)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return Answer(response.status, response.headers, response.read())
        finally:
            connection.close()

    def raw(self, data: bytes) -> bytes:
        """Bytes in, every byte the front sends back until it closes the connection."""
        with socket.create_connection(self.address, timeout=WAIT) as client:
            client.sendall(data)
            answer = b""
            while chunk := client.recv(65536):
                answer += chunk
            return answer
