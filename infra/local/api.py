"""The local API front: what API Gateway does for the template's REST API, on 127.0.0.1, without Docker.

Routes come from the template's ``Events: Api`` entries. A route behind the Cognito authorizer needs a bearer ID
token from the template's user pool, verified as the authorizer verifies it: RS256 signature against the pool's
public keys (moto's), expiry, issuer and audience; the claims reach the function in
``requestContext.authorizer.claims``. A bad token is 401 before any function runs. The request becomes an API
Gateway REST proxy event and goes through moto's ``lambda.invoke``, so the function runs exactly as it would
behind API Gateway.

Every request gets an answer, whatever it carries: a body that is not UTF-8 is handed on base64
(``isBase64Encoded``), as API Gateway hands on a binary body; an answer the front makes itself (no such path,
a method the path does not have, a bad token, an unreadable request, a function that failed or answered something
that is not a proxy answer) is the contract's error body ``{"error": {"code", "message"}}``. A CORS preflight from
an allowed origin is answered here, as the OPTIONS methods SAM adds for an Api's ``Cors`` setting answer it.
A function that fails or answers 5xx leaves one line in the stack's log (``infra.local.api``): route, function,
status and the error, never the request.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import io
import json
import logging
import re
import sys
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from email.message import Message
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import IO, Any
from urllib.parse import parse_qs, urlsplit

import jwt

from infra.local.stack import DeployedStack
from infra.local.template import ApiRoute
from lending.api.language import message_in, preferred_language

API_STAGE = "local"
#: API Gateway refuses a request payload over 10 MB; the functions refuse much less (the contract's 64 KiB).
MAX_REQUEST_BYTES = 10 * 1024 * 1024
#: What a browser's preflight may ask to send: the contract's request headers.
CORS_REQUEST_HEADERS = ("Authorization", "Content-Type", "Idempotency-Key", "Accept-Language", "X-Signature")
CORS_MAX_AGE_SECONDS = 600
#: Hop-by-hop and framing headers: the front frames its own answer.
_FRAMING = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive"})

log = logging.getLogger(__name__)

Headers = list[tuple[str, str]]


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
    multi_value_headers: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    """An API Gateway REST proxy event (version 1.0), as API Gateway builds it.

    A body that is not UTF-8 text goes base64 with ``isBase64Encoded``, as API Gateway passes a binary body.
    """
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
        "identity": {"sourceIp": "127.0.0.1", "userAgent": _header(headers, "User-Agent") or ""},
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
        "multiValueHeaders": multi_value_headers or {k: [v] for k, v in headers.items()},
        "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": path_parameters or None,
        "stageVariables": None,
        "requestContext": request_context,
        "body": text,
        "isBase64Encoded": encoded,
    }


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """A request header by name, in any case (HTTP header names are case-insensitive)."""
    wanted = name.lower()
    found = None
    for key, value in headers.items():
        if key.lower() == wanted:
            found = value
    return found


# ---------------------------------------------------------------------------------------------- the front's errors

#: The front's own errors in English; the Chinese, as every function's, is lending.api.language's. The code never
#: changes with the language.
_MESSAGES: dict[str, str] = {
    "bad_request": "the request could not be read",
    "unauthorized": "a valid bearer token is required",
    "origin_not_allowed": "this origin may not call the API",
    "not_found": "no such resource",
    "method_not_allowed": "this resource does not answer that method",
    "request_timeout": "the request did not arrive in time",
    "payload_too_large": "the request body is too large",
    "uri_too_long": "the request address is too long",
    "headers_too_large": "the request headers are too large",
    "internal_error": "something went wrong on our side",
    "not_implemented": "the server cannot answer that request",
    "bad_gateway": "the service answered badly; try again later",
    "http_version_not_supported": "that HTTP version is not supported",
}
_CODES = {
    HTTPStatus.BAD_REQUEST: "bad_request",
    HTTPStatus.UNAUTHORIZED: "unauthorized",
    HTTPStatus.NOT_FOUND: "not_found",
    HTTPStatus.METHOD_NOT_ALLOWED: "method_not_allowed",
    HTTPStatus.REQUEST_TIMEOUT: "request_timeout",
    HTTPStatus.REQUEST_ENTITY_TOO_LARGE: "payload_too_large",
    HTTPStatus.REQUEST_URI_TOO_LONG: "uri_too_long",
    HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE: "headers_too_large",
    HTTPStatus.INTERNAL_SERVER_ERROR: "internal_error",
    HTTPStatus.NOT_IMPLEMENTED: "not_implemented",
    HTTPStatus.BAD_GATEWAY: "bad_gateway",
    HTTPStatus.HTTP_VERSION_NOT_SUPPORTED: "http_version_not_supported",
}


def error_answer(status: int, code: str, language: str = "zh-CN") -> tuple[int, Headers, bytes]:
    """The contract's error body for an answer the front makes itself."""
    message = message_in(language, code, _MESSAGES.get(code, _MESSAGES["internal_error"]))
    body = json.dumps({"error": {"code": code, "message": message}}, ensure_ascii=False).encode()
    return status, [("Content-Type", "application/json; charset=utf-8"), ("Content-Language", language)], body


# ---------------------------------------------------------------------------------------------------------- CORS


@dataclass(frozen=True, slots=True)
class CorsPolicy:
    """Which browser origins may call the API, and what their preflights are told."""

    origins: frozenset[str]  # exact origins (scheme://host[:port]); "*" for any
    headers: tuple[str, ...] = CORS_REQUEST_HEADERS
    methods: tuple[str, ...] | None = None  # None: each path's own methods
    max_age: int = CORS_MAX_AGE_SECONDS
    credentials: bool = False

    def allows(self, origin: str | None) -> bool:
        return bool(origin) and ("*" in self.origins or _origin(origin or "") in self.origins)

    def allow_origin(self, origin: str) -> str:
        return "*" if "*" in self.origins and not self.credentials else origin


def cors_headers(policy: CorsPolicy | None, origin: str | None) -> Headers:
    """What an answer to a request from ``origin`` carries so that the browser lets the page read it."""
    if policy is None or not origin or not policy.allows(origin):
        return []
    found: Headers = [("Access-Control-Allow-Origin", policy.allow_origin(origin)), ("Vary", "Origin")]
    if policy.credentials:
        found.append(("Access-Control-Allow-Credentials", "true"))
    return found


def _origin(url: str) -> str:
    """``scheme://host[:port]`` of a URL, as a browser writes it in ``Origin``."""
    parts = urlsplit(url.strip())
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}" if parts.scheme and parts.netloc else url.strip()


def web_origin_policy(web_url: str) -> CorsPolicy:
    """Only the local web app's origin, as ``127.0.0.1`` or ``localhost`` (the same page, as a browser may name it)."""
    origin = _origin(web_url)
    parts = urlsplit(origin)
    twins = {"127.0.0.1": "localhost", "localhost": "127.0.0.1"}
    origins = {origin}
    if parts.hostname in twins:
        port = f":{parts.port}" if parts.port else ""
        origins.add(f"{parts.scheme}://{twins[parts.hostname]}{port}")
    return CorsPolicy(frozenset(origins))


def _sam_literal(value: Any) -> str | None:
    """A SAM ``Cors`` value: a string in single quotes (``"'GET,POST'"``); an intrinsic cannot be read locally."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == "'" else text


def cors_from_template(template: Mapping[str, Any]) -> CorsPolicy | None:
    """The policy of the template's ``AWS::Serverless::Api`` ``Cors`` (or ``Globals.Api.Cors``), if it has one."""
    settings = [
        resource.get("Properties", {}).get("Cors")
        for resource in template.get("Resources", {}).values()
        if resource.get("Type") == "AWS::Serverless::Api"
    ]
    settings.append(template.get("Globals", {}).get("Api", {}).get("Cors"))
    for setting in settings:
        if setting is None:
            continue
        cors = setting if isinstance(setting, Mapping) else {"AllowOrigin": setting}
        origin = _sam_literal(cors.get("AllowOrigin"))
        if not origin:
            continue
        methods = _sam_literal(cors.get("AllowMethods"))
        headers = _sam_literal(cors.get("AllowHeaders"))
        max_age = _sam_literal(cors.get("MaxAge"))
        return CorsPolicy(
            frozenset(_origin(o) if o.strip() != "*" else "*" for o in origin.split(",") if o.strip()),
            tuple(h.strip() for h in headers.split(",") if h.strip()) if headers else CORS_REQUEST_HEADERS,
            tuple(m.strip().upper() for m in methods.split(",") if m.strip()) if methods else None,
            int(max_age) if max_age and max_age.isdigit() else CORS_MAX_AGE_SECONDS,
            bool(cors.get("AllowCredentials", False)),
        )
    return None


# ------------------------------------------------------------------------------------------------- the front


class _Malformed(Exception):
    """A function's answer that is not a REST proxy answer (API Gateway: 502 Malformed Lambda proxy response)."""


def _proxy_answer(payload: Any) -> tuple[int, Headers, bytes]:
    """A function's proxy answer as (status, headers, body), or _Malformed."""
    if not isinstance(payload, dict) or "statusCode" not in payload:
        raise _Malformed("no statusCode in the answer")
    status = payload["statusCode"]
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if isinstance(status, bool) or not isinstance(status, int) or not 200 <= status <= 599:
        raise _Malformed(f"statusCode {status!r} is not an HTTP status")
    single = payload.get("headers") or {}
    multi = payload.get("multiValueHeaders") or {}
    if not isinstance(single, dict) or not isinstance(multi, dict):
        raise _Malformed("headers are not an object")
    out: Headers = []
    multi_names = {str(name).lower() for name in multi}
    for name, value in single.items():
        if str(name).lower() not in multi_names and str(name).lower() not in _FRAMING:
            out.append((str(name), _header_value(value)))
    for name, values in multi.items():
        if not isinstance(values, list):
            raise _Malformed(f"multiValueHeaders {name!r} is not a list")
        if str(name).lower() not in _FRAMING:
            out.extend((str(name), _header_value(v)) for v in values)
    for name, value in out:
        if not re.fullmatch(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+", name) or re.search(r"[\r\n\0]", value):
            raise _Malformed(f"header {name!r} cannot be sent")
        try:
            value.encode("latin-1")
        except UnicodeEncodeError:
            raise _Malformed(f"header {name!r} is not ISO-8859-1") from None
    raw_body = payload.get("body")
    if raw_body is None:
        raw_body = ""
    if not isinstance(raw_body, str):
        raise _Malformed("body is not a string")
    if payload.get("isBase64Encoded"):
        try:
            data = base64.b64decode(raw_body, validate=True)
        except (binascii.Error, ValueError):
            raise _Malformed("body is not base64") from None
    else:
        data = raw_body.encode("utf-8", "surrogatepass")
    return status, out, data


def _header_value(value: Any) -> str:
    if value is None or isinstance(value, dict | list):
        raise _Malformed("a header value is not a scalar")
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _one_line(text: str, limit: int = 300) -> str:
    """An error message fit for one log line: no line breaks, long digit runs (phones, ids, accounts) masked."""
    flat = " ".join(text.split())
    masked = re.sub(r"\d{7,}", lambda m: m.group()[:2] + "*" * (len(m.group()) - 2), flat)
    return masked if len(masked) <= limit else masked[: limit - 1] + "…"


class LocalApi:
    """Routes HTTP requests to the deployed functions through moto's Lambda invoke path."""

    def __init__(self, stack: DeployedStack, *, cors: CorsPolicy | None = None, lambda_client: Any = None) -> None:
        self.stack = stack
        self.cors = cors
        self.verifier = CognitoVerifier(stack.region, stack.user_pool_id, stack.user_pool_client_id)
        # One resource per template path, most specific first: a literal segment wins over a {placeholder}, as
        # API Gateway picks the resource.
        resources: dict[str, list[ApiRoute]] = {}
        for route in stack.routes:
            resources.setdefault(route.path, []).append(route)
        self._resources = sorted(
            ((path, routes[0].matcher(), {r.method: r for r in routes}) for path, routes in resources.items()),
            key=lambda item: (item[0].count("{"), -len(item[0])),
        )
        self._lambda: Any = lambda_client
        self._building = threading.Lock()

    def lambda_client(self) -> Any:
        """One Lambda client for every request (building a boto3 client per request costs tens of ms)."""
        if self._lambda is None:
            import boto3

            with self._building:
                if self._lambda is None:
                    self._lambda = boto3.session.Session().client("lambda", region_name=self.stack.region)
        return self._lambda

    def resource(self, path: str) -> tuple[str, dict[str, ApiRoute], dict[str, str]] | None:
        """The template path a concrete path falls on: (path, its routes by method, the path parameters)."""
        for template_path, pattern, routes in self._resources:
            found = pattern.match(path)
            if found:
                return template_path, routes, found.groupdict()
        return None

    def match(self, method: str, path: str) -> tuple[ApiRoute, dict[str, str]] | None:
        found = self.resource(path)
        if found is None or method not in found[1]:
            return None
        return found[1][method], found[2]

    def handle(
        self,
        method: str,
        raw_path: str,
        headers: Mapping[str, str] | Iterable[tuple[str, str]],
        body: bytes,
    ) -> tuple[int, Headers, bytes]:
        """One request in, one response out: (status, headers, body). It never raises."""
        pairs = list(headers.items()) if isinstance(headers, Mapping) else list(headers)
        single = dict(pairs)  # the last value of each name, as API Gateway's ``headers``
        language = preferred_language(_header(single, "Accept-Language"))
        origin = _header(single, "Origin")
        try:
            status, out, data = self._answer(method, raw_path, pairs, single, body, language, origin)
        except Exception as exc:  # the front's own failure: still an answer, in the contract's shape
            log.error("local front: %s %s failed: %s: %s", method, _path_only(raw_path), type(exc).__name__, exc)
            status, out, data = error_answer(500, "internal_error", language)
        if not any(name.lower() == "access-control-allow-origin" for name, _ in out):
            out += cors_headers(self.cors, origin)
        return status, out, data

    def _answer(
        self,
        method: str,
        raw_path: str,
        pairs: list[tuple[str, str]],
        single: dict[str, str],
        body: bytes,
        language: str,
        origin: str | None,
    ) -> tuple[int, Headers, bytes]:
        parts = urlsplit(raw_path)
        found = self.resource(parts.path)
        if found is None:
            return error_answer(404, "not_found", language)
        _, routes, path_parameters = found
        allowed = ", ".join(sorted({*routes, "OPTIONS"}))
        if method == "OPTIONS" and "OPTIONS" not in routes:
            return self._options(routes, allowed, single, language, origin)
        route = routes.get(method)
        if route is None:
            status, out, data = error_answer(405, "method_not_allowed", language)
            return status, [*out, ("Allow", allowed)], data
        claims = None
        if route.authorizer is not None:
            try:
                claims = self.verifier.claims(_header(single, "Authorization"))
            except TokenRejected:
                return error_answer(401, "unauthorized", language)
        multi: dict[str, list[str]] = {}
        for name, value in pairs:
            multi.setdefault(name, []).append(value)
        query = parse_qs(parts.query, keep_blank_values=True)
        event = proxy_event(route, method, parts.path, path_parameters, query, single, body, claims, multi)
        return self._invoke(route, event, language)

    def _options(
        self,
        routes: Mapping[str, ApiRoute],
        allowed: str,
        single: dict[str, str],
        language: str,
        origin: str | None,
    ) -> tuple[int, Headers, bytes]:
        """OPTIONS: a CORS preflight from an allowed origin, else the path's methods in ``Allow``."""
        preflight = origin is not None and _header(single, "Access-Control-Request-Method") is not None
        if not preflight:
            return 204, [("Allow", allowed)], b""
        if self.cors is None or not self.cors.allows(origin):
            return error_answer(403, "origin_not_allowed", language)
        methods = self.cors.methods or tuple(sorted({*routes, "OPTIONS"}))
        return (
            204,
            [
                ("Allow", allowed),
                ("Access-Control-Allow-Methods", ", ".join(methods)),
                ("Access-Control-Allow-Headers", ", ".join(self.cors.headers)),
                ("Access-Control-Max-Age", str(self.cors.max_age)),
            ],
            b"",
        )

    def _invoke(self, route: ApiRoute, event: dict[str, Any], language: str) -> tuple[int, Headers, bytes]:
        """Run the route's function; its answer, or 502 when it failed or its answer is not a proxy answer."""
        function_name = self.stack.physical_ids.get(route.function, route.function)
        try:
            response = self.lambda_client().invoke(FunctionName=function_name, Payload=json.dumps(event).encode())
            raw = response["Payload"].read()
        except Exception as exc:  # the invoke itself failed: API Gateway answers 502 too
            self._log_failure(route, 502, type(exc).__name__, str(exc))
            return error_answer(502, "bad_gateway", language)
        try:
            payload = json.loads(raw or b"null")
        except ValueError:
            self._log_failure(route, 502, "MalformedAnswer", "the answer is not JSON")
            return error_answer(502, "bad_gateway", language)
        if response.get("FunctionError"):
            error = payload if isinstance(payload, dict) else {}
            self._log_failure(
                route,
                502,
                str(error.get("errorType") or response["FunctionError"]),
                str(error.get("errorMessage") or ""),
            )
            return error_answer(502, "bad_gateway", language)
        try:
            status, out, data = _proxy_answer(payload)
        except _Malformed as exc:
            self._log_failure(route, 502, "MalformedAnswer", str(exc))
            return error_answer(502, "bad_gateway", language)
        if status >= 500:
            code, message = _error_of(data)
            self._log_failure(route, status, code, message)
        return status, out, data

    def _log_failure(self, route: ApiRoute, status: int, error_type: str, message: str) -> None:
        """One line in the stack's log; the request itself (body, headers, path values) stays out of it."""
        log.error(
            "function failed: %s %s -> %s status=%d error=%s: %s",
            route.method,
            route.path,
            route.function,
            status,
            _one_line(error_type, 80),
            _one_line(message),
        )


def _error_of(data: bytes) -> tuple[str, str]:
    """The code and message of a contract error body, for the log."""
    try:
        error = json.loads(data).get("error") or {}
        return str(error.get("code") or "unknown"), str(error.get("message") or "")
    except (ValueError, AttributeError):
        return "unknown", "the answer has no error body"


def _path_only(raw_path: str) -> str:
    """A request path without its query (queries can carry personal data)."""
    return urlsplit(raw_path).path[:200]


def log_to_stderr(stream: IO[str] | None = None) -> logging.Handler:
    """Send the front's log lines to the stack's stderr (``make run``), one line each."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s local-api %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    return handler


# ------------------------------------------------------------------------------------------------ the server


class _BadRequest(Exception):
    """A request the front cannot read: answered with ``status``, then the connection is closed."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


def _read_body(headers: Message, rfile: io.BufferedIOBase) -> bytes:
    """The request body, framed by Content-Length or chunked transfer coding, at most MAX_REQUEST_BYTES."""
    coding = headers.get("Transfer-Encoding")
    lengths = headers.get_all("Content-Length") or []
    if coding is not None:
        if lengths or coding.strip().lower() != "chunked":
            raise _BadRequest(400)  # both framings, or a coding the front does not speak: ambiguous, refused
        return _read_chunked(rfile)
    if not lengths:
        return b""
    values = {value.strip() for value in ",".join(lengths).split(",")}
    if len(values) != 1 or not next(iter(values)).isdigit():
        raise _BadRequest(400)
    length = int(next(iter(values)))
    if length > MAX_REQUEST_BYTES:
        raise _BadRequest(413)
    body = rfile.read(length) if length else b""
    if len(body) < length:
        raise _BadRequest(400)  # the client went away mid-body
    return body


def _read_chunked(rfile: io.BufferedIOBase) -> bytes:
    body = bytearray()
    while True:
        line = rfile.readline(1026)
        size_text = line.split(b";", 1)[0].strip()
        if not line.endswith(b"\n") or not re.fullmatch(rb"[0-9A-Fa-f]{1,8}", size_text):
            raise _BadRequest(400)
        size = int(size_text, 16)
        if size == 0:
            for _ in range(100):  # trailers, up to the blank line
                trailer = rfile.readline(65537)
                if trailer in (b"\r\n", b"\n", b""):
                    return bytes(body)
            raise _BadRequest(400)
        if len(body) + size > MAX_REQUEST_BYTES:
            raise _BadRequest(413)
        chunk = rfile.read(size)
        if len(chunk) < size or rfile.readline(3) not in (b"\r\n", b"\n"):
            raise _BadRequest(400)
        body += chunk


class _Handler(BaseHTTPRequestHandler):
    api: LocalApi
    protocol_version = "HTTP/1.1"
    #: An idle or stalled connection is closed after this long, so it cannot hold a thread for ever.
    timeout = 120

    def __getattr__(self, name: str) -> Any:
        # Every method is the front's to answer (API Gateway answers TRACE, OPTIONS, PROPFIND... too), not
        # http.server's 501 page.
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def _serve(self) -> None:
        language = preferred_language(self.headers.get("Accept-Language"))
        try:
            body = _read_body(self.headers, self.rfile)
        except _BadRequest as refused:
            code = _CODES.get(HTTPStatus(refused.status), "bad_request")
            status, out, data = error_answer(refused.status, code, language)
            out += cors_headers(getattr(self.api, "cors", None), self.headers.get("Origin"))
            self._write(status, [*out, ("Connection", "close")], data)
            return
        status, out, data = self.api.handle(self.command, self.path, list(self.headers.items()), body)
        self._write(status, out, data)

    def _write(self, status: int, headers: Headers | Mapping[str, str], data: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items() if isinstance(headers, Mapping) else headers:
            if name.lower() != "content-length":
                self.send_header(name, value)  # "Connection: close" also closes the connection after it
        if status >= 200 and status not in (204, 304):
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD" and status >= 200 and status not in (204, 304):
            self.wfile.write(data)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own refusals (an unreadable request line or headers) in the contract's shape."""
        self.close_connection = True
        headers = getattr(self, "headers", None)
        language = preferred_language(headers.get("Accept-Language") if headers is not None else None)
        try:
            refusal = HTTPStatus(code)
        except ValueError:
            refusal = HTTPStatus.BAD_REQUEST
        status, out, data = error_answer(int(refusal), _CODES.get(refusal, "bad_request"), language)
        if not getattr(self, "command", None):
            self.command = ""
        if getattr(self, "request_version", "HTTP/0.9") == "HTTP/0.9":
            self.request_version = self.protocol_version  # an unreadable request line still gets a status line
        self._write(status, [*out, ("Connection", "close")], data)

    def log_message(self, format: str, *args: Any) -> None:
        """Request lines stay out of the output: paths can carry ids, bodies carry personal data."""


class _FrontServer(ThreadingHTTPServer):
    # socketserver's backlog of 5 refuses the sixth client that arrives at once; a web app opens many together.
    request_queue_size = 128
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A connection that broke mid-answer: one line, not a traceback (the client is gone)."""
        error = sys.exc_info()[1]
        if not isinstance(error, ConnectionError | TimeoutError):
            log.error("local front: connection failed: %s: %s", type(error).__name__, error)


class ApiServer:
    """The front on a loopback port, in a background thread.

    The socket is bound and listening as soon as the server is made (port 0: a free port the system picks, with no
    window in which another process could take it), so ``url`` is known before anything is served: the local stack
    is deployed with it as the vendors' callback address, and only then is the API handed over with
    :meth:`serve`. A client that connects in between waits in the listen backlog and is answered once serving starts.
    """

    def __init__(self, api: LocalApi | None = None, host: str = "127.0.0.1", port: int = 3000) -> None:
        self._handler: type[_Handler] = type("Handler", (_Handler,), {"api": api})
        self.server = _FrontServer((host, port), self._handler)
        self.url = f"http://{host}:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, name="local-api", daemon=True)

    def serve(self, api: LocalApi) -> ApiServer:
        """Answer with ``api`` from now on (the server made without one) and start accepting."""
        self._handler.api = api
        return self.start()

    def start(self) -> ApiServer:
        if getattr(self._handler, "api", None) is None:
            raise RuntimeError("the local front has no API to serve: use serve(api)")
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():  # shutdown() waits for a serve_forever that was never started: for ever
            self.server.shutdown()
        self.server.server_close()
