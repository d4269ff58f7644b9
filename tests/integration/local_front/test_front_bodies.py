"""What the front hands on of a request, as API Gateway hands it on; and that every request gets an answer."""

from __future__ import annotations

import base64
import json

from local_front_harness import Front, id_token

WEBHOOK = "/v1/webhooks/payments"  # open: no token needed
NOT_UTF8 = b'{"event_id": "\xff\xfe\xfa"}'


def test_a_body_that_is_not_utf8_is_answered_and_handed_on_base64(front: Front) -> None:
    # When a client posts bytes that are not UTF-8 text
    answer = front.request("POST", WEBHOOK, NOT_UTF8, {"Content-Type": "application/json"})

    # Then it gets the function's answer, and the function got the bytes as API Gateway passes a binary body
    assert answer.status == 200
    (event,) = front.functions.events
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == NOT_UTF8


def test_a_utf8_body_is_handed_on_as_text(front: Front) -> None:
    body = json.dumps({"name": "华贸"}, ensure_ascii=False).encode()
    front.request("POST", WEBHOOK, body, {"Content-Type": "application/json"})
    (event,) = front.functions.events
    assert (event["body"], event["isBase64Encoded"]) == (body.decode(), False)


def test_a_chunked_body_reaches_the_function_whole(front: Front) -> None:
    # Given a body sent with chunked transfer coding (no Content-Length)
    request = (
        b"POST " + WEBHOOK.encode() + b" HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        b'5\r\n{"a":\r\n3\r\n 1}\r\n0\r\n\r\n'
    )
    # Then the function gets the whole body, and the client one answer
    answer = front.raw(request)
    assert answer.startswith(b"HTTP/1.1 200"), answer
    assert answer.count(b"HTTP/1.1 ") == 1
    assert front.functions.events[0]["body"] == '{"a": 1}'


def test_an_unreadable_content_length_is_400_in_the_contract_shape(front: Front) -> None:
    for length in (b"ten", b"-5", b"5, 6"):
        answer = front.raw(
            b"POST " + WEBHOOK.encode() + b" HTTP/1.1\r\nHost: x\r\nContent-Length: " + length + b"\r\n\r\nhello"
        )
        status_line, _, rest = answer.partition(b"\r\n")
        assert status_line.startswith(b"HTTP/1.1 400"), (length, answer)
        assert json.loads(rest.partition(b"\r\n\r\n")[2])["error"]["code"] == "bad_request"
    assert front.functions.events == []


def test_a_body_over_api_gateways_limit_is_413_without_being_read(front: Front) -> None:
    # Given a request that announces 11 MB and sends none of it
    answer = front.raw(b"POST " + WEBHOOK.encode() + b" HTTP/1.1\r\nHost: x\r\nContent-Length: 11000000\r\n\r\n")
    # Then it is refused at once, in the contract's shape, and the connection closed
    assert answer.startswith(b"HTTP/1.1 413"), answer
    assert json.loads(answer.partition(b"\r\n\r\n")[2])["error"]["code"] == "payload_too_large"
    assert front.functions.events == []


def test_blank_query_values_and_repeated_headers_reach_the_function_as_api_gateway_passes_them(front: Front) -> None:
    # When a query has a blank value and a header comes twice
    front.raw(
        b"POST " + WEBHOOK.encode() + b"?cursor=&limit=5 HTTP/1.1\r\nHost: x\r\nX-Trace: one\r\nX-Trace: two\r\n"
        b"Content-Length: 2\r\nConnection: close\r\n\r\n{}"
    )
    (event,) = front.functions.events
    # Then the blank value is kept, and every value of the header is in multiValueHeaders (the last in headers)
    assert event["queryStringParameters"] == {"cursor": "", "limit": "5"}
    assert event["multiValueHeaders"]["X-Trace"] == ["one", "two"]
    assert event["headers"]["X-Trace"] == "two"


def test_the_authorizer_reads_the_authorization_header_in_any_case(front: Front) -> None:
    # Given a valid token sent under a lower-case header name (HTTP header names are case-insensitive)
    answer = front.request("GET", "/v1/applications/app-1", headers={"authorization": f"Bearer {id_token()}"})
    # Then the function runs with the token's claims, as behind API Gateway's authorizer
    assert answer.status == 200, answer.body
    assert front.functions.events[0]["requestContext"]["authorizer"]["claims"]["sub"] == "borrower-1"
