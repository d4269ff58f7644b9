"""The OpenAPI document of the whole API, generated from every API function's Powertools routes.

Each function of the template that answers ``Events: Api`` is loaded as the local runtime loads it, its resolver
(``app``) describes its own routes, and Powertools' merge joins them into one document, which the read function
serves at ``GET /v1/openapi.json`` from the layer. ``python -m infra.local.openapi`` rewrites it; a test checks
the shipped copy is current.

A route declares the answers its own code gives (its success, and the 403/404/409/422/503 it raises). The answers
the shared layers give are added here, from the same sources that give them, so no route restates them:

- who may call: the template's authorizer on the route (a bearer ID token, 401 without a valid one); the webhooks,
  which have none, are signed (``X-Signature``, 401 without a valid signature), and their bodies are the very
  models their handlers validate with;
- what the body screen refuses before anything parses (``lending.api.http.screen_body``): 400, 413, 415;
- 422 from validation, which answers the contract's error body, not Powertools' default ``HTTPValidationError``;
- 404 for a path with an id (another borrower's resource answers as if it did not exist), 500 for anything else.

Every answer that is not a success carries ``ErrorBody``: ``{"error": {"code", "message", "fields"?}}``.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

from infra.local.template import ROOT, ApiRoute, api_routes, functions, load_template

DOCUMENT = ROOT / "shared" / "lending" / "api" / "openapi.json"
TITLE = "Lending API"
VERSION = "1.0.0"


def _resolver(logical_id: str, source: Path) -> Any:
    spec = importlib.util.spec_from_file_location(f"openapi_{logical_id}", source)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {source}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.app


def generate() -> dict[str, Any]:
    """One OpenAPI document for every route of every API function in the template."""
    from aws_lambda_powertools.event_handler.openapi.merge import OpenAPIMerge
    from aws_lambda_powertools.event_handler.openapi.models import Server

    merged = OpenAPIMerge(
        title=TITLE,
        version=VERSION,
        description="Unsecured online loans for micro and small businesses: apply, decide, disburse, repay.",
        servers=[Server(url="http://127.0.0.1:3000", description="the local stack (make run)")],
        on_conflict="error",
    )
    for spec in sorted(functions(load_template()).values(), key=lambda s: s.logical_id):
        if not spec.routes:
            continue
        module, _, _ = spec.handler.rpartition(".")
        app = _resolver(spec.logical_id, spec.code_dir / f"{module}.py")
        merged.add_schema(json.loads(app.get_openapi_json_schema(title=TITLE, version=VERSION)))
    document: dict[str, Any] = json.loads(merged.get_openapi_json_schema())
    complete(document, api_routes(load_template()))
    return document


BEARER = "bearer"
SIGNATURE = "signature"
SECURITY_SCHEMES: dict[str, Any] = {
    BEARER: {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "An ID token of the platform's user pool. The subject (sub) is the borrower; the review "
        "routes need the underwriters group and the /v1/ops/ routes the operations group (cognito:groups), others get "
        "403.",
    },
    SIGNATURE: {
        "type": "apiKey",
        "in": "header",
        "name": "X-Signature",
        "description": "Webhooks: t=<unix seconds>,v1=<hex>, where hex is HMAC-SHA256 with the sender's shared secret "
        "over '<t>.<raw body bytes>'; several v1= values may be present (secret rotation). A missing or wrong "
        "signature, or a t more than 300 s from now, is 401 and changes nothing.",
    },
}

#: What each answer a shared layer gives means, for the routes it applies to.
SHARED_ANSWERS = {
    400: "the request could not be read (a malformed header), or its body is not UTF-8 JSON or nests deeper than 32 "
    "levels",
    401: "no valid credentials: a missing, expired or forged token, or a webhook's missing or wrong signature",
    404: "no such resource (another borrower's answers exactly as if it did not exist)",
    413: "the body is over 64 KiB (refused before it is parsed)",
    415: "the body is not application/json",
    422: "invalid input: fields names each field refused and why",
    500: "something went wrong on our side",
}
ERROR_BODY = "ErrorBody"
#: The routes that take no token, and the model of the body each validates (after checking the signature).
WEBHOOK_BODIES = {
    ("POST", "/v1/webhooks/identity"): "lending.identity:IdentityNotice",
    ("POST", "/v1/webhooks/payments"): "lending.api.models:PaymentNotice",
}
#: Open and unsigned: the document itself.
PUBLIC = {("GET", "/v1/openapi.json")}


def _model(reference: str) -> Any:
    module, _, name = reference.partition(":")
    return getattr(importlib.import_module(module), name)


def _add_schema(document: dict[str, Any], model: Any) -> dict[str, str]:
    """``model``'s validation schema in components (its nested models too); a reference to it."""
    ref_template = "#/components/schemas/{model}"
    schema = model.model_json_schema(ref_template=ref_template)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name, definition in schema.pop("$defs", {}).items():
        schemas.setdefault(name, definition)
    schemas[model.__name__] = schema
    return {"$ref": ref_template.format(model=model.__name__)}


def _not_null(parameter: dict[str, Any]) -> None:
    """An optional query parameter as a query string can carry it: a value, or absent. Pydantic's ``str | None``
    says ``anyOf [string, null]``, and no query string can send a null (absent is what None means)."""
    schema = parameter.get("schema", {})
    alternatives = schema.get("anyOf")
    if parameter.get("in") != "query" or not alternatives:
        return
    kept = [alternative for alternative in alternatives if alternative.get("type") != "null"]
    if len(kept) == 1 and len(kept) < len(alternatives):
        del schema["anyOf"]
        schema.update(kept[0])


def complete(document: dict[str, Any], routes: list[ApiRoute]) -> None:
    """Add to ``document`` what the shared layers answer and who may call, per route of the template."""
    from lending.api.models import ErrorBody

    error_ref = _add_schema(document, ErrorBody)
    schemas = document["components"]["schemas"]
    # Powertools' own error shapes: the contract's error body answers instead.
    for unused in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
        schemas.pop(unused, None)
    document["components"]["securitySchemes"] = SECURITY_SCHEMES
    by_operation = {(route.method, route.path): route for route in routes}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                _not_null(parameter)
            key = (method.upper(), path)
            route = by_operation.get(key)
            if route is None:
                raise ValueError(f"{method.upper()} {path} is documented but the template has no such route")
            answers = operation["responses"]
            if route.authorizer is not None:
                operation["security"] = [{BEARER: []}]
                answers.setdefault("401", {})
            elif key in WEBHOOK_BODIES:
                operation["security"] = [{SIGNATURE: []}]
                operation["requestBody"] = {
                    "required": True,
                    "content": {"application/json": {"schema": _add_schema(document, _model(WEBHOOK_BODIES[key]))}},
                }
                answers.setdefault("401", {})
            elif key not in PUBLIC:
                raise ValueError(f"{method.upper()} {path} has no authorizer and is not a known webhook")
            takes_input = "requestBody" in operation or any(p["in"] != "path" for p in operation.get("parameters", []))
            if not takes_input and answers.get("422", {}).get("description") == "Validation Error":
                del answers["422"]  # Powertools documents it for every route; a path of plain ids validates nothing
            if "requestBody" in operation:
                for status in (400, 413, 415, 422):
                    answers.setdefault(str(status), {})
            if "{" in path:
                answers.setdefault("404", {})
            answers.setdefault("400", {})  # the front refuses a request it cannot read, on any route
            answers.setdefault("500", {})
            for status, answer in answers.items():
                if int(status) >= 400:
                    answer.setdefault("description", SHARED_ANSWERS.get(int(status), "refused"))
                    if answer.get("description") == "Validation Error":
                        answer["description"] = SHARED_ANSWERS[422]
                    answer["content"] = {"application/json": {"schema": error_ref}}
            operation["responses"] = dict(sorted(answers.items()))


def render() -> str:
    return json.dumps(generate(), indent=2, sort_keys=True) + "\n"


def main() -> int:
    DOCUMENT.write_text(render())
    print(f"wrote {DOCUMENT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
