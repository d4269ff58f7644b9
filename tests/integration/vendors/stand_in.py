"""A tiny loopback HTTP server standing in for our webhook, or for a vendor that misbehaves."""

from __future__ import annotations

import json
import queue
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

IDENTITY_SECRET = b"sandbox-identity-secret-for-tests"


@dataclass(frozen=True)
class Received:
    """One request the stand-in got."""

    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes


class _Server(ThreadingHTTPServer):
    # socketserver's backlog of 5 refuses the sixth client arriving at once (a loaded machine accepts late).
    request_queue_size = 128
    daemon_threads = True
    stand_in: StandIn


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _serve(self) -> None:
        stand_in = self.server.stand_in
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        stand_in.received.put(Received(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body))
        if stand_in.hold:
            stand_in.released.wait()
        status, raw, headers = stand_in.script.popleft() if stand_in.script else (200, b"{}", {})
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(raw)
        except OSError:
            return  # the client stopped waiting

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()


@dataclass
class StandIn:
    """Records what it receives and answers from a script of (status, body, headers); then 200 ``{}``."""

    received: queue.Queue[Received] = field(default_factory=queue.Queue)
    script: deque[tuple[int, bytes, dict[str, str]]] = field(default_factory=deque)
    #: Answer nothing until released (``released.set()``, or stop): a client can only have stopped waiting on its
    #: own timeout, however slow the machine is.
    hold: bool = False
    released: threading.Event = field(default_factory=threading.Event)
    _server: _Server | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def answer(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        """Queue the next answer; ``body`` as bytes is sent as it is, anything else as JSON."""
        raw = body if isinstance(body, bytes) else json.dumps({} if body is None else body).encode()
        self.script.append((status, raw, headers or {}))

    def next(self, timeout: float) -> Received:
        """The next request received, waiting up to ``timeout`` seconds (raises queue.Empty)."""
        return self.received.get(timeout=timeout)

    def start(self) -> StandIn:
        server = _Server(("127.0.0.1", 0), _Handler)
        server.stand_in = self
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.released.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
