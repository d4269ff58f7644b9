"""A small JSON HTTP server on loopback, run in a background thread: the base of every sandbox vendor.

Request lines are never logged: query strings carry ID numbers, phones and bank accounts. Each vendor logs its own
events, with references only.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

from lending import clock
from lending.errors import InvalidAmount
from lending.money import Money

MAX_BODY_BYTES = 64 * 1024

logger = logging.getLogger(__name__)


def utc_now() -> datetime:
    """The sandbox vendors' default clock: the platform's one clock (:mod:`lending.clock`), so that a vendor's
    dates (a report's, a statement window's, a payout's) move with the local test clock as the platform's do, and
    agree with them across midnight in China. Tests pass their own."""
    return clock.now()


class SandboxError(Exception):
    """An answer other than success, in the contract's error body."""

    def __init__(self, status: HTTPStatus, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra


@dataclass(frozen=True)
class Request:
    """What a route sees: the method, the path, the query (last value of each name), headers and JSON body."""

    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]  # lower-case names
    body: dict[str, Any] | None


@dataclass(frozen=True)
class Answer:
    """What a route returns."""

    status: HTTPStatus
    body: dict[str, Any]
    headers: Mapping[str, str] = field(default_factory=dict)


Route = Callable[[Request], Answer]


def invalid(fields: Mapping[str, str]) -> SandboxError:
    """A 422 naming the offending fields (``{"field", "problem"}`` items, as our own API does)."""
    return SandboxError(
        HTTPStatus.UNPROCESSABLE_ENTITY,
        "invalid_request",
        "The request is invalid: " + ", ".join(sorted(fields)),
        fields=[{"field": name, "problem": problem} for name, problem in sorted(fields.items())],
    )


def require_text(source: Mapping[str, Any] | None, name: str, problems: dict[str, str], *, prefix: str = "") -> str:
    """``source[name]`` if it is non-empty text; otherwise note the problem and return ""."""
    value = source.get(name) if source is not None else None
    if not isinstance(value, str) or not value.strip():
        problems[prefix + name] = "required text"
        return ""
    return value


class _Server(ThreadingHTTPServer):
    # socketserver's backlog of 5 refuses the sixth client arriving at once: nine applications in flight call the
    # same vendor together, and a loaded machine accepts late.
    request_queue_size = 128
    daemon_threads = True
    sandbox: SandboxServer


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "lending-sandbox/1"
    sys_version = ""
    # Headers and body go out in two writes; with Nagle's algorithm on, the second waits for the client's delayed
    # ACK (about 40 ms a request).
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        """Silenced: the request line holds personal data in its query string."""

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        sandbox = self.server.sandbox
        parts = urllib.parse.urlsplit(self.path)
        try:
            body = self._read_body()
            request = Request(
                method=self.command,
                path=parts.path,
                query=dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True)),
                headers={key.lower(): value for key, value in self.headers.items()},
                body=body,
            )
            answer = sandbox.handle(request)
        except SandboxError as error:
            answer = Answer(error.status, {"error": {"code": error.code, "message": error.message, **error.extra}})
        except Exception:
            logger.exception("sandbox %s failed on %s %s", sandbox.name, self.command, parts.path)
            answer = Answer(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": {"code": "internal", "message": "Failed."}})
        self._answer(answer)

    def _read_body(self) -> dict[str, Any] | None:
        length_header = self.headers.get("Content-Length")
        if length_header is None:
            return None
        try:
            length = int(length_header)
        except ValueError:
            raise SandboxError(HTTPStatus.BAD_REQUEST, "invalid_request", "Content-Length is not a number") from None
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            raise SandboxError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "body_too_large", "The body is over 64 KiB.")
        raw = self.rfile.read(length) if length > 0 else b""
        if not raw:
            return None
        try:
            document = json.loads(raw)
        except ValueError:
            raise SandboxError(HTTPStatus.BAD_REQUEST, "invalid_json", "The body is not JSON.") from None
        if not isinstance(document, dict):
            raise SandboxError(HTTPStatus.BAD_REQUEST, "invalid_json", "The body is not a JSON object.")
        return document

    def _answer(self, answer: Answer) -> None:
        payload = json.dumps(answer.body, separators=(",", ":"), ensure_ascii=False).encode()
        self.send_response(answer.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)


class SandboxServer:
    """A vendor's HTTP server on ``host:port`` (port 0: any free port), started and stopped from Python."""

    name: ClassVar[str] = "sandbox"

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, api_key: str | None = None) -> None:
        self.host = host
        self.port = port
        self.api_key = api_key
        self._routes: dict[tuple[str, str], Route] = {}
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def route(self, method: str, path: str, handler: Route) -> None:
        """Serve ``handler`` for ``method path`` (exact path match)."""
        self._routes[(method, path)] = handler

    @property
    def url(self) -> str:
        """The bound base URL, e.g. ``http://127.0.0.1:54321``; only once started."""
        if self._server is None:
            raise RuntimeError(f"the {self.name} sandbox is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host.decode() if isinstance(host, bytes) else host}:{port}"

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> None:
        """Bind and serve in a daemon thread; returns once the socket is listening."""
        if self._server is not None:
            return
        server = _Server((self.host, self.port), _Handler)
        server.sandbox = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"sandbox-{self.name}", daemon=True
        )
        self._thread.start()
        logger.info("sandbox %s listening on %s", self.name, self.url)

    def stop(self) -> None:
        """Stop serving, close the socket and join the thread."""
        server, thread = self._server, self._thread
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = None
        self._thread = None

    def handle(self, request: Request) -> Answer:
        """Route a request (after the API key check, when one is configured)."""
        if self.api_key is not None and request.headers.get("authorization") != f"Bearer {self.api_key}":
            raise SandboxError(HTTPStatus.UNAUTHORIZED, "unauthorized", "A valid API key is required.")
        handler = self._routes.get((request.method, request.path))
        if handler is None:
            if any(path == request.path for _, path in self._routes):
                raise SandboxError(HTTPStatus.METHOD_NOT_ALLOWED, "method_not_allowed", "Method not allowed.")
            raise SandboxError(HTTPStatus.NOT_FOUND, "not_found", "No such endpoint.")
        return handler(request)


_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


def idempotency_key(request: Request) -> str:
    """The request's Idempotency-Key, as money-moving providers require one; 400 without a well-formed one."""
    key = request.headers.get("idempotency-key", "")
    if not _IDEMPOTENCY_KEY.match(key):
        raise SandboxError(
            HTTPStatus.BAD_REQUEST,
            "idempotency_key_required",
            "An Idempotency-Key header of 1 to 255 visible ASCII characters is required.",
        )
    return key


def money_order(body: Mapping[str, Any] | None, problems: dict[str, str]) -> tuple[str, str, Money]:
    """What every order to move money names: the bank account (digits), our reference and a positive CNY amount;
    each problem noted in ``problems``."""
    account = require_text(body, "bank_account", problems)
    reference = require_text(body, "reference", problems)
    amount_text = require_text(body, "amount", problems)
    if account and not account.isdigit():
        problems["bank_account"] = "digits"
    if body is not None and body.get("currency", "CNY") != "CNY":
        problems["currency"] = "CNY only"
    amount = Money.ZERO
    if amount_text:
        try:
            amount = Money.of(amount_text)
        except InvalidAmount:
            problems["amount"] = "a decimal string with at most two places"
        else:
            if not amount.is_positive:
                problems["amount"] = "positive"
    return account, reference, amount


def claim_key(fingerprints: dict[str, str], key: str, *request: str) -> None:
    """Hold ``key`` to the request first made with it (its parts, fingerprinted); 409 for another request under it.
    Called with the provider's lock held."""
    fingerprint = hashlib.sha256(json.dumps(list(request), separators=(",", ":")).encode()).hexdigest()
    if fingerprints.setdefault(key, fingerprint) != fingerprint:
        raise SandboxError(
            HTTPStatus.CONFLICT, "idempotency_conflict", "This Idempotency-Key was used with a different request."
        )
