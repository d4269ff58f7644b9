"""The sandbox collection provider, called with the real client: one collection per key whatever happens, its
outcome by account, and its signed notice to our webhook."""

from __future__ import annotations

import http.client
import json
import queue
import threading
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from stand_in import StandIn

from infra.local.vendors import SandboxVendors
from lending.adapters.vendors.collections import CollectionClient
from lending.errors import CollectionRejected, CollectionUnavailable
from lending.money import Money
from lending.webhooks import SIGNATURE_HEADER, verify

SECRET = b"sandbox-payments-secret-for-tests"
AMOUNT = Money.of("1066.19")


@pytest.fixture(scope="module", autouse=True)
def signed(vendors: SandboxVendors) -> None:
    vendors.collections.secret = SECRET


def _collect(client: CollectionClient, hook: StandIn, account: str, *, key: str, reference: str) -> Any:
    return client.collect(
        key,
        amount=AMOUNT,
        bank_account=account,
        reference=reference,
        repayment_id=reference,
        loan_id="L-1",
        notify_url=hook.url + "/v1/webhooks/payments",
    )


def _notices(hook: StandIn, count: int) -> list[dict[str, Any]]:
    """The next ``count`` notices our webhook received, each checked to be signed with the payments secret."""
    found = []
    for _ in range(count):
        received = hook.next(timeout=30)
        verify(received.headers.get(SIGNATURE_HEADER.lower()), received.body, [SECRET], int(time.time()))
        found.append(json.loads(received.body))
    return found


def test_an_ordinary_account_is_collected_once_and_notified_once(vendors: SandboxVendors, stand_in: StandIn) -> None:
    client = CollectionClient(vendors.urls.collections, timeout=30)
    reference = f"rp-{uuid.uuid4().hex[:12]}"
    taken = [_collect(client, stand_in, "62220200000005678", key=f"k-{reference}", reference=reference) for _ in "ab"]
    assert taken[0].collection_id == taken[1].collection_id
    assert taken[0].status == "processing"
    [notice] = _notices(stand_in, 1)
    assert notice["repayment_id"] == reference
    assert (notice["status"], notice["failure_reason"], notice["amount"]) == ("succeeded", None, "1066.19")
    assert notice["kind"] == "repayment"
    with pytest.raises(queue.Empty):
        stand_in.next(timeout=0.5)  # the repeat was the same collection: no second notice
    assert len([c for c in vendors.collections.collections() if c.reference == reference]) == 1


def test_an_account_ending_3333_always_fails_for_insufficient_funds(vendors: SandboxVendors, stand_in: StandIn) -> None:
    client = CollectionClient(vendors.urls.collections, timeout=30)
    reference = f"rp-{uuid.uuid4().hex[:12]}"
    for attempt in range(2):
        _collect(client, stand_in, "62220200000003333", key=f"k-{reference}-{attempt}", reference=reference)
    assert [(n["status"], n["failure_reason"]) for n in _notices(stand_in, 2)] == [
        ("failed", "insufficient_funds"),
        ("failed", "insufficient_funds"),
    ]


def test_an_account_ending_4444_fails_the_first_collection_of_each_due_amount(
    vendors: SandboxVendors, stand_in: StandIn
) -> None:
    client = CollectionClient(vendors.urls.collections, timeout=30)
    due = f"L-1/due/{uuid.uuid4().hex[:8]}"
    other = f"L-1/due/{uuid.uuid4().hex[:8]}"
    for key, reference in ((f"{due}-0", due), (f"{due}-1", due), (f"{other}-0", other)):
        _collect(client, stand_in, "62220200000004444", key=key, reference=reference)
    statuses = sorted((n["status"], n["repayment_id"]) for n in _notices(stand_in, 3))
    assert statuses == sorted([("failed", due), ("succeeded", due), ("failed", other)])


def test_a_request_it_cannot_take_is_rejected(vendors: SandboxVendors, stand_in: StandIn) -> None:
    client = CollectionClient(vendors.urls.collections, timeout=30)
    _collect(client, stand_in, "62220200000005678", key="k-conflict", reference="rp-a")
    with pytest.raises(CollectionRejected) as rejected:
        _collect(client, stand_in, "62220200000005678", key="k-conflict", reference="rp-b")
    assert rejected.value.reason == "idempotency_conflict"


class _LosesFirstAnswer:
    """A loopback relay to the provider that forwards every request and, the first time, drops the answer: the
    provider acted, our side saw the connection close (a timeout's twin, without waiting for one)."""

    def __init__(self, target: str) -> None:
        self.target = urllib.parse.urlsplit(target)
        self.dropped = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                upstream = http.client.HTTPConnection(owner.target.hostname, owner.target.port, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                upstream.request("POST", self.path, body=body, headers=headers)
                answer = upstream.getresponse()
                raw = answer.read()
                upstream.close()
                if owner.dropped == 0:
                    owner.dropped += 1
                    self.close_connection = True
                    return  # the provider collected; its answer never reaches us
                self.send_response(answer.status)
                for name, value in answer.getheaders():
                    if name.lower() not in ("transfer-encoding", "connection"):
                        self.send_header(name, value)
                self.end_headers()
                self.wfile.write(raw)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> _LosesFirstAnswer:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def lossy(vendors: SandboxVendors) -> Iterator[_LosesFirstAnswer]:
    with _LosesFirstAnswer(vendors.urls.collections) as relay:
        yield relay


def test_a_retry_after_a_lost_answer_is_the_same_collection(
    vendors: SandboxVendors, stand_in: StandIn, lossy: _LosesFirstAnswer
) -> None:
    # Given a provider that collects but whose answer is lost on the way back
    client = CollectionClient(lossy.url, timeout=30, attempts=2, backoff=0)
    reference = f"rp-{uuid.uuid4().hex[:12]}"
    # When the client asks, sees no answer, and asks again with the same key
    taken = _collect(client, stand_in, "62220200000005678", key=f"k-{reference}", reference=reference)
    # Then the second answer is the first collection: one debit, one notice
    assert lossy.dropped == 1
    made = [c for c in vendors.collections.collections() if c.reference == reference]
    assert [c.collection_id for c in made] == [taken.collection_id]
    assert len(_notices(stand_in, 1)) == 1
    with pytest.raises(queue.Empty):
        stand_in.next(timeout=0.5)


def test_a_provider_that_never_answers_is_unavailable(stand_in: StandIn) -> None:
    for _ in range(2):
        stand_in.answer(503, {"error": {"code": "temporarily_unavailable", "message": "later"}})
    client = CollectionClient(stand_in.url, timeout=30, attempts=2, backoff=0)
    with pytest.raises(CollectionUnavailable):
        _collect(client, stand_in, "62220200000005678", key="k-x", reference="rp-x")
