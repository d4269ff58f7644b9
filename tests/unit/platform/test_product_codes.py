"""The product codes a client may send are the catalogue's: the catalogue is the one truth of which products exist."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from lending.api import models
from lending.api.models import ApplicationRequest
from lending.catalogue import Catalogue, parse_catalogue


def _body(product: str) -> dict[str, Any]:
    return {
        "product": product,
        "amount": "120000.00",
        "term_months": 12,
        "purpose": "working capital",
        "applicant": {
            "name": "Zhang Min",
            "id_number": "11010519491231002X",
            "phone": "+8613900000001",
            "bank_account": "6222020200001234",
        },
        "business": {"name": "Zhang's Noodles", "industry": "catering", "registered_on": "2019-05-01"},
        "consent": {"credit_report": True, "data_processing": True},
    }


def _problems(product: str) -> list[tuple[Any, ...]]:
    with pytest.raises(ValidationError) as refused:
        ApplicationRequest.model_validate(_body(product))
    return [error["loc"] for error in refused.value.errors(include_url=False)]


def test_a_product_the_catalogue_adds_is_accepted_without_touching_the_models(
    catalogue_document: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a catalogue with one more product, a copy of the business loan under a new code
    added = dict(catalogue_document["products"]["business_instalment"], code="green_instalment")
    catalogue_document["products"]["green_instalment"] = added
    catalogue = parse_catalogue(json.dumps(catalogue_document))

    def load(path: str | None = None) -> Catalogue:
        return catalogue

    monkeypatch.setattr(models, "load_catalogue", load)

    # When an application names it, Then it validates, and the document's list of products names it too
    assert ApplicationRequest.model_validate(_body("green_instalment")).product == "green_instalment"
    schema = ApplicationRequest.model_json_schema()["properties"]["product"]
    assert "green_instalment" in schema["enum"]


@pytest.mark.parametrize("product", ["payday", " credit_line", "Credit_Line", ""])
def test_a_product_the_catalogue_does_not_hold_is_refused_on_the_product_field(product: str) -> None:
    assert _problems(product) == [("product",)]
