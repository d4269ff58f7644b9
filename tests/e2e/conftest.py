"""The whole platform from template.yaml, started once for the end-to-end tests, driven over HTTP."""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest

from infra.local.platform import LocalPlatform, running_platform
from lending.prc_id import make_id_number

TERMINAL = {"DISBURSED", "DECLINED", "FAILED", "EXPIRED", "LINE_OPENED"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Client:
    """A mobile client of the local API."""

    platform: LocalPlatform
    terminal = frozenset(TERMINAL)

    @staticmethod
    def body(phone_suffix: str, account_suffix: str = "5678", **changes: Any) -> dict[str, Any]:
        return application(phone_suffix, account_suffix, **changes)

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | None = "borrower",
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        if token is not None:
            all_headers["Authorization"] = f"Bearer {self.platform.tokens[token]}"
        data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        request = urllib.request.Request(self.platform.api_url + path, method=method, data=data, headers=all_headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def apply(
        self, phone_suffix: str, account_suffix: str = "5678", *, key: str, token: str = "borrower", **changes: Any
    ) -> str:
        status, answer = self.call(
            "POST",
            "/v1/applications",
            application(phone_suffix, account_suffix, **changes),
            token=token,
            headers={"Idempotency-Key": key},
        )
        assert status == 202, answer
        return str(answer["application_id"])

    def wait_for(
        self, application_id: str, statuses: set[str], *, token: str = "borrower", seconds: float = 60
    ) -> dict[str, Any]:
        deadline = time.monotonic() + seconds
        while True:
            status, view = self.call("GET", f"/v1/applications/{application_id}", token=token)
            assert status == 200, view
            if view["status"] in statuses or time.monotonic() > deadline:
                return dict(view)
            time.sleep(0.3)


def application(phone_suffix: str, account_suffix: str = "5678", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "product": "business_instalment",
        "amount": "120000.00",
        "term_months": 12,
        "purpose": "inventory",
        "applicant": {
            "name": "Li Hua",
            "id_number": make_id_number("110101", date(1985, 5, 5), 12),
            "phone": f"+861380000{phone_suffix}",
            "bank_account": f"62220200000{account_suffix}",
        },
        "business": {"name": "Hua Trading", "industry": "retail", "registered_on": "2020-01-01"},
        "consent": {"credit_report": True, "data_processing": True},
    }
    body.update(changes)
    return body


@pytest.fixture(scope="session")
def platform() -> Iterator[LocalPlatform]:
    with running_platform(port=_free_port()) as running:
        yield running


@pytest.fixture(scope="session")
def client(platform: LocalPlatform) -> Client:
    return Client(platform)
