"""The local API front: what API Gateway does for the template's REST API, on 127.0.0.1, without Docker.

Routes come from the template's ``Events: Api`` entries. A route behind the Cognito authorizer needs a bearer ID
token from the template's user pool, verified as the authorizer verifies it: RS256 signature against the pool's
public keys (moto's), expiry, issuer and audience; the claims reach the function in
``requestContext.authorizer.claims``. A bad token is 401 before any function runs. The request becomes an API
Gateway REST proxy event and goes through moto's ``lambda.invoke``, so the function runs exactly as it would
behind API Gateway.
"""

from __future__ import annotations

import base64
import gzip
import json
import threading
import time
import uuid
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt

from infra.local.stack import DeployedStack
from infra.local.template import ApiRoute

API_STAGE = "local"


def moto_signing_keys() -> dict[str, Any]:
    """The public keys moto signs Cognito tokens with, by key id (a JWKS, as Cognito publishes)."""
    raw = resources.files("moto").joinpath("cognitoidp/resources/jwks-public.json.gz").read_bytes()
    jwks = json.loads(gzip.decompress(raw))
    return {key["kid"]: jwt.PyJWK(key) for key in jwks["keys"]}


class TokenRejected(Exception):
    """A missing, malformed, forged, expired or foreign token."""


class CognitoVerifier:
    """Verifies ID tokens of one user pool and app client, as API Gateway's Cognito authorizer does."""

    def __init__(self, region: str, user_pool_id: str, client_id: str) -> None:
        self.issuer = f"https://cognito-idp.{region}.amazonaws.com/{user_pool_id}"
        self.client_id = client_id
        self._keys = moto_signing_keys()

    def claims(self, authorization: str | None) -> dict[str, Any]:
        """The token's claims, or TokenRejected."""
        if not authorization or not authorization.startswith("Bearer "):
            raise TokenRejected("a bearer token is required")
        token = authorization.removeprefix("Bearer ").strip()
        try:
            header = jwt.get_unverified_header(token)
            key = self._keys.get(header.get("kid", ""))
            if key is None or header.get("alg") != "RS256":
                raise TokenRejected("unknown signing key")
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key.key,
                algorithms=["RS256"],
                audience=self.client_id,
                issuer=self.issuer,
                options={"require": ["exp", "iss", "sub", "aud", "token_use"]},
            )
        except jwt.PyJWTError as exc:
            raise TokenRejected(str(exc)) from None
        if claims.get("token_use") != "id":
            raise TokenRejected("an ID token is required")
        return claims


def _rest_claims(claims: Mapping[str, Any]) -> dict[str, str]:
    """Claims as a REST API's Cognito authorizer passes them: every value a string, groups space-joined."""
    passed = {}
    for name, value in claims.items():
        if isinstance(value, list):
            passed[name] = " ".join(str(v) for v in value)
        else:
            passed[name] = str(value)
    return passed


def proxy_event(
    route: ApiRoute,
    method: str,
    path: str,
    path_parameters: dict[str, str],
    query: dict[str, list[str]],
    headers: dict[str, str],
    body: bytes,
    claims: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """An API Gateway REST proxy event (version 1.0), as API Gateway builds it."""
    try:
        text, encoded = (body.decode("utf-8") if body else None), False
    except UnicodeDecodeError:  # not text: handed on base64, as API Gateway hands on a binary body
        text, encoded = base64.b64encode(body).decode(), True
    request_context: dict[str, Any] = {
        "resourcePath": route.path,
        "httpMethod": method,
        "path": f"/{API_STAGE}{path}",
        "stage": API_STAGE,
        "requestId": str(uuid.uuid4()),
        "requestTimeEpoch": int(time.time() * 1000),
        "identity": {"sourceIp": "127.0.0.1", "userAgent": headers.get("User-Agent", "")},
        "protocol": "HTTP/1.1",
        "accountId": "123456789012",
        "apiId": "local",
    }
    if claims is not None:
        request_context["authorizer"] = {"claims": _rest_claims(claims)}
    return {
        "resource": route.path,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": path_parameters or None,
        "stageVariables": None,
        "requestContext": request_context,
        "body": text,
        "isBase64Encoded": encoded,
    }


class LocalApi:
    """Routes HTTP requests to the deployed functions through moto's Lambda invoke path."""

    def __init__(self, stack: DeployedStack) -> None:
        self.stack = stack
        self.verifier = CognitoVerifier(stack.region, stack.user_pool_id, stack.user_pool_client_id)
        self._routes = [(route, route.matcher()) for route in stack.routes]
        self._lambda: Any = None
        self._building = threading.Lock()

    def lambda_client(self) -> Any:
        """One Lambda client for every request (building a boto3 client per request costs tens of ms)."""
        if self._lambda is None:
            import boto3

            with self._building:
                if self._lambda is None:
                    self._lambda = boto3.session.Session().client("lambda", region_name=self.stack.region)
        return self._lambda

    def match(self, method: str, path: str) -> tuple[ApiRoute, dict[str, str]] | None:
        for route, pattern in self._routes:
            found = pattern.match(path)
            if found and route.method == method:
                return route, found.groupdict()
        return None

    def handle(
        self, method: str, raw_path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        """One request in, one response out: (status, headers, body)."""
        parts = urlsplit(raw_path)
        matched = self.match(method, parts.path)
        if matched is None:
            return _error(
                404 if not any(p.match(parts.path) for _, p in self._routes) else 405, "not_found", "no such route"
            )
        route, path_parameters = matched
        claims = None
        if route.authorizer is not None:
            try:
                claims = self.verifier.claims(headers.get("Authorization"))
            except TokenRejected:
                return _error(401, "unauthorized", "Unauthorized")
        event = proxy_event(route, method, parts.path, path_parameters, parse_qs(parts.query), headers, body, claims)
        function_name = self.stack.physical_ids[route.function]
        response = self.lambda_client().invoke(FunctionName=function_name, Payload=json.dumps(event).encode())
        payload = json.loads(response["Payload"].read() or b"null")
        if response.get("FunctionError") or not isinstance(payload, dict) or "statusCode" not in payload:
            return _error(502, "bad_gateway", "Internal server error")
        out_headers = {k: str(v) for k, v in (payload.get("headers") or {}).items()}
        for name, values in (payload.get("multiValueHeaders") or {}).items():
            out_headers[name] = ", ".join(str(v) for v in values)
        raw_body = payload.get("body") or ""
        data = base64.b64decode(raw_body) if payload.get("isBase64Encoded") else raw_body.encode()
        return int(payload["statusCode"]), out_headers, data


def _error(status: int, code: str, message: str) -> tuple[int, dict[str, str], bytes]:
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    return status, {"Content-Type": "application/json"}, body


class _Handler(BaseHTTPRequestHandler):
    api: LocalApi
    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = dict(self.headers.items())
        status, out_headers, data = self.api.handle(self.command, self.path, headers, body)
        self.send_response(status)
        for name, value in out_headers.items():
            if name.lower() != "content-length":
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Request lines stay out of the output: paths can carry ids, bodies carry personal data."""


class _FrontServer(ThreadingHTTPServer):
    # socketserver's backlog of 5 refuses the sixth client that arrives at once; a web app opens many together.
    request_queue_size = 128


class ApiServer:
    """The front on a loopback port, in a background thread."""

    def __init__(self, api: LocalApi, host: str = "127.0.0.1", port: int = 3000) -> None:
        handler = type("Handler", (_Handler,), {"api": api})
        self.server = _FrontServer((host, port), handler)
        self.server.daemon_threads = True
        self.url = f"http://{host}:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, name="local-api", daemon=True)

    def start(self) -> ApiServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
