"""The contract a borrower accepts: one canonical document per offer, amount, term and day, and its hash."""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lending.catalogue import load_catalogue
from lending.contract import EN, ZH, FundingPartner, canonical_bytes, chosen_terms, digest, render
from lending.errors import ProductRuleViolation
from lending.money import Money

CATALOGUE = load_catalogue()
PARTNERS = [FundingPartner("Partner bank A", Decimal("0.70"))]


def _application(product: str = "business_instalment", limit: str = "120000.00", months: int = 12) -> dict[str, Any]:
    kind = CATALOGUE.product(product).kind
    return {
        "application_id": "app-1",
        "borrower_id": "borrower-sub",
        "consent": {"data_processing": True, "credit_report": True},
        "offer": {
            "product": product,
            "limit": limit,
            "annual_rate": "0.1200",
            "term_months": months,
            "method": None if kind == "revolving" else "equal_instalment",
        },
    }


def _render(application: dict[str, Any], amount: str = "120000.00", months: int = 12, day: int = 6) -> Any:
    return render(
        application,
        CATALOGUE,
        amount=Money.of(amount),
        term_months=months,
        issued_on=date(2024, 3, day),
        expires_at="2024-03-13T04:00:00.000000Z",
        partners=PARTNERS,
    )


def test_the_hash_is_the_sha256_of_the_canonical_document_and_the_same_inputs_give_the_same_hash() -> None:
    contract = _render(_application())
    assert contract.sha256 == hashlib.sha256(canonical_bytes(contract.document)).hexdigest()
    assert _render(_application()).sha256 == contract.sha256
    assert contract.contract_id == "ctr_" + contract.sha256[:24]
    # Keys sorted, no whitespace, Chinese as UTF-8 rather than escaped
    assert canonical_bytes({"b": 1, "a": "年"}) == '{"a":"年","b":1}'.encode()


def test_any_change_of_amount_term_day_or_text_changes_the_hash() -> None:
    base = _render(_application())
    others = {
        _render(_application(), amount="100000.00").sha256,
        _render(_application(), months=6).sha256,
        _render(_application(), day=7).sha256,
        base.sha256,
    }
    assert len(others) == 4
    tampered = {**base.document, "text": {**base.document["text"], EN: base.document["text"][EN] + " "}}
    assert digest(tampered) != base.sha256


def test_both_texts_state_the_apr_and_the_total_cost_of_credit_first() -> None:
    contract = _render(_application())
    english, chinese = contract.text(EN).splitlines(), contract.text(ZH).splitlines()
    apr = f"{float(contract.document['apr']) * 100:.2f}%"
    assert english[0] == f"APR (annualised, IRR-based): {apr}"
    assert english[1].startswith(f"Total cost of credit: CNY {contract.document['total_cost_of_credit']}")
    assert chinese[0].startswith("年化利率")
    assert chinese[0].endswith(apr)
    assert chinese[1].startswith(f"借款总成本：{contract.document['total_cost_of_credit']}")
    assert contract.text("fr") == contract.text(ZH)  # the default language is Chinese
    # The partners, the penalty and the early-repayment rule are stated in both
    assert "Partner bank A" in contract.text(EN)
    assert "Partner bank A" in contract.text(ZH)
    assert "Late payment" in contract.text(EN)
    assert "逾期罚息" in contract.text(ZH)


def test_the_figures_are_those_of_the_offer_at_the_amount_and_term_taken() -> None:
    document = _render(_application(), amount="60000.00", months=6).document
    schedule = document["schedule"]
    assert len(schedule) == 6
    assert sum(Money.of(r["principal"]).fen for r in schedule) == Money.of("60000.00").fen
    assert Money.of(document["total_repayable"]) == Money(sum(Money.of(r["total"]).fen for r in schedule))
    interest, fees = Money.of(document["total_interest"]), Money.of(document["total_fees"])
    assert Money.of(document["total_cost_of_credit"]) == interest + fees
    assert Money.of(document["net_disbursement"]) == Money.of("60000.00") - Money.of(document["upfront_fee"])
    assert schedule[0]["due_date"] == "2024-04-06"


def test_a_line_agreement_discloses_a_years_full_use_as_its_example_cost() -> None:
    document = _render(_application("credit_line", "80000.00"), amount="80000.00").document
    assert document["schedule"] == []
    basis = CATALOGUE.product("credit_line").day_count_basis
    expected = (Money.of("80000.00").to_decimal() * Decimal("0.12") * 365 / basis).quantize(Decimal("0.01"))
    assert Money.of(document["total_cost_of_credit"]) == Money.of(expected)
    assert document["apr"] == "0.1200"


@given(st.integers(min_value=1_000_000, max_value=12_000_000), st.integers(min_value=3, max_value=12))
def test_less_of_the_offer_is_taken_as_asked_and_more_is_refused(fen: int, months: int) -> None:
    offer, product = _application()["offer"], CATALOGUE.product("business_instalment")
    amount = Money(fen)
    if months >= product.min_term_months and amount >= product.min_amount:
        assert chosen_terms(offer, product, amount, months) == (amount, months)
    with pytest.raises(ProductRuleViolation):
        chosen_terms(offer, product, Money(12_000_001), months)
    with pytest.raises(ProductRuleViolation):
        chosen_terms(offer, product, amount, 13)


def test_the_offer_as_it_stands_is_taken_when_nothing_is_asked_and_a_line_keeps_its_term() -> None:
    offer = _application()["offer"]
    assert chosen_terms(offer, CATALOGUE.product("business_instalment"), None, None) == (Money.of("120000.00"), 12)
    line = _application("credit_line", "80000.00")["offer"]
    with pytest.raises(ProductRuleViolation):
        chosen_terms(line, CATALOGUE.product("credit_line"), None, 6)
