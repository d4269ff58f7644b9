"""The product catalogue: shipped as data, validated at load, and unable to break the brief's limits."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from lending.catalogue import (
    DEFAULT_WATERFALL,
    MAX_AMOUNT,
    MAX_TERM_MONTHS,
    Catalogue,
    Component,
    EarlyRepayment,
    InterestMethod,
    Method,
    load_catalogue,
    parse_catalogue,
)
from lending.errors import CatalogueError
from lending.money import Money


def _parse(document: dict[str, Any]) -> Catalogue:
    return parse_catalogue(json.dumps(document))


def test_the_shipped_catalogue_loads_with_the_four_products_and_a_24_percent_cap(shipped_catalogue: Catalogue) -> None:
    # Given the catalogue shipped in the layer
    # Then it names the four products of the API, caps rates at 24% a year, and keeps every product within the brief
    assert set(shipped_catalogue.products) == {
        "business_instalment",
        "consumer_instalment",
        "credit_line",
        "startup_plan",
    }
    assert shipped_catalogue.currency == "CNY"
    assert shipped_catalogue.rate_cap.mode == "fixed"
    assert shipped_catalogue.rate_cap.annual_rate == Decimal("0.24")
    for product in shipped_catalogue.products.values():
        assert product.max_amount <= MAX_AMOUNT == Money.of("500000.00")
        assert product.max_term_months <= MAX_TERM_MONTHS == 36
        # a product charging interest by the day counts a 365-day year; monthly products count 360
        assert product.day_count_basis == (365 if product.interest_method is InterestMethod.DAILY else 360)
    assert shipped_catalogue.product("consumer_instalment").interest_method is InterestMethod.DAILY
    # And the start-up plan carries the grace period and the discount
    startup = shipped_catalogue.product("startup_plan")
    assert startup.methods == (Method.INTEREST_ONLY_GRACE,)
    assert startup.startup is not None
    assert startup.startup.grace_months == 6
    assert shipped_catalogue.product("consumer_instalment").early_repayment is EarlyRepayment.REDUCE_INSTALMENT
    assert shipped_catalogue.product("business_instalment").waterfall == DEFAULT_WATERFALL


def test_the_catalogue_is_parsed_once_per_process() -> None:
    # Given the catalogue loaded twice
    # Then it is the same object
    assert load_catalogue() is load_catalogue()


def test_a_catalogue_can_be_loaded_from_a_file(tmp_path: Path, catalogue_document: dict[str, Any]) -> None:
    # Given a copy of the catalogue with another version, in a file
    catalogue_document["version"] = "test.1"
    path = tmp_path / "catalogue.json"
    path.write_text(json.dumps(catalogue_document))
    # When it is loaded from that path
    # Then that version is used
    assert load_catalogue(str(path)).version == "test.1"


def test_the_default_waterfall_pays_penalty_and_overdue_before_current() -> None:
    assert DEFAULT_WATERFALL == (
        Component.OVERDUE_PENALTY,
        Component.OVERDUE_FEE,
        Component.OVERDUE_INTEREST,
        Component.OVERDUE_PRINCIPAL,
        Component.CURRENT_FEE,
        Component.CURRENT_INTEREST,
        Component.CURRENT_PRINCIPAL,
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("max_amount", "500000.01", "max_amount <= 500000.00"),
        ("max_amount", "1000000.00", "max_amount <= 500000.00"),
        ("max_term_months", 37, "max_term_months <= 36"),
        ("min_amount", "0.00", "0 < min_amount"),
        ("min_amount", "600000.00", "min_amount <= max_amount"),
        ("min_term_months", 40, "min_term_months <= max_term_months"),
    ],
)
def test_a_product_beyond_the_brief_cannot_load(
    catalogue_document: dict[str, Any], field: str, value: object, message: str
) -> None:
    # Given the shipped catalogue with one business-loan limit broken
    catalogue_document["products"]["business_instalment"][field] = value
    # When it is loaded
    # Then it is refused, naming the rule
    with pytest.raises(CatalogueError, match=re.escape(message)):
        _parse(catalogue_document)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("money_as_float", "decimal strings"),
        ("third_decimal_place", "more than two decimal places"),
        ("waterfall_missing_a_component", "waterfall must name every component"),
        ("revolving_line_with_a_method", "revolving line has no amortisation method"),
        ("instalment_without_methods", "needs at least one method"),
        ("grace_without_start_up_plan", "interest-only grace belongs to the start-up plan"),
        ("grace_as_long_as_the_shortest_term", "grace period must be shorter"),
        ("code_mismatch", "says its code is"),
        ("unknown_field", "Extra inputs are not permitted"),
        ("base_rate_above_cap", "base rate is above the rate cap"),
        ("buckets_with_a_gap", "contiguous from day 1"),
        ("buckets_closed_at_the_end", "must be open-ended"),
        ("no_grades", "at least one risk grade"),
        ("another_currency", "currency"),
    ],
)
def test_a_malformed_catalogue_cannot_load(catalogue_document: dict[str, Any], change: str, message: str) -> None:
    # Given the shipped catalogue with one thing wrong
    products = catalogue_document["products"]
    business = products["business_instalment"]
    if change == "money_as_float":
        business["max_amount"] = 500000.0
    elif change == "third_decimal_place":
        business["min_amount"] = "10000.001"
    elif change == "waterfall_missing_a_component":
        business["waterfall"] = [c.value for c in DEFAULT_WATERFALL[:-1]]
    elif change == "revolving_line_with_a_method":
        products["credit_line"]["methods"] = ["equal_instalment"]
    elif change == "instalment_without_methods":
        business["methods"] = []
    elif change == "grace_without_start_up_plan":
        business["methods"] = ["equal_instalment", "interest_only_grace"]
    elif change == "grace_as_long_as_the_shortest_term":
        products["startup_plan"]["startup"]["grace_months"] = 12
    elif change == "code_mismatch":
        business["code"] = "business"
    elif change == "unknown_field":
        business["colour"] = "blue"
    elif change == "base_rate_above_cap":
        catalogue_document["risk_grades"]["E"]["base_rate"] = "0.2500"
    elif change == "buckets_with_a_gap":
        catalogue_document["delinquency_buckets"][1]["min_days"] = 32
    elif change == "buckets_closed_at_the_end":
        catalogue_document["delinquency_buckets"][-1]["max_days"] = 120
    elif change == "no_grades":
        catalogue_document["risk_grades"] = {}
    elif change == "another_currency":
        catalogue_document["currency"] = "USD"

    # When it is loaded
    # Then it is one CatalogueError that says what is wrong
    with pytest.raises(CatalogueError, match=re.escape(message)):
        _parse(catalogue_document)


def test_a_catalogue_that_is_not_json_is_a_catalogue_error() -> None:
    with pytest.raises(CatalogueError, match="invalid product catalogue"):
        parse_catalogue(b"{not json")


@pytest.mark.parametrize(
    ("lookup", "code", "known"),
    [
        ("product", "payday", "business_instalment, consumer_instalment, credit_line, startup_plan"),
        ("industry", "mining", "agriculture, catering, construction, logistics, manufacturing, retail"),
        ("risk_grade", "Z", "A, B, C, D, E"),
    ],
)
def test_an_unknown_code_is_a_catalogue_error_naming_the_known_ones(
    shipped_catalogue: Catalogue, lookup: str, code: str, known: str
) -> None:
    # Given a product, industry or grade code the catalogue does not contain
    # When it is looked up
    # Then the error names it and lists the known codes in order
    with pytest.raises(CatalogueError, match=f"'{code}'; known: {known}") as raised:
        getattr(shipped_catalogue, lookup)(code)
    assert raised.value.code == "catalogue_error"


@pytest.mark.parametrize(
    ("days", "bucket"),
    [
        (0, None),
        (1, "dpd_1_30"),
        (30, "dpd_1_30"),
        (31, "dpd_31_60"),
        (60, "dpd_31_60"),
        (61, "dpd_61_90"),
        (90, "dpd_61_90"),
        (91, "dpd_90_plus"),
        (1000, "dpd_90_plus"),
    ],
)
def test_days_past_due_map_to_their_delinquency_bucket(
    shipped_catalogue: Catalogue, days: int, bucket: str | None
) -> None:
    # Given a number of days past due
    # When its bucket is looked up
    # Then the edges fall as the catalogue says: 1–30, 31–60, 61–90, 91 and over; a current loan has none
    assert shipped_catalogue.bucket_for(days) == bucket


def test_catalogue_rates_are_written_back_as_four_place_strings(shipped_catalogue: Catalogue) -> None:
    # Given the shipped catalogue
    # When it is dumped to JSON
    dumped = json.loads(shipped_catalogue.model_dump_json())
    # Then rates are four-place strings and amounts two-place strings, as in the file
    assert dumped["rate_cap"]["annual"] == "0.2400"
    assert dumped["industries"]["agriculture"]["rate_adjustment"] == "-0.0100"
    assert dumped["products"]["business_instalment"]["max_amount"] == "500000.00"
    assert _parse(dumped) == shipped_catalogue
