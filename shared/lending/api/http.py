"""One resolver factory for every API function: validation on, errors mapped to the contract's body in one place.

Error body: ``{"error": {"code": "<machine_readable>", "message": "<for a person>"}}`` (plus ``fields`` on 422);
the message in the language ``Accept-Language`` prefers (``lending.api.language``: zh-CN unless English is asked
for), with ``Content-Language`` saying which.

:func:`make_resolver` answers Powertools' ``APIGatewayRestResolver`` with validation on, as its documentation
shows, with one departure: :class:`ContractResolver` screens a body (size, media type, encoding, nesting) before
anything parses it, so an oversized or hostile body is refused without being read.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.utilities.typing import LambdaContext

from lending.api.language import message_in, preferred_language
from lending.errors import LendingError
from lending.roles import OPERATIONS, UNDERWRITERS

MAX_BODY_BYTES = 64 * 1024
MAX_NESTING = 32


logger = Logger(child=True)


class HttpError(Exception):
    """An answer other than success: status, machine-readable code, a message for a person."""

    def __init__(self, status: HTTPStatus, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def _language(headers: Any) -> str:
    found = None
    for name, value in (headers or {}).items():
        if str(name).lower() == "accept-language":
            found = str(value)
    return preferred_language(found)


def error_response(
    status: HTTPStatus, code: str, message: str, *, language: str = "zh-CN", **extra: Any
) -> Response[str]:
    """The contract's error body, its message in ``language``."""
    body = {"error": {"code": code, "message": message_in(language, code, message), **extra}}
    return Response(
        status_code=status,
        content_type="application/json",
        body=json.dumps(body, ensure_ascii=False),
        headers={"Content-Language": language},
    )


#: Domain errors that are the caller's fault, and the status they answer with.
DOMAIN_STATUS: dict[str, HTTPStatus] = {
    "not_found": HTTPStatus.NOT_FOUND,
    "conflict": HTTPStatus.CONFLICT,
    "invalid_signature": HTTPStatus.UNAUTHORIZED,
    "invalid_amount": HTTPStatus.UNPROCESSABLE_ENTITY,
    "invalid_rate": HTTPStatus.UNPROCESSABLE_ENTITY,
    "invalid_id_number": HTTPStatus.UNPROCESSABLE_ENTITY,
    "product_rule_violation": HTTPStatus.UNPROCESSABLE_ENTITY,
    "catalogue_error": HTTPStatus.UNPROCESSABLE_ENTITY,
    "rate_cap_exceeded": HTTPStatus.UNPROCESSABLE_ENTITY,
    "drawdown_refused": HTTPStatus.CONFLICT,
    "not_awaiting_acceptance": HTTPStatus.CONFLICT,
    "contract_mismatch": HTTPStatus.CONFLICT,
    "offer_expired": HTTPStatus.CONFLICT,
    "already_accepted": HTTPStatus.CONFLICT,
    "too_many_contracts": HTTPStatus.CONFLICT,
    "idempotency_conflict": HTTPStatus.CONFLICT,
    "servicing_contention": HTTPStatus.SERVICE_UNAVAILABLE,
    "paid_at_in_future": HTTPStatus.UNPROCESSABLE_ENTITY,
    "invalid_request": HTTPStatus.UNPROCESSABLE_ENTITY,
}


def _field_errors(errors: Any) -> list[dict[str, str]]:
    fields = []
    for error in errors:
        location = [str(part) for part in error.get("loc", ()) if part not in ("body",)]
        fields.append({"field": ".".join(location), "problem": str(error.get("msg", "invalid"))})
    return fields


#: Tokens that matter for a body's nesting: a whole string (its brackets do not count), or a bracket.
_NESTING_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]')
_OPENERS = frozenset(b"[{")


def nesting_depth(body: bytes) -> int:
    """How deeply the JSON text's arrays and objects nest, counted without parsing it (strings skipped)."""
    depth = deepest = 0
    for token in _NESTING_TOKENS.finditer(body):
        first = token.group()[0]
        if first in _OPENERS:
            depth += 1
            deepest = max(deepest, depth)
        elif first != 0x22:  # a closing bracket; a string changes nothing
            depth -= 1
    return deepest


def _plain_error(event: dict[str, Any], status: HTTPStatus, code: str, message: str) -> dict[str, Any]:
    """The contract's error body as a proxy answer, made without the resolver (nothing is parsed to make it)."""
    language = _language(event.get("headers"))
    error = {"code": code, "message": message_in(language, code, message)}
    return {
        "statusCode": int(status),
        "headers": {"Content-Type": "application/json", "Content-Language": language},
        "body": json.dumps({"error": error}, ensure_ascii=False),
        "isBase64Encoded": False,
    }


def screen_body(event: dict[str, Any]) -> dict[str, Any] | None:
    """Refuse a body before anything parses it: over the size limit (413), of a content type other than JSON (415),
    not UTF-8 (400), or nested deeper than the limit (400). Answers the refusal, or None for a body that may be read;
    a base64 body that passes is handed on decoded, as text."""
    raw = event.get("body")
    if not raw:
        return None
    try:
        data = base64.b64decode(raw) if event.get("isBase64Encoded") else raw.encode("utf-8", "surrogatepass")
    except ValueError:
        return _plain_error(event, HTTPStatus.BAD_REQUEST, "invalid_encoding", "the request body is not valid base64")
    if len(data) > MAX_BODY_BYTES:
        limit = f"request bodies are limited to {MAX_BODY_BYTES} bytes"
        return _plain_error(event, HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "payload_too_large", limit)
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    media_type = headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if media_type != "application/json":
        return _plain_error(
            event, HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", "request bodies are application/json"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return _plain_error(event, HTTPStatus.BAD_REQUEST, "invalid_encoding", "the request body is not UTF-8 text")
    if nesting_depth(data) > MAX_NESTING:
        return _plain_error(
            event, HTTPStatus.BAD_REQUEST, "nesting_too_deep", f"JSON bodies nest at most {MAX_NESTING} levels"
        )
    if event.get("isBase64Encoded"):
        event["body"], event["isBase64Encoded"] = text, False
    return None


class ContractResolver(APIGatewayRestResolver):
    """Powertools' REST resolver, refusing a body that must not be parsed before it resolves the request."""

    def resolve(self, event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
        request = dict(event)  # the screen hands a base64 body on decoded
        refused = screen_body(request)
        if refused is not None:
            return refused
        return super().resolve(request, context)


def make_resolver() -> ContractResolver:
    """A REST resolver with validation, the body limit and the contract's error mapping."""
    app = ContractResolver(enable_validation=True)

    def answer(status: HTTPStatus, code: str, message: str, **extra: Any) -> Response[str]:
        return error_response(status, code, message, language=_language(app.current_event.headers), **extra)

    def _invalid(exc: RequestValidationError) -> Response[str]:
        fields = _field_errors(exc.errors())
        names = ", ".join(f["field"] or "body" for f in fields)
        return answer(HTTPStatus.UNPROCESSABLE_ENTITY, "invalid_request", f"invalid: {names}", fields=fields)

    def _http(exc: HttpError) -> Response[str]:
        return answer(exc.status, exc.code, exc.message)

    def _domain(exc: LendingError) -> Response[str]:
        status = DOMAIN_STATUS.get(exc.code)
        if status is None:
            logger.exception("unexpected domain error", extra={"code": exc.code})
            return answer(HTTPStatus.INTERNAL_SERVER_ERROR, "internal_error", "something went wrong on our side")
        return answer(status, exc.code, exc.message)

    def _unexpected(exc: Exception) -> Response[str]:
        logger.exception("unexpected error", extra={"error": type(exc).__name__})
        return answer(HTTPStatus.INTERNAL_SERVER_ERROR, "internal_error", "something went wrong on our side")

    def _no_route(_: Exception) -> Response[str]:
        return answer(HTTPStatus.NOT_FOUND, "not_found", "no such resource")

    # Registered by call rather than as decorators: Powertools' decorators are untyped.
    app.exception_handler(RequestValidationError)(_invalid)
    app.exception_handler(HttpError)(_http)
    app.exception_handler(LendingError)(_domain)
    app.exception_handler(Exception)(_unexpected)
    app.not_found(_no_route)
    return app


def claims(app: APIGatewayRestResolver) -> dict[str, Any]:
    """The verified token's claims, as API Gateway's Cognito authorizer passes them."""
    authorizer = app.current_event.request_context.authorizer
    found: dict[str, Any] = (authorizer.raw_event.get("claims") if authorizer else None) or {}
    return found


def language(app: APIGatewayRestResolver) -> str:
    """The language the caller reads (``Accept-Language``): ``en`` or ``zh-CN``."""
    return _language(app.current_event.headers)


def borrower_id(app: APIGatewayRestResolver) -> str:
    """The caller's subject; a request without one never got past the authorizer, so this is a 401."""
    subject = claims(app).get("sub")
    if not subject:
        raise HttpError(HTTPStatus.UNAUTHORIZED, "unauthorized", "a valid bearer token is required")
    return str(subject)


def groups(app: APIGatewayRestResolver) -> set[str]:
    """The caller's Cognito groups (the claim arrives as a list, or as a string in REST APIs)."""
    raw = claims(app).get("cognito:groups") or []
    if isinstance(raw, str):
        raw = raw.strip("[]").replace(",", " ").split()
    return {str(g) for g in raw}


def require_underwriter(app: APIGatewayRestResolver) -> str:
    """The underwriter's subject, or 403 for anyone outside the underwriters group."""
    subject = borrower_id(app)
    if UNDERWRITERS not in groups(app):
        raise HttpError(HTTPStatus.FORBIDDEN, "forbidden", "this needs an underwriter")
    return subject


def require_operations(app: APIGatewayRestResolver) -> str:
    """The operator's subject, or 403 for anyone outside the operations group."""
    subject = borrower_id(app)
    if OPERATIONS not in groups(app):
        raise HttpError(HTTPStatus.FORBIDDEN, "forbidden", "this needs operations")
    return subject
