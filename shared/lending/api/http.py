"""One resolver factory for every API function: validation on, errors mapped to the contract's body in one place.

Error body: ``{"error": {"code": "<machine_readable>", "message": "<for a person>"}}`` (plus ``fields`` on 422).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from lending.errors import LendingError

MAX_BODY_BYTES = 64 * 1024
UNDERWRITERS = "underwriters"

logger = Logger(child=True)


class HttpError(Exception):
    """An answer other than success: status, machine-readable code, a message for a person."""

    def __init__(self, status: HTTPStatus, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def error_response(status: HTTPStatus, code: str, message: str, **extra: Any) -> Response[str]:
    """The contract's error body."""
    body = {"error": {"code": code, "message": message, **extra}}
    return Response(status_code=status, content_type="application/json", body=json.dumps(body))


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
}


def _field_errors(errors: Any) -> list[dict[str, str]]:
    fields = []
    for error in errors:
        location = [str(part) for part in error.get("loc", ()) if part not in ("body",)]
        fields.append({"field": ".".join(location), "problem": str(error.get("msg", "invalid"))})
    return fields


def _limit_body(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response[Any]:
    body = app.current_event.body or ""
    if len(body.encode()) > MAX_BODY_BYTES:
        return error_response(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            "payload_too_large",
            f"request bodies are limited to {MAX_BODY_BYTES} bytes",
        )
    return next_middleware(app)


def make_resolver() -> APIGatewayRestResolver:
    """A REST resolver with validation, the body limit and the contract's error mapping."""
    app = APIGatewayRestResolver(enable_validation=True)
    app.use(middlewares=[_limit_body])

    def _invalid(exc: RequestValidationError) -> Response[str]:
        fields = _field_errors(exc.errors())
        names = ", ".join(f["field"] or "body" for f in fields)
        return error_response(HTTPStatus.UNPROCESSABLE_ENTITY, "invalid_request", f"invalid: {names}", fields=fields)

    def _http(exc: HttpError) -> Response[str]:
        return error_response(exc.status, exc.code, exc.message)

    def _domain(exc: LendingError) -> Response[str]:
        status = DOMAIN_STATUS.get(exc.code)
        if status is None:
            logger.exception("unexpected domain error", extra={"code": exc.code})
            return error_response(
                HTTPStatus.INTERNAL_SERVER_ERROR, "internal_error", "something went wrong on our side"
            )
        return error_response(status, exc.code, exc.message)

    def _no_route(_: Exception) -> Response[str]:
        return error_response(HTTPStatus.NOT_FOUND, "not_found", "no such resource")

    # Registered by call rather than as decorators: Powertools' decorators are untyped.
    app.exception_handler(RequestValidationError)(_invalid)
    app.exception_handler(HttpError)(_http)
    app.exception_handler(LendingError)(_domain)
    app.not_found(_no_route)
    return app


def claims(app: APIGatewayRestResolver) -> dict[str, Any]:
    """The verified token's claims, as API Gateway's Cognito authorizer passes them."""
    authorizer = app.current_event.request_context.authorizer
    found: dict[str, Any] = (authorizer.raw_event.get("claims") if authorizer else None) or {}
    return found


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


Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
