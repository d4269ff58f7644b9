"""Every method, path and failure gets an answer in the contract's shape; CORS as the web app's browser needs it."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from local_front_harness import WEB_URL, Answer, Front, id_token, methods_of

from infra.local.api import cors_from_template, web_origin_policy
from infra.local.template import load_template

APPLICATIONS = "/v1/applications"
ONE_APPLICATION = "/v1/applications/app-1"
CONTRACT_HEADERS = {"authorization", "content-type", "idempotency-key", "accept-language", "x-signature"}


def _contract_error(answer: Answer, status: int, code: str) -> dict[str, Any]:
    assert answer.status == status, (answer.status, answer.body)
    assert answer.headers["Content-Type"].startswith("application/json")
    error: dict[str, Any] = answer.json()["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str)
    assert error["message"]
    return error


def _allow(answer: Answer) -> set[str]:
    return {method.strip() for method in answer.headers["Allow"].split(",")}


@pytest.mark.parametrize("method", ["TRACE", "DELETE", "PUT", "PATCH", "PROPFIND", "get"])
def test_a_method_the_path_does_not_answer_is_405_with_allow(front: Front, method: str) -> None:
    answer = front.request(method, APPLICATIONS)
    _contract_error(answer, 405, "method_not_allowed")
    assert _allow(answer) == methods_of(APPLICATIONS) | {"OPTIONS"}
    assert front.functions.events == []


def test_a_head_request_is_405_with_allow_and_no_body(front: Front) -> None:
    answer = front.request("HEAD", ONE_APPLICATION)
    assert answer.status == 405
    assert _allow(answer) == methods_of("/v1/applications/{application_id}") | {"OPTIONS"}
    assert answer.body == b""


@pytest.mark.parametrize("method", ["GET", "POST", "TRACE", "OPTIONS", "PROPFIND"])
def test_an_unknown_path_is_404_not_found(front: Front, method: str) -> None:
    _contract_error(front.request(method, "/v1/nowhere"), 404, "not_found")


def test_an_options_request_that_is_not_a_preflight_lists_the_paths_methods(front: Front) -> None:
    answer = front.request("OPTIONS", APPLICATIONS)
    assert answer.status == 204
    assert _allow(answer) == methods_of(APPLICATIONS) | {"OPTIONS"}


def test_a_preflight_from_the_web_app_is_204_with_what_the_browser_needs(front: Front) -> None:
    # When the web app's page asks whether it may POST an application with the contract's headers
    answer = front.request(
        "OPTIONS",
        APPLICATIONS,
        headers={
            "Origin": WEB_URL,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
        },
    )
    # Then it may: its origin, the path's methods and every request header of the contract are allowed
    assert answer.status == 204, answer.body
    assert answer.headers["Access-Control-Allow-Origin"] == WEB_URL
    assert "POST" in {m.strip() for m in answer.headers["Access-Control-Allow-Methods"].split(",")}
    allowed = {h.strip().lower() for h in answer.headers["Access-Control-Allow-Headers"].split(",")}
    assert allowed >= CONTRACT_HEADERS
    assert "Origin" in answer.headers["Vary"]
    assert front.functions.events == []


def test_a_preflight_from_another_origin_is_refused_without_cors_headers(front: Front) -> None:
    answer = front.request(
        "OPTIONS", APPLICATIONS, headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    )
    _contract_error(answer, 403, "origin_not_allowed")
    assert "Access-Control-Allow-Origin" not in answer.headers


def test_answers_to_the_web_apps_origin_carry_allow_origin_and_others_do_not(front: Front) -> None:
    token = {"Authorization": f"Bearer {id_token()}"}
    mine = front.request("GET", ONE_APPLICATION, headers={**token, "Origin": WEB_URL})
    theirs = front.request("GET", ONE_APPLICATION, headers={**token, "Origin": "https://evil.example"})
    refused = front.request("GET", ONE_APPLICATION, headers={"Origin": WEB_URL})  # no token: the front's 401
    assert (mine.status, theirs.status) == (200, 200)
    assert mine.headers["Access-Control-Allow-Origin"] == WEB_URL
    assert "Access-Control-Allow-Origin" not in theirs.headers
    _contract_error(refused, 401, "unauthorized")
    assert refused.headers["Access-Control-Allow-Origin"] == WEB_URL


def test_the_web_origin_is_the_local_web_app_as_127_0_0_1_or_localhost_only() -> None:
    policy = web_origin_policy("http://127.0.0.1:5173/app/")
    assert policy.allows("http://127.0.0.1:5173")
    assert policy.allows("http://localhost:5173")
    assert not policy.allows("http://127.0.0.1:5174")
    assert not policy.allows("https://127.0.0.1:5173")
    assert not policy.allows("null")


def test_a_cors_setting_in_the_template_is_what_the_front_allows() -> None:
    # The template's Api has no Cors setting today: the front then allows the local web app only
    assert cors_from_template(load_template()) is None
    template = {
        "Resources": {
            "LendingApi": {
                "Type": "AWS::Serverless::Api",
                "Properties": {
                    "Cors": {
                        "AllowOrigin": "'https://app.example.cn'",
                        "AllowMethods": "'GET,POST,OPTIONS'",
                        "AllowHeaders": "'Authorization,Content-Type'",
                        "MaxAge": "'300'",
                    }
                },
            }
        }
    }
    policy = cors_from_template(template)
    assert policy is not None
    assert policy.allows("https://app.example.cn")
    assert not policy.allows(WEB_URL)
    assert (policy.methods, policy.headers, policy.max_age) == (
        ("GET", "POST", "OPTIONS"),
        ("Authorization", "Content-Type"),
        300,
    )


def test_a_request_line_http_server_cannot_read_is_400_in_the_contract_shape(front: Front) -> None:
    answer = front.raw(b"THIS IS NOT HTTP\r\n\r\n")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400"), answer
    assert json.loads(body)["error"]["code"] == "bad_request"


def test_the_fronts_messages_follow_accept_language(front: Front) -> None:
    english = _contract_error(front.request("GET", "/v1/nowhere", headers={"Accept-Language": "en"}), 404, "not_found")
    chinese = _contract_error(front.request("GET", "/v1/nowhere"), 404, "not_found")  # the default: zh-CN
    preferred = _contract_error(
        front.request("GET", "/v1/nowhere", headers={"Accept-Language": "zh-CN;q=0.4, en;q=0.9"}), 404, "not_found"
    )
    assert english["message"] == preferred["message"] != chinese["message"]
    assert english["message"].isascii()
    assert not chinese["message"].isascii()


def _raises(event: dict[str, Any]) -> tuple[Any, str | None]:
    return {"errorType": "KeyError", "errorMessage": "'amount'", "stackTrace": []}, "Unhandled"


MALFORMED: dict[str, Any] = {
    "no statusCode": {"body": "{}"},
    "not an object": ["statusCode", 200],
    "statusCode not a number": {"statusCode": "two hundred", "body": ""},
    "statusCode out of range": {"statusCode": 42, "body": ""},
    "body not a string": {"statusCode": 200, "body": {"ok": True}},
    "header with a line break": {"statusCode": 200, "headers": {"X-Bad": "a\r\nSet-Cookie: x=1"}, "body": ""},
    "header not latin-1": {"statusCode": 200, "headers": {"X-Name": "华"}, "body": ""},
    "header value an object": {"statusCode": 200, "headers": {"X-Obj": {"a": 1}}, "body": ""},
    "multiValueHeaders not lists": {"statusCode": 200, "multiValueHeaders": {"X-A": "b"}, "body": ""},
    "body not base64": {"statusCode": 200, "body": "not base64!", "isBase64Encoded": True},
}


@pytest.mark.parametrize("answer", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_function_answer_that_is_not_a_proxy_answer_is_502_bad_gateway(front: Front, answer: Any) -> None:
    front.functions.script = lambda event: (answer, None)
    _contract_error(front.request("POST", "/v1/webhooks/payments", b"{}"), 502, "bad_gateway")


def test_a_function_that_raised_is_502_bad_gateway(front: Front) -> None:
    front.functions.script = _raises
    _contract_error(front.request("POST", "/v1/webhooks/payments", b"{}"), 502, "bad_gateway")


def test_an_answer_that_is_not_json_is_502_bad_gateway(front: Front) -> None:
    front.functions.script = lambda event: (b"<html>", None)
    _contract_error(front.request("POST", "/v1/webhooks/payments", b"{}"), 502, "bad_gateway")


def test_an_invoke_that_fails_is_502_bad_gateway(front: Front) -> None:
    def fails(event: dict[str, Any]) -> tuple[Any, str | None]:
        raise ConnectionError("the runtime is gone")

    front.functions.script = fails
    _contract_error(front.request("POST", "/v1/webhooks/payments", b"{}"), 502, "bad_gateway")


def test_a_well_formed_answer_passes_through_with_every_header_value(front: Front) -> None:
    front.functions.script = lambda event: (
        {
            "statusCode": 201,
            "headers": {"Content-Type": "application/json", "Content-Length": "999"},
            "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
            "body": '{"made": true}',
        },
        None,
    )
    answer = front.request("POST", "/v1/webhooks/payments", b"{}")
    assert (answer.status, answer.json()) == (201, {"made": True})
    assert answer.headers.get_all("Set-Cookie") == ["a=1", "b=2"]
    assert answer.headers["Content-Length"] == str(len(answer.body))


def test_a_failed_function_leaves_one_line_in_the_stack_log_without_the_request(
    front: Front, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a function that fails on a request carrying personal data in its body and query
    def fails(event: dict[str, Any]) -> tuple[Any, str | None]:
        return {"errorType": "KeyError", "errorMessage": "'amount' for +8613800001234"}, "Unhandled"

    front.functions.script = fails
    caplog.set_level(logging.ERROR, logger="infra.local.api")
    # When it is called
    answer = front.request("POST", "/v1/webhooks/payments?phone=13800001234", b'{"name": "Li Hua"}')
    # Then the client gets the contract's 502 and the stack's log one line: route, function, status and error
    _contract_error(answer, 502, "bad_gateway")
    lines = [record.getMessage() for record in caplog.records if record.name == "infra.local.api"]
    assert len(lines) == 1
    assert "POST /v1/webhooks/payments" in lines[0]
    assert "status=502" in lines[0]
    assert "KeyError" in lines[0]
    assert "13800001234" not in lines[0]
    assert "Li Hua" not in lines[0]
