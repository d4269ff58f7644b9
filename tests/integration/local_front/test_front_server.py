"""The local front's server: many clients at once, as a web app's page opens them."""

from __future__ import annotations

import socket
import threading
from typing import Any

import pytest

from infra.local.api import ApiServer

#: Bounds on waits for what does happen (a connection, an answer): they only end a test that has already failed.
WAIT = 120.0


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
            client = socket.create_connection((str(host), port), timeout=WAIT)
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


def test_thirty_two_clients_arriving_together_are_all_answered() -> None:
    # Given thirty-two clients, each connected and waiting at one barrier with the front not yet accepting
    server = ApiServer(_Echo(), port=0)  # type: ignore[arg-type]
    host, port = server.server.server_address[:2]
    clients = 32
    barrier = threading.Barrier(clients + 1, timeout=WAIT)  # the timeout only ends a test that has already failed
    answers: dict[int, bytes] = {}
    failures: list[BaseException] = []

    def client(number: int) -> None:
        try:
            with socket.create_connection((str(host), port), timeout=WAIT) as connection:
                barrier.wait()
                connection.sendall(f"GET /{number} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
                answer = b""
                while chunk := connection.recv(4096):
                    answer += chunk
                answers[number] = answer
        except BaseException as exc:  # reported by the test's own thread
            failures.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(clients)]
    try:
        for thread in threads:
            thread.start()
        # When all of them are connected at once, and only then, the front starts accepting
        barrier.wait()
        server.start()
        for thread in threads:
            thread.join()
    finally:
        server.stop()
    # Then every one of them was answered, each with its own answer
    assert failures == []
    assert sorted(answers) == list(range(clients))
    for number, answer in answers.items():
        assert answer.startswith(b"HTTP/1.1 200"), answer
        assert answer.endswith(f'"/{number}"'.encode())


def test_a_front_bound_before_its_api_exists_knows_its_url_and_serves_once_given_one() -> None:
    # Given a front bound to a free port with no API yet (the local stack deploys with its URL first)
    server = ApiServer(port=0)
    try:
        host, port = server.server.server_address[:2]
        assert server.url == f"http://{host}:{port}"
        with pytest.raises(RuntimeError, match="no API"):
            server.start()
        # And a client that connects meanwhile (it waits in the listen backlog)
        with socket.create_connection((str(host), port), timeout=WAIT) as client:
            client.sendall(b"GET /early HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            # When the API is handed over
            server.serve(_Echo())  # type: ignore[arg-type]
            # Then that client is answered by it
            answer = b""
            while chunk := client.recv(4096):
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 200"), answer
        assert answer.endswith(b'"/early"')
    finally:
        server.stop()
