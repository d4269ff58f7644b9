"""The local front's server: many clients at once, as a web app's page opens them."""

from __future__ import annotations

import socket
from typing import Any

from infra.local.api import ApiServer


class _Echo:
    """Stands in for the functions: answers every request with its path."""

    def handle(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> tuple[int, Any, bytes]:
        return 200, {"Content-Type": "application/json"}, b'"' + raw_path.encode() + b'"'


def test_forty_clients_connected_before_the_front_accepts_are_all_answered() -> None:
    # Given a front bound to a free port that has not started accepting yet
    server = ApiServer(_Echo(), port=0)  # type: ignore[arg-type]
    host, port = server.server.server_address[:2]
    clients = []
    try:
        # When forty clients connect at once (each handshake completes into the listen backlog)
        for _ in range(40):
            client = socket.create_connection((str(host), port), timeout=5)
            clients.append(client)
        server.start()
        for number, client in enumerate(clients):
            client.sendall(f"GET /{number} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        # Then every one of them gets its own answer
        for number, client in enumerate(clients):
            answer = b""
            while chunk := client.recv(4096):
                answer += chunk
            assert answer.startswith(b"HTTP/1.1 200"), answer
            assert answer.endswith(f'"/{number}"'.encode())
    finally:
        for client in clients:
            client.close()
        server.stop()
