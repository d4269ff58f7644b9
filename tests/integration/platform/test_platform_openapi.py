"""The OpenAPI document the layer serves is the one the functions' routes generate now, and it states the whole
contract: who may call each operation, every refusal in the contract's error body, the webhooks' bodies, and the
constraints a client must meet."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.local.openapi import DOCUMENT, render
from infra.local.template import api_routes, load_template
from lending.api.models import ZERO_TEXT, PaymentNotice
from lending.applicant import ID_NUMBER_TEXT
from lending.catalogue import load_catalogue
from lending.identity import IdentityNotice


def test_the_shipped_openapi_document_is_current() -> None:
    # When it is generated again from every API function's routes
    # Then it is byte for byte the one the layer ships (regenerate with `python -m infra.local.openapi`)
    assert DOCUMENT.read_text() == render()


DOCUMENTED = json.loads(DOCUMENT.read_text())
ROUTES = {(route.method, route.path): route for route in api_routes(load_template())}
OPERATIONS = [
    (method.upper(), path, operation)
    for path, methods in DOCUMENTED["paths"].items()
    for method, operation in methods.items()
]


def test_every_route_of_the_template_is_documented_and_nothing_else() -> None:
    documented = {(method, path) for method, path, _ in OPERATIONS}
    assert documented == set(ROUTES) - {("GET", "/v1/openapi.json")}


@pytest.mark.parametrize(("method", "path", "operation"), OPERATIONS, ids=[f"{m} {p}" for m, p, _ in OPERATIONS])
def test_each_operation_says_who_may_call_it_and_answers_401_otherwise(
    method: str, path: str, operation: dict[str, Any]
) -> None:
    # Given the template's authorizer on the route (a webhook has none and is signed instead)
    route = ROUTES[(method, path)]
    expected = "bearer" if route.authorizer is not None else "signature"
    # Then the document names that scheme, and the 401 a caller without it gets
    assert operation["security"] == [{expected: []}]
    assert expected in DOCUMENTED["components"]["securitySchemes"]
    assert "401" in operation["responses"]


@pytest.mark.parametrize(("method", "path", "operation"), OPERATIONS, ids=[f"{m} {p}" for m, p, _ in OPERATIONS])
def test_every_refusal_is_documented_with_the_contracts_error_body(
    method: str, path: str, operation: dict[str, Any]
) -> None:
    answers = operation["responses"]
    refusals = {status: answer for status, answer in answers.items() if int(status) >= 400}
    # Every status a refusal can have where it occurs: the body screen's on a body, 404 for an id, 500 anywhere
    if "requestBody" in operation:
        assert {"400", "413", "415", "422"} <= set(refusals)
    if "{" in path:
        assert "404" in refusals
    assert "500" in refusals
    # And each carries {"error": {"code", "message"}}, never Powertools' {"detail": ...}
    for answer in refusals.values():
        assert answer["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorBody"}
    assert "HTTPValidationError" not in json.dumps(DOCUMENTED)


def test_the_webhooks_bodies_are_the_models_their_handlers_validate_with() -> None:
    schemas = DOCUMENTED["components"]["schemas"]
    for path, model in [("/v1/webhooks/identity", IdentityNotice), ("/v1/webhooks/payments", PaymentNotice)]:
        body = DOCUMENTED["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
        assert body == {"$ref": f"#/components/schemas/{model.__name__}"}
        assert set(schemas[model.__name__]["properties"]) == set(model.model_fields)


def test_the_constraints_a_client_must_meet_are_stated() -> None:
    schemas = DOCUMENTED["components"]["schemas"]
    # Industry codes are the catalogue's, amounts are more than zero, the ID number's form and checksum are stated
    assert schemas["Business"]["properties"]["industry"]["enum"] == sorted(load_catalogue().industries)
    amount = schemas["DrawdownRequest"]["properties"]["amount"]
    assert amount["type"] == "string"
    assert amount["not"] == {"pattern": ZERO_TEXT}
    id_number = schemas["Applicant"]["properties"]["id_number"]
    assert id_number["pattern"] == ID_NUMBER_TEXT
    assert "MOD 11-2" in id_number["description"]
    payoff_date = DOCUMENTED["paths"]["/v1/loans/{loan_id}/payoff"]["get"]["parameters"]
    assert any(p["name"] == "date" and "or later" in p["description"] for p in payoff_date)
