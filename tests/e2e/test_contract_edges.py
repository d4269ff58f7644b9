"""The contract's edges over HTTP: bodies refused before they are parsed, strict values, and notices dated ahead.

Every answer here is the contract's error body, whatever the status, and nothing the request asked for happens.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from lending.webhooks import SIGNATURE_HEADER, sign

if TYPE_CHECKING:
    from conftest import Client

#: Every route that takes a body, with the token it needs (None: a signed webhook).
BODY_ROUTES = [
    ("/v1/applications", "borrower"),
    ("/v1/loans/loan_none/drawdowns", "borrower"),
    ("/v1/reviews/app_none", "underwriter"),
    ("/v1/webhooks/payments", None),
    ("/v1/webhooks/identity", None),
]


def _send(client: Client, path: str, token: str | None, body: bytes, content_type: str) -> tuple[int, Any]:
    headers = {"Content-Type": content_type, "Idempotency-Key": f"edge-{uuid.uuid4().hex}"}
    if token is None:
        secret = client.platform.webhook_secrets["payments" if "payments" in path else "identity"].encode()
        headers[SIGNATURE_HEADER] = sign(secret, body, int(time.time()))
    return client.call("POST", path, body, token=token, headers=headers)


def _is_error_body(answer: Any, code: str) -> bool:
    return (
        isinstance(answer, dict)
        and set(answer) == {"error"}
        and answer["error"]["code"] == code
        and isinstance(answer["error"]["message"], str)
    )


@pytest.mark.parametrize(("path", "token"), BODY_ROUTES)
def test_a_deeply_nested_body_is_400_not_a_server_error(client: Client, path: str, token: str | None) -> None:
    body = b"[" * 12_000 + b"]" * 12_000
    status, answer = _send(client, path, token, body, "application/json")
    assert status == 400, answer
    assert _is_error_body(answer, "nesting_too_deep")


@pytest.mark.parametrize(("path", "token"), BODY_ROUTES)
@pytest.mark.parametrize("content_type", ["multipart/form-data", "text/plain", "application/x-www-form-urlencoded"])
def test_another_content_type_is_415_with_the_contract_body(
    client: Client, path: str, token: str | None, content_type: str
) -> None:
    status, answer = _send(client, path, token, b'{"amount": "10.00"}', content_type)
    assert status == 415, answer
    assert _is_error_body(answer, "unsupported_media_type")


@pytest.mark.parametrize(("path", "token"), BODY_ROUTES)
def test_an_invalid_body_over_64_kib_is_413_before_it_is_parsed(client: Client, path: str, token: str | None) -> None:
    body = b'{"purpose": "' + b"x" * (64 * 1024) + b'", "amount": 1e5}'
    status, answer = _send(client, path, token, body, "application/json")
    assert status == 413, answer
    assert _is_error_body(answer, "payload_too_large")


@pytest.mark.parametrize(("path", "token"), BODY_ROUTES)
def test_a_body_that_is_not_utf8_is_400(client: Client, path: str, token: str | None) -> None:
    status, answer = _send(client, path, token, b'{"purpose": "\xff\xfe"}', "application/json")
    assert status == 400, answer
    assert _is_error_body(answer, "invalid_encoding")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("amount", "100000.000"),
        ("amount", 100000),
        ("amount", "1e5"),
        ("amount", "\uff11\uff10\uff10\uff10\uff10"),  # full-width digits
        ("amount", " 10000.00 "),
        ("amount", "+10000.00"),
        ("term_months", "12"),
        ("term_months", 12.0),
    ],
)
def test_an_application_with_a_loosely_written_value_is_422_naming_it(client: Client, field: str, value: Any) -> None:
    body = client.body("0001", **{field: value})
    status, answer = client.call(
        "POST", "/v1/applications", body, headers={"Idempotency-Key": f"loose-{field}-{value!a}"}
    )
    assert status == 422, answer
    assert field in {f["field"] for f in answer["error"]["fields"]}


@pytest.mark.parametrize("value", ["yes", 1, "true"])
def test_consent_is_a_json_boolean(client: Client, value: Any) -> None:
    body = client.body("0001")
    body["consent"]["credit_report"] = value
    status, answer = client.call("POST", "/v1/applications", body, headers={"Idempotency-Key": f"consent-{value}"})
    assert status == 422, answer
    assert "consent.credit_report" in {f["field"] for f in answer["error"]["fields"]}


def _notice(loan_id: str, amount: Any, paid_at: str, event_id: str) -> bytes:
    notice = {"event_id": event_id, "loan_id": loan_id, "amount": amount, "paid_at": paid_at, "kind": "repayment"}
    return json.dumps(notice).encode()


def _clock(client: Client) -> dict[str, str]:
    with urllib.request.urlopen(client.platform.control_url + "/clock", timeout=client.wait_seconds) as response:
        answer: dict[str, str] = json.loads(response.read())
    return answer


@pytest.mark.parametrize("amount", ["100.000", 100, "1e2", "\uff11\uff10\uff10", " 100.00 ", "-100.00", "0.00"])
def test_a_signed_payment_with_a_loosely_written_amount_is_422_and_changes_nothing(client: Client, amount: Any) -> None:
    event_id = f"loose-{abs(hash(repr(amount)))}"
    body = _notice("loan_unknown", amount, _clock(client)["now"], event_id)
    status, answer = _send(client, "/v1/webhooks/payments", None, body, "application/json")
    assert status == 422, answer
    # Not parked either: the same event id, well written, is new.
    good = _notice("loan_unknown", "100.00", _clock(client)["now"], event_id)
    status, receipt = _send(client, "/v1/webhooks/payments", None, good, "application/json")
    assert (status, receipt["status"]) == (200, "parked"), receipt


@pytest.mark.parametrize("ahead", [timedelta(days=1200), timedelta(hours=1)])
def test_a_signed_payment_dated_ahead_of_the_clock_is_422_and_changes_nothing(client: Client, ahead: timedelta) -> None:
    paid_at = (datetime.fromisoformat(_clock(client)["now"]) + ahead).isoformat()
    event_id = f"ahead-{ahead.total_seconds():.0f}"
    notice = _notice("loan_unknown", "5.00", paid_at, event_id)
    status, answer = _send(client, "/v1/webhooks/payments", None, notice, "application/json")
    assert status == 422, answer
    assert _is_error_body(answer, "paid_at_in_future")
    good = _notice("loan_unknown", "5.00", _clock(client)["now"], event_id)
    status, receipt = _send(client, "/v1/webhooks/payments", None, good, "application/json")
    assert (status, receipt["status"]) == (200, "parked"), receipt


@pytest.mark.parametrize("paid_at", ["0001-01-01T00:00:00+03:00", "1999-12-31T23:59:59Z", "0001-01-01T00:00:00Z"])
def test_a_signed_payment_dated_before_2000_is_422_not_a_server_error(client: Client, paid_at: str) -> None:
    # Year 1 east of UTC is no date in China's calendar: parking it overflowed into a 500 (found by schemathesis).
    notice = _notice("loan_unknown", "5.00", paid_at, f"ancient-{abs(hash(paid_at))}")
    status, answer = _send(client, "/v1/webhooks/payments", None, notice, "application/json")
    assert status == 422, answer
    assert (
        "paid_at" in {f["field"] for f in answer["error"].get("fields", [])} or "paid_at" in answer["error"]["message"]
    )


@pytest.mark.parametrize(
    ("accept_language", "language"), [(None, "zh-CN"), ("zh-CN,zh;q=0.9", "zh-CN"), ("en-GB,en;q=0.8", "en")]
)
def test_an_error_message_follows_accept_language_and_its_code_does_not(
    client: Client, accept_language: str | None, language: str
) -> None:
    # Given an invalid application, asked for with no language, in Chinese, or in English
    headers = {"Idempotency-Key": f"language-{language}-{accept_language}", "Accept-Language": accept_language or ""}
    body = json.dumps({**client.body("0001"), "term_months": "12"}).encode()
    request = urllib.request.Request(
        client.platform.api_url + "/v1/applications",
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Bearer {client.platform.tokens['borrower']}",
            **{k: v for k, v in headers.items() if v},
        },
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=client.wait_seconds)
    answer = json.loads(refused.value.read())
    # Then the code is the same whatever the language; the message and Content-Language are the one asked for
    assert refused.value.code == 422
    assert answer["error"]["code"] == "invalid_request"
    assert refused.value.headers["Content-Language"] == language
    assert answer["error"]["message"].isascii() is (language == "en")
    assert [f["field"] for f in answer["error"]["fields"]] == ["term_months"]
