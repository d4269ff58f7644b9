"""Pricing, APR and the rate cap: an offer above the cap cannot exist."""

from __future__ import annotations

import decimal
import json
import re
from datetime import date
from decimal import Decimal
from typing import Any

import numpy_financial as npf
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lending.apr import CashFlow, annualise, monthly_irr
from lending.catalogue import Catalogue, Method, parse_catalogue
from lending.errors import CatalogueError, ProductRuleViolation, RateCapExceeded
from lending.money import Money, Rounding
from lending.pricing import (
    Fees,
    Offer,
    borrower_cash_flows,
    check_product_rules,
    make_offer,
    penalty_annual_rate,
    price_annual_rate,
    price_offer,
)
from lending.rates import DISCLOSURE_PLACES, format_rate
from lending.schedule import build_schedule

PROPERTY = settings(max_examples=150, deadline=None)
CAP = Decimal("0.24")
START = date(2026, 1, 15)
RATES = st.integers(min_value=0, max_value=2400).map(lambda bp: Decimal(bp).scaleb(-4))
STARTS = st.dates(min_value=date(2024, 1, 1), max_value=date(2032, 12, 31))
METHODS = st.sampled_from([Method.EQUAL_INSTALMENT, Method.EQUAL_PRINCIPAL])


def _disclosed(rate: Decimal) -> Decimal:
    return rate.quantize(DISCLOSURE_PLACES, rounding=Rounding.HALF_UP.value)


def _offer(amount: str, rate: str, months: int, method: Method, fee: str = "0", cap: Decimal = CAP) -> Offer:
    schedule = build_schedule(Money.of(amount), Decimal(rate), months, method, START)
    return Offer("business_instalment", schedule, Money.of(fee), cap)


# APR without fees is the nominal rate


@PROPERTY
@given(
    # 2,500.00 and up: see the bound below.
    fen=st.integers(min_value=250_000, max_value=50_000_000),
    months=st.integers(1, 36),
    annual_rate=RATES,
    method=METHODS,
    start=STARTS,
)
def test_without_fees_the_disclosed_apr_is_the_nominal_rate(
    fen: int, months: int, annual_rate: Decimal, method: Method, start: date
) -> None:
    # Given a loan without fees, due on the disbursement day each month
    schedule = build_schedule(Money(fen), annual_rate, months, method, start)

    # When its offer computes the APR from the borrower's cash flows
    offer = Offer("consumer_instalment", schedule, Money.ZERO, CAP)

    # Then the APR, at the four places it is disclosed with, is the nominal annual rate.
    # Why it holds only from about 2,400.00: at the nominal monthly rate the present value of the payments is exactly
    # the amount plus the present value of the per-period interest roundings (each at most half a fen). To first
    # order the APR moves by 12 × Σ ½fen·v^k / Σ k·CF_k·v^(k+1); the largest value of that over 1–36 months, 0–24%
    # and both methods is 0.117 CNY / amount (0.12·n/(n+1) / amount at a zero rate). From 2,500.00 it is under half a
    # basis point, so the rounded APR cannot leave the nominal rate; below, one fen can show (next test).
    assert _disclosed(offer.apr) == annual_rate


def test_an_interest_free_loan_discloses_an_apr_of_zero_not_minus_zero() -> None:
    # Given an interest-free 50,000.00 loan over 3 months in equal instalments, without fees (a 0% promotion)
    offer = _offer("50000", "0", 3, Method.EQUAL_INSTALMENT)

    # When its APR and effective annual rate are written for disclosure
    # Then both read 0.0000
    # (regression: the IRR solver stops at a float residue of about -8e-16 a month, and format_rate once quantised
    # it to "-0.0000"; `lending quote` printed "apr": "-0.0000" and "APR -0.00%")
    assert format_rate(offer.apr) == "0.0000"
    assert format_rate(offer.effective_annual_rate) == "0.0000"


def test_on_a_small_short_loan_the_apr_shows_the_rounded_up_interest() -> None:
    # Given 1,000.00 at 12.03% for one month without fees: the interest is 1,000 × 0.1203 / 12 = 10.025, which is
    # rounded half up to 10.03
    offer = _offer("1000.00", "0.1203", 1, Method.EQUAL_INSTALMENT)
    assert str(offer.schedule.instalments[0].interest) == "10.03"

    # When the APR is computed from what the borrower actually pays
    # Then it is that of 1,000.00 in and 1,010.03 out a month later: 12 × 1.003% = 12.036%, disclosed as 0.1204,
    # one basis point above the nominal rate (the cash flows, not the quoted rate, define the APR)
    assert abs(offer.apr - Decimal("0.12036")) < Decimal("1e-12")
    assert format_rate(offer.apr) == "0.1204"


def test_the_apr_of_the_issue_example_is_12_percent_and_its_effective_rate_12_68() -> None:
    # Given the issue's example: 120,000.00 at 12% over 12 months, equal instalments, no fee
    offer = _offer("120000", "0.12", 12, Method.EQUAL_INSTALMENT)
    # Then the APR is 0.1200 and the effective annual rate (1.01^12 − 1 = 0.126825...) is 0.1268
    assert format_rate(offer.apr) == "0.1200"
    assert format_rate(offer.effective_annual_rate) == "0.1268"
    assert offer.term_months == 12
    assert offer.net_disbursement == Money.of("120000")


# Fees


@PROPERTY
@given(
    fen=st.integers(min_value=100_000, max_value=50_000_000),
    months=st.integers(1, 36),
    annual_rate=st.integers(min_value=0, max_value=1800).map(lambda bp: Decimal(bp).scaleb(-4)),
    method=METHODS,
    fee_share=st.integers(min_value=1, max_value=100),  # 0.01% to 1% of the amount
)
def test_an_upfront_fee_raises_the_apr(
    fen: int, months: int, annual_rate: Decimal, method: Method, fee_share: int
) -> None:
    # Given a loan, and the same loan with an upfront fee of up to 1% deducted from the payout
    schedule = build_schedule(Money(fen), annual_rate, months, method, START)
    fee = Money(max(1, fen * fee_share // 10_000))
    no_cap = Decimal(1)  # a 1% fee over one month is a 12-point APR: the cap is not what this test is about
    without = Offer("business_instalment", schedule, Money.ZERO, no_cap)

    # When both APRs are computed
    with_fee = Offer("business_instalment", schedule, fee, no_cap)

    # Then the fee makes the APR higher, and higher than the nominal rate once it is worth at least a basis point
    assert with_fee.apr > without.apr
    assert with_fee.net_disbursement == Money(fen) - fee
    if fee_share >= 10:
        assert with_fee.apr > annual_rate


def test_the_apr_with_a_fee_matches_numpy_financial_irr() -> None:
    # Given 120,000.00 at 12% over 12 months with a 1% (1,200.00) upfront fee: the borrower receives 118,800.00
    offer = _offer("120000", "0.12", 12, Method.EQUAL_INSTALMENT, fee="1200.00")
    flows = [118_800.00] + [-10_661.85] * 11 + [-10_661.91]

    # When the APR is compared with numpy-financial's IRR of the same flows (an independent float solver)
    expected = float(npf.irr(flows)) * 12

    # Then they agree far below the disclosed four places: npf.irr is 1.159428...% a month, so the fee lifts the
    # APR from 12% to 12 × 1.159428% = 13.91%
    assert abs(float(offer.apr) - expected) < 1e-9
    assert format_rate(offer.apr) == "0.1391"
    assert borrower_cash_flows(offer.schedule, offer.upfront_fee)[0] == CashFlow(Decimal(0), Decimal("118800.00"))


@PROPERTY
@given(
    fen=st.integers(min_value=100_000, max_value=50_000_000),
    months=st.integers(1, 36),
    annual_rate=RATES,
    method=METHODS,
    fee_share=st.integers(min_value=0, max_value=300),
)
def test_the_effective_annual_rate_compounds_the_monthly_rate(
    fen: int, months: int, annual_rate: Decimal, method: Method, fee_share: int
) -> None:
    # Given any offer under the cap
    schedule = build_schedule(Money(fen), annual_rate, months, method, START)
    offer = Offer("business_instalment", schedule, Money(fen * fee_share // 10_000), Decimal(1))
    # When its effective annual rate is compared with (1 + APR/12)^12 − 1, worked at 50 digits
    with decimal.localcontext(prec=50):
        expected = (1 + offer.apr / 12) ** 12 - 1
    # Then they are the same number
    assert abs(offer.effective_annual_rate - expected) < Decimal("1e-30")
    assert offer.effective_annual_rate >= offer.apr or offer.apr <= 0


def test_annualise_reports_monthly_irr_apr_and_effective_rate_of_simple_flows() -> None:
    # Given 100 received now and 102 paid back in one month: a 2% monthly rate, worked by hand
    flows = [CashFlow(Decimal(0), Decimal(100)), CashFlow(Decimal(1), Decimal(-102))]
    # When the flows are annualised
    rate = annualise(flows)
    # Then the APR is 24% and the effective rate 1.02^12 − 1 = 26.824...%
    assert abs(rate.monthly_irr - Decimal("0.02")) < Decimal("1e-15")
    assert format_rate(rate.apr) == "0.2400"
    assert format_rate(rate.effective_annual_rate) == "0.2682"


def test_an_irr_needs_money_in_both_directions() -> None:
    with pytest.raises(ValueError, match="both directions"):
        monthly_irr([CashFlow(Decimal(0), Decimal(100)), CashFlow(Decimal(1), Decimal(5))])


# The cap


def test_an_annual_rate_above_the_cap_is_refused_when_an_offer_is_made(shipped_catalogue: Catalogue) -> None:
    # Given the shipped catalogue's 24% cap
    # When an offer is made at 24.01%
    # Then it is refused, naming the annual rate and the cap
    with pytest.raises(RateCapExceeded, match=r"annual rate 0\.2401 is above the cap 0\.2400"):
        make_offer(
            shipped_catalogue,
            "consumer_instalment",
            Money.of("50000"),
            12,
            Method.EQUAL_INSTALMENT,
            START,
            Decimal("0.2401"),
        )


def test_fees_that_push_the_apr_above_the_cap_are_refused(shipped_catalogue: Catalogue) -> None:
    # Given 120,000.00 at 20% over 12 months, under the cap on its own
    # When an offer is made with a 5,000.00 upfront fee
    # Then it is refused, the message naming the APR with fees
    with pytest.raises(RateCapExceeded, match=r"APR 0\.\d{4} \(fees included\) is above the cap 0\.2400"):
        make_offer(
            shipped_catalogue,
            "business_instalment",
            Money.of("120000"),
            12,
            Method.EQUAL_INSTALMENT,
            START,
            Decimal("0.20"),
            fees=Fees(upfront=Money.of("5000")),
        )


def test_the_products_own_fee_can_push_a_short_priced_offer_over_the_cap(shipped_catalogue: Catalogue) -> None:
    # Given the riskiest price on the business loan: grade E (20.50%) in construction (+1.50%) = 22.00%,
    # with the product's 1% service fee
    # When it is offered over 3 months, the fee is spread over a quarter of a year and the APR passes 24%
    with pytest.raises(RateCapExceeded, match="APR"):
        price_offer(
            shipped_catalogue,
            "business_instalment",
            Money.of("100000"),
            3,
            Method.EQUAL_INSTALMENT,
            START,
            "E",
            "construction",
        )
    # Then over 36 months the same price and fee stay under the cap
    offer = price_offer(
        shipped_catalogue,
        "business_instalment",
        Money.of("100000"),
        36,
        Method.EQUAL_INSTALMENT,
        START,
        "E",
        "construction",
    )
    assert offer.annual_rate == Decimal("0.2200")
    assert Decimal("0.22") < offer.apr <= CAP


@pytest.mark.parametrize(
    ("rate", "fee"), [("0.2500", "0"), ("0.2401", "0"), ("0.2000", "5000")], ids=["rate-25", "rate-24.01", "fee"]
)
def test_an_offer_cannot_be_constructed_directly_above_the_cap(rate: str, fee: str) -> None:
    # Given a schedule (and fee) whose rate or APR is above 24%
    schedule = build_schedule(Money.of("120000"), Decimal(rate), 12, Method.EQUAL_INSTALMENT, START)
    # When an Offer is built directly, bypassing make_offer
    # Then it still refuses to exist
    with pytest.raises(RateCapExceeded):
        Offer("business_instalment", schedule, Money.of(fee), CAP)


def test_an_offer_exactly_at_the_cap_is_allowed() -> None:
    # Given 24% with no fee
    # When the offer is built
    offer = _offer("120000", "0.24", 12, Method.EQUAL_PRINCIPAL)
    # Then it exists and discloses 0.2400
    assert format_rate(offer.apr) == "0.2400"


@pytest.mark.parametrize("fee", ["-0.01", "120000", "120000.01"])
def test_an_upfront_fee_must_be_at_least_zero_and_less_than_the_amount(fee: str) -> None:
    schedule = build_schedule(Money.of("120000"), Decimal("0.12"), 12, Method.EQUAL_INSTALMENT, START)
    with pytest.raises(ProductRuleViolation, match="upfront fee"):
        Offer("business_instalment", schedule, Money.of(fee), CAP)


def _lpr_catalogue(document: dict[str, Any], lpr: str, multiple: str) -> Catalogue:
    document["rate_cap"] = {"mode": "lpr_multiple", "lpr": lpr, "multiple": multiple}
    return parse_catalogue(json.dumps(document))


def test_an_lpr_multiple_cap_lowers_the_ceiling(
    shipped_catalogue: Catalogue, catalogue_document: dict[str, Any]
) -> None:
    # Given the shipped catalogue with its cap replaced by 7 × an LPR of 3.00% = 21%
    lpr_catalogue = _lpr_catalogue(catalogue_document, "0.0300", "7")
    assert lpr_catalogue.rate_cap.annual_rate == Decimal("0.2100")

    def offer_at_22_percent(catalogue: Catalogue) -> Offer:
        return make_offer(
            catalogue, "consumer_instalment", Money.of("50000"), 12, Method.EQUAL_INSTALMENT, START, Decimal("0.22")
        )

    # When a 22% offer is made under each catalogue
    # Then the fixed 24% cap allows it and the LPR cap refuses it
    # (the consumer loan charges interest by the day, on a 365-day year: its APR is a little under the rate)
    assert format_rate(offer_at_22_percent(shipped_catalogue).apr) == "0.2191"
    with pytest.raises(RateCapExceeded, match=r"above the cap 0\.2100"):
        offer_at_22_percent(lpr_catalogue)
    # And a priced offer at 22% (grade E in construction) is refused too
    with pytest.raises(RateCapExceeded):
        price_offer(
            lpr_catalogue,
            "business_instalment",
            Money.of("100000"),
            36,
            Method.EQUAL_INSTALMENT,
            START,
            "E",
            "construction",
        )


def test_an_lpr_cap_below_a_grades_base_rate_cannot_load(catalogue_document: dict[str, Any]) -> None:
    # Given 4 × an LPR of 3.10% = 12.40%, below grade E's 20.50% base rate
    # When the catalogue is loaded
    # Then it is refused
    with pytest.raises(CatalogueError, match="base rate is above the rate cap"):
        _lpr_catalogue(catalogue_document, "0.0310", "4")


@pytest.mark.parametrize(
    "rate_cap",
    [
        {"mode": "fixed"},
        {"mode": "fixed", "annual": "0.24", "lpr": "0.03"},
        {"mode": "lpr_multiple", "lpr": "0.03"},
        {"mode": "lpr_multiple", "lpr": "0.03", "multiple": "0"},
        {"mode": "lpr_multiple", "lpr": "0.03", "multiple": "8", "annual": "0.24"},
    ],
)
def test_an_incomplete_rate_cap_cannot_load(catalogue_document: dict[str, Any], rate_cap: dict[str, str]) -> None:
    catalogue_document["rate_cap"] = rate_cap
    with pytest.raises(CatalogueError):
        parse_catalogue(json.dumps(catalogue_document))


# Pricing


@pytest.mark.parametrize(
    ("product", "grade", "industry", "rate"),
    [
        ("business_instalment", "C", "catering", "0.1380"),  # 12.80% + 1.00%
        ("business_instalment", "A", "agriculture", "0.0620"),  # 7.20% − 1.00%
        ("credit_line", "D", "logistics", "0.1700"),  # 16.50% + 0.50%
        ("startup_plan", "B", "construction", "0.1010"),  # 9.60% + 1.50% − 1.00% start-up discount
        ("startup_plan", "A", "agriculture", "0.0520"),  # 7.20% − 1.00% − 1.00%
        ("consumer_instalment", "A", None, "0.0720"),  # not priced by industry
        ("consumer_instalment", "E", "construction", "0.2050"),  # the industry is ignored
    ],
)
def test_the_annual_rate_is_grade_base_plus_industry_adjustment_less_start_up_discount(
    shipped_catalogue: Catalogue, product: str, grade: str, industry: str | None, rate: str
) -> None:
    # Given a product, a risk grade and an industry from the shipped catalogue
    # When the annual rate is priced
    priced = price_annual_rate(shipped_catalogue, shipped_catalogue.product(product), grade, industry)
    # Then it is the grade's base rate, plus the industry adjustment where the product uses it, less the discount
    assert priced == Decimal(rate)


@PROPERTY
@given(data=st.data())
def test_pricing_adds_up_for_every_grade_and_industry(shipped_catalogue: Catalogue, data: st.DataObject) -> None:
    # Given any grade and industry
    grade = data.draw(st.sampled_from(sorted(shipped_catalogue.risk_grades)))
    industry = data.draw(st.sampled_from(sorted(shipped_catalogue.industries)))
    base = shipped_catalogue.risk_grades[grade].base_rate
    adjustment = shipped_catalogue.industries[industry].rate_adjustment
    startup = shipped_catalogue.product("startup_plan")
    assert startup.startup is not None

    # Then each product's price is made of exactly those parts
    business = price_annual_rate(shipped_catalogue, shipped_catalogue.product("business_instalment"), grade, industry)
    plan = price_annual_rate(shipped_catalogue, startup, grade, industry)
    assert business == base + adjustment
    assert plan == max(base + adjustment - startup.startup.rate_discount, Decimal(0))


def test_a_product_priced_by_industry_needs_one(shipped_catalogue: Catalogue) -> None:
    with pytest.raises(ProductRuleViolation, match="priced by industry"):
        price_annual_rate(shipped_catalogue, shipped_catalogue.product("business_instalment"), "A", None)


def test_pricing_an_unknown_grade_or_industry_is_a_catalogue_error(shipped_catalogue: Catalogue) -> None:
    product = shipped_catalogue.product("business_instalment")
    with pytest.raises(CatalogueError, match="unknown risk grade 'Z'"):
        price_annual_rate(shipped_catalogue, product, "Z", "retail")
    with pytest.raises(CatalogueError, match="unknown industry 'mining'"):
        price_annual_rate(shipped_catalogue, product, "A", "mining")


def test_a_priced_offer_takes_the_products_upfront_fee(shipped_catalogue: Catalogue) -> None:
    # Given grade C in retail (12.80% + 0) on the business loan, whose service fee is 1% upfront
    # When the offer is priced
    offer = price_offer(
        shipped_catalogue, "business_instalment", Money.of("120000"), 12, Method.EQUAL_INSTALMENT, START, "C", "retail"
    )
    # Then 1,200.00 is deducted from the payout and the APR is above the annual rate
    assert offer.annual_rate == Decimal("0.1280")
    assert offer.upfront_fee == Money.of("1200.00")
    assert offer.net_disbursement == Money.of("118800.00")
    assert offer.apr > offer.annual_rate


@pytest.mark.parametrize(
    ("product", "amount", "fee"),
    [
        ("business_instalment", "120000", "1200.00"),  # 1%
        ("business_instalment", "12345.67", "123.46"),  # 123.4567 half up
        ("startup_plan", "1001.00", "5.01"),  # 0.5% = 5.005: half up, not half even
        ("consumer_instalment", "50000", "0.00"),  # no fees
    ],
)
def test_product_fees_are_a_share_of_the_principal_rounded_half_up(
    shipped_catalogue: Catalogue, product: str, amount: str, fee: str
) -> None:
    fees = Fees.for_product(shipped_catalogue.product(product), Money.of(amount))
    assert fees.upfront == Money.of(fee)
    assert fees.per_instalment == Money.ZERO


def test_a_start_up_offer_takes_the_products_grace_months(shipped_catalogue: Catalogue) -> None:
    # Given the start-up plan (6 grace months) at an explicit rate
    # When an interest-only-grace offer is made without naming the grace period
    offer = make_offer(
        shipped_catalogue, "startup_plan", Money.of("50000"), 24, Method.INTEREST_ONLY_GRACE, START, Decimal("0.10")
    )
    # Then the first six instalments repay no principal
    assert [bool(i.principal) for i in offer.schedule.instalments[:7]] == [False] * 6 + [True]


@pytest.mark.parametrize(
    ("product", "amount", "months", "method", "message"),
    [
        ("business_instalment", "9999.99", 12, Method.EQUAL_INSTALMENT, "lends between"),
        ("business_instalment", "500000.01", 12, Method.EQUAL_INSTALMENT, "lends between"),
        ("consumer_instalment", "200000.01", 12, Method.EQUAL_INSTALMENT, "lends between"),
        ("business_instalment", "50000", 2, Method.EQUAL_INSTALMENT, "runs 3–36 months"),
        ("business_instalment", "50000", 37, Method.EQUAL_INSTALMENT, "runs 3–36 months"),
        ("startup_plan", "50000", 11, Method.INTEREST_ONLY_GRACE, "runs 12–36 months"),
        ("business_instalment", "50000", 12, Method.INTEREST_ONLY_GRACE, "does not offer interest_only_grace"),
        ("startup_plan", "50000", 12, Method.EQUAL_INSTALMENT, "does not offer equal_instalment"),
        ("credit_line", "50000", 6, Method.EQUAL_INSTALMENT, "a revolving line"),
    ],
)
def test_check_product_rules_refuses_amount_term_and_method_outside_the_product(
    shipped_catalogue: Catalogue, product: str, amount: str, months: int, method: Method, message: str
) -> None:
    # Given a request outside the product's limits or methods
    # When it is checked
    # Then it is refused, saying what the product allows
    with pytest.raises(ProductRuleViolation, match=re.escape(message)):
        check_product_rules(shipped_catalogue.product(product), Money.of(amount), months, method)


@pytest.mark.parametrize(
    ("product", "amount", "months", "method"),
    [
        ("business_instalment", "10000.00", 3, Method.EQUAL_INSTALMENT),
        ("business_instalment", "500000.00", 36, Method.EQUAL_PRINCIPAL),
        ("consumer_instalment", "1000.00", 3, Method.EQUAL_PRINCIPAL),
        ("startup_plan", "100000.00", 12, Method.INTEREST_ONLY_GRACE),
        ("credit_line", "5000.00", 1, None),
    ],
)
def test_check_product_rules_accepts_the_limits_themselves(
    shipped_catalogue: Catalogue, product: str, amount: str, months: int, method: Method | None
) -> None:
    check_product_rules(shipped_catalogue.product(product), Money.of(amount), months, method)


def test_make_offer_refuses_an_unknown_product(shipped_catalogue: Catalogue) -> None:
    with pytest.raises(CatalogueError, match="unknown product 'payday'"):
        make_offer(shipped_catalogue, "payday", Money.of("1000"), 3, Method.EQUAL_INSTALMENT, START, Decimal("0.1"))


@pytest.mark.parametrize(("rate", "penalty"), [("0.12", "0.18"), ("0.16", "0.24"), ("0.20", "0.24")])
def test_the_penalty_rate_is_the_rate_times_the_multiplier_never_above_the_cap(
    shipped_catalogue: Catalogue, rate: str, penalty: str
) -> None:
    # Given the business loan's 1.5 multiplier and the 24% cap
    product = shipped_catalogue.product("business_instalment")
    # Then 12% → 18%, 16% → 24%, and 20% → 30% capped to 24%
    assert penalty_annual_rate(product, Decimal(rate), CAP) == Decimal(penalty)
