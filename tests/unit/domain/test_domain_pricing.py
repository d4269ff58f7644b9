"""APR, the rate cap, risk pricing and the catalogue's own rules."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from importlib import resources

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lending.catalogue import Catalogue, Method, load_catalogue, parse_catalogue
from lending.errors import CatalogueError, ProductRuleViolation, RateCapExceeded
from lending.money import Money
from lending.pricing import Fees, Offer, check_product_rules, make_offer, price_annual_rate
from lending.rates import DISCLOSURE_PLACES
from lending.schedule import build_schedule

CATALOGUE = load_catalogue()
START = date(2026, 1, 15)


def _raw_catalogue() -> dict[str, object]:
    raw: dict[str, object] = json.loads(resources.files("lending").joinpath("data/catalogue.json").read_text())
    return raw


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1_000_000, 50_000_000).map(Money),
    st.integers(3, 36),
    st.integers(1, 2400).map(lambda bp: Decimal(bp) / Decimal(10_000)),
    st.sampled_from([Method.EQUAL_INSTALMENT, Method.EQUAL_PRINCIPAL]),
)
def test_with_no_fees_the_apr_is_the_nominal_rate(amount: Money, months: int, rate: Decimal, method: Method) -> None:
    offer = make_offer(CATALOGUE, "business_instalment", amount, months, method, START, rate, fees=Fees())
    assert offer.apr.quantize(DISCLOSURE_PLACES) == rate


def test_an_upfront_fee_raises_the_apr_above_the_nominal_rate() -> None:
    without = make_offer(
        CATALOGUE,
        "business_instalment",
        Money.of("120000"),
        12,
        Method.EQUAL_INSTALMENT,
        START,
        Decimal("0.12"),
        fees=Fees(),
    )
    with_fee = make_offer(
        CATALOGUE, "business_instalment", Money.of("120000"), 12, Method.EQUAL_INSTALMENT, START, Decimal("0.12")
    )
    assert with_fee.upfront_fee == Money.of("1200.00")  # the product's 1% service fee
    assert with_fee.net_disbursement == Money.of("118800.00")
    assert with_fee.apr > without.apr + Decimal("0.015")


def test_the_effective_annual_rate_compounds_the_monthly_irr() -> None:
    offer = make_offer(
        CATALOGUE,
        "business_instalment",
        Money.of("120000"),
        12,
        Method.EQUAL_INSTALMENT,
        START,
        Decimal("0.12"),
        fees=Fees(),
    )
    monthly = offer.apr / 12
    assert abs(offer.effective_annual_rate - ((1 + monthly) ** 12 - 1)) < Decimal("1e-12")
    assert offer.effective_annual_rate.quantize(DISCLOSURE_PLACES) == Decimal("0.1268")  # (1.01)^12 − 1 = 12.68%


def test_a_rate_above_the_cap_is_refused() -> None:
    with pytest.raises(RateCapExceeded, match="above the cap"):
        make_offer(
            CATALOGUE, "business_instalment", Money.of("50000"), 12, Method.EQUAL_INSTALMENT, START, Decimal("0.2401")
        )


def test_fees_that_push_the_apr_above_the_cap_are_refused() -> None:
    # 23% nominal is under the cap, but a 3,000 fee on 120,000 over 3 months adds about 10 points of APR
    with pytest.raises(RateCapExceeded, match="APR"):
        make_offer(
            CATALOGUE,
            "business_instalment",
            Money.of("120000"),
            3,
            Method.EQUAL_INSTALMENT,
            START,
            Decimal("0.23"),
            fees=Fees(upfront=Money.of("3000")),
        )


def test_an_offer_above_the_cap_cannot_be_constructed_directly_either() -> None:
    schedule = build_schedule(Money.of("120000"), Decimal("0.23"), 3, Method.EQUAL_INSTALMENT, START)
    with pytest.raises(RateCapExceeded):
        Offer("business_instalment", schedule, Money.of("3000"), Decimal("0.24"))


def test_an_lpr_multiple_cap_lowers_the_ceiling() -> None:
    # Given a cap of 4 × an LPR of 3.00% = 12%
    raw = _raw_catalogue()
    raw["rate_cap"] = {"mode": "lpr_multiple", "lpr": "0.0300", "multiple": "4"}
    raw["risk_grades"] = {"A": {"base_rate": "0.0720", "description": "lowest risk"}}
    catalogue = parse_catalogue(json.dumps(raw))
    assert catalogue.rate_cap.annual_rate == Decimal("0.1200")
    # Then 13% is refused, though the default 24% cap would take it
    with pytest.raises(RateCapExceeded):
        make_offer(
            catalogue, "consumer_instalment", Money.of("10000"), 12, Method.EQUAL_INSTALMENT, START, Decimal("0.13")
        )


@pytest.mark.parametrize(
    ("product", "grade", "industry", "rate"),
    [
        ("business_instalment", "C", "retail", "0.1280"),  # base 12.80%, retail ±0
        ("business_instalment", "C", "construction", "0.1430"),  # + 1.50%
        ("business_instalment", "A", "agriculture", "0.0620"),  # 7.20% − 1.00%
        ("startup_plan", "B", "catering", "0.0960"),  # 9.60% + 1.00% − 1.00% start-up discount
        ("consumer_instalment", "D", None, "0.1650"),  # consumer products are not priced by industry
    ],
)
def test_the_rate_is_grade_plus_industry_less_the_startup_discount(
    product: str, grade: str, industry: str | None, rate: str
) -> None:
    assert price_annual_rate(CATALOGUE, CATALOGUE.product(product), grade, industry) == Decimal(rate)


@pytest.mark.parametrize(
    ("amount", "months", "method"),
    [
        ("9999.99", 12, Method.EQUAL_INSTALMENT),
        ("500000.01", 12, Method.EQUAL_INSTALMENT),
        ("10000", 37, Method.EQUAL_INSTALMENT),
        ("10000", 12, Method.INTEREST_ONLY_GRACE),
    ],
)
def test_amount_term_and_method_outside_the_product_are_refused(amount: str, months: int, method: Method) -> None:
    with pytest.raises(ProductRuleViolation):
        check_product_rules(CATALOGUE.product("business_instalment"), Money.of(amount), months, method)


def test_the_shipped_catalogue_loads_with_its_four_products() -> None:
    assert set(CATALOGUE.products) == {"business_instalment", "consumer_instalment", "credit_line", "startup_plan"}
    assert isinstance(CATALOGUE, Catalogue)


@pytest.mark.parametrize(("field", "value"), [("max_amount", "500000.01"), ("max_term_months", 37)])
def test_a_catalogue_beyond_500000_or_36_months_does_not_load(field: str, value: object) -> None:
    raw = _raw_catalogue()
    raw["products"]["business_instalment"][field] = value  # type: ignore[index]
    with pytest.raises(CatalogueError):
        parse_catalogue(json.dumps(raw))


@pytest.mark.parametrize(("lookup", "name"), [("product", "mortgage"), ("industry", "mining"), ("risk_grade", "Z")])
def test_unknown_names_are_refused_with_the_known_ones_listed(lookup: str, name: str) -> None:
    with pytest.raises(CatalogueError, match="known:"):
        getattr(CATALOGUE, lookup)(name)


@pytest.mark.parametrize(
    ("days", "bucket"),
    [(0, None), (1, "dpd_1_30"), (30, "dpd_1_30"), (31, "dpd_31_60"), (90, "dpd_61_90"), (91, "dpd_90_plus")],
)
def test_delinquency_buckets_follow_the_catalogue(days: int, bucket: str | None) -> None:
    assert CATALOGUE.bucket_for(days) == bucket
