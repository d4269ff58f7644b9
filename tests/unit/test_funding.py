"""Funding sources as validated data, and the choice of who funds a loan: exact shares, the partner minimum, quotas."""

from __future__ import annotations

import json
from decimal import Decimal
from importlib import resources
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lending.errors import InvalidAmount
from lending.funding import (
    MIN_PARTNER_SHARE,
    OWN_CAPITAL,
    FundingSources,
    FundingSourcesError,
    NoFundingAvailable,
    OwnCapital,
    PartnerLine,
    allocate_funding,
    load_funding_sources,
    parse_funding_sources,
)
from lending.money import Money

BANK_A = "partner:bank_a"
BANK_B = "partner:bank_b"


@pytest.fixture
def document() -> dict[str, Any]:
    """A fresh, mutable copy of the shipped funding sources."""
    loaded: dict[str, Any] = json.loads(resources.files("lending").joinpath("data/funding.json").read_text())
    return loaded


def sources(own: str, *partners: tuple[str, str, str]) -> FundingSources:
    """Sources from (id, quota, share) triples, in the order given."""
    return FundingSources(
        version="test",
        currency="CNY",
        own_capital=OwnCapital(name="own", quota=Money.of(own)),
        partners=tuple(
            PartnerLine(id=pid, name=pid, quota=Money.of(quota), share=Decimal(share)) for pid, quota, share in partners
        ),
    )


SHIPPED_LIKE = sources("50000000.00", (BANK_A, "30000000.00", "0.70"), (BANK_B, "20000000.00", "0.80"))


# The data


def test_the_shipped_sources_load_with_their_quotas_and_shares() -> None:
    shipped = load_funding_sources()
    assert shipped.quotas() == {
        OWN_CAPITAL: Money.of("50000000.00"),
        BANK_A: Money.of("30000000.00"),
        BANK_B: Money.of("20000000.00"),
    }
    assert [partner.share for partner in shipped.partners] == [Decimal("0.70"), Decimal("0.80")]
    assert shipped.model_dump(mode="json")["partners"][0]["share"] == "0.70"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["partners"][0].update(share="0.29"),
            r"partners\.0\.share\s+Input should be greater than or equal",
        ),
        (lambda d: d["partners"][0].update(share="1.01"), "less than or equal to 1"),
        (lambda d: d["partners"][0].update(share=0.7), "decimal string"),
        (lambda d: d["partners"][1].update(id=BANK_A), "unique"),
        (lambda d: d["partners"][1].update(id="bank_b"), "pattern"),
        (lambda d: d["own_capital"].update(quota="0.00"), "must be positive"),
        (lambda d: d["own_capital"].update(quota=50000000.0), "own_capital"),
        (lambda d: d["own_capital"].update(id="partner:own"), "own_capital"),
        (lambda d: d.update(currency="USD"), "currency"),
        (lambda d: d["partners"][0].update(rate="0.1"), "Extra inputs"),
    ],
)
def test_malformed_sources_cannot_load(document: dict[str, Any], change: Any, message: str) -> None:
    change(document)
    with pytest.raises(FundingSourcesError, match=message) as refused:
        parse_funding_sources(json.dumps(document))
    assert refused.value.code == "funding_sources_error"


def test_a_document_that_is_not_json_cannot_load() -> None:
    with pytest.raises(FundingSourcesError):
        parse_funding_sources("{")


# Allocation, by example


def test_the_first_partner_with_quota_takes_its_share_and_own_capital_the_rest() -> None:
    assert allocate_funding(Money.of("100000.00"), SHIPPED_LIKE, {}) == {
        BANK_A: Money.of("70000.00"),
        OWN_CAPITAL: Money.of("30000.00"),
    }


def test_a_partner_without_quota_left_for_its_share_is_passed_over() -> None:
    used = {BANK_A: Money.of("29930000.01")}  # 69,999.99 left, 70,000.00 needed
    assert allocate_funding(Money.of("100000.00"), SHIPPED_LIKE, used) == {
        BANK_B: Money.of("80000.00"),
        OWN_CAPITAL: Money.of("20000.00"),
    }


def test_own_capital_short_of_the_rest_picks_the_partner_taking_more() -> None:
    used = {OWN_CAPITAL: Money.of("49975000.00")}  # 25,000.00 left: bank A leaves 30,000.00, bank B 20,000.00
    assert allocate_funding(Money.of("100000.00"), SHIPPED_LIKE, used) == {
        BANK_B: Money.of("80000.00"),
        OWN_CAPITAL: Money.of("20000.00"),
    }


def test_own_capital_funds_it_all_when_no_partner_can_take_part() -> None:
    used = {BANK_A: Money.of("30000000.00"), BANK_B: Money.of("19999999.99")}
    assert allocate_funding(Money.of("100000.00"), SHIPPED_LIKE, used) == {OWN_CAPITAL: Money.of("100000.00")}


def test_no_source_left_is_a_typed_error() -> None:
    used = {OWN_CAPITAL: Money.of("49990000.00"), BANK_A: Money.of("30000000.00"), BANK_B: Money.of("20000000.00")}
    with pytest.raises(NoFundingAvailable) as refused:
        allocate_funding(Money.of("10000.01"), SHIPPED_LIKE, used)
    assert refused.value.code == "no_funding_available"
    assert allocate_funding(Money.of("10000.00"), SHIPPED_LIKE, used) == {OWN_CAPITAL: Money.of("10000.00")}


def test_the_partner_share_rounds_down_to_the_fen_and_own_capital_takes_the_remainder() -> None:
    assert allocate_funding(Money.of("100.01"), SHIPPED_LIKE, {}) == {
        BANK_A: Money.of("70.00"),
        OWN_CAPITAL: Money.of("30.01"),
    }


def test_rounding_down_never_takes_a_partner_below_the_minimum_share() -> None:
    at_the_minimum = sources("1000.00", (BANK_A, "1000.00", "0.30"))
    # 30% of 1.01 is 0.303: rounded down (0.30) it would be below the minimum, so the partner takes 0.31
    assert allocate_funding(Money.of("1.01"), at_the_minimum, {}) == {
        BANK_A: Money.of("0.31"),
        OWN_CAPITAL: Money.of("0.70"),
    }


def test_a_partner_funding_everything_leaves_own_capital_out() -> None:
    whole = sources("1.00", (BANK_A, "1000.00", "1"))
    assert allocate_funding(Money.of("500.00"), whole, {}) == {BANK_A: Money.of("500.00")}


@pytest.mark.parametrize("amount", [Money.ZERO, Money.of("-1.00")])
def test_only_a_positive_amount_can_be_funded(amount: Money) -> None:
    with pytest.raises(InvalidAmount):
        allocate_funding(amount, SHIPPED_LIKE, {})


# Allocation, as properties

_FEN = st.integers(min_value=1, max_value=10**9)
_SHARES = st.decimals(min_value=MIN_PARTNER_SHARE, max_value=Decimal(1), places=4)


@st.composite
def _situations(draw: st.DrawFn) -> tuple[Money, FundingSources, dict[str, Money]]:
    partner_count = draw(st.integers(0, 3))
    funding = FundingSources(
        version="property",
        currency="CNY",
        own_capital=OwnCapital(name="own", quota=Money(draw(_FEN))),
        partners=tuple(
            PartnerLine(id=f"partner:bank_{n}", name=f"bank {n}", quota=Money(draw(_FEN)), share=draw(_SHARES))
            for n in range(partner_count)
        ),
    )
    used = {
        source: Money(draw(st.integers(0, quota.fen)))
        for source, quota in funding.quotas().items()
        if draw(st.booleans())
    }
    amount = Money(draw(st.one_of(st.integers(1, 200), _FEN)))
    return amount, funding, used


@given(_situations())
def test_shares_sum_exactly_stay_within_quotas_and_give_a_partner_at_least_its_minimum(
    situation: tuple[Money, FundingSources, dict[str, Money]],
) -> None:
    amount, funding, used = situation
    left = {source: quota - used.get(source, Money.ZERO) for source, quota in funding.quotas().items()}
    try:
        shares = allocate_funding(amount, funding, used)
    except NoFundingAvailable:
        assert amount > left[OWN_CAPITAL]  # own capital alone would have done
        return

    # Exact: the shares are positive and add up to the amount, to the fen
    assert sum(share.fen for share in shares.values()) == amount.fen
    assert all(share.is_positive for share in shares.values())
    # Never above a quota
    assert all(share <= left[source] for source, share in shares.items())
    # At most one partner, and its share is at least the minimum of the amount
    partners = [source for source in shares if source != OWN_CAPITAL]
    assert len(partners) <= 1
    for partner in partners:
        assert Decimal(shares[partner].fen) >= MIN_PARTNER_SHARE * amount.fen
    # Deterministic
    assert allocate_funding(amount, funding, used) == shares


def portion_fen(amount_fen: int, share: Decimal) -> int:
    """An independent oracle of a partner's part: share x amount rounded down, but at least 30% rounded up."""
    rounded_down = int(Decimal(amount_fen) * share // 1)
    minimum = -(-3 * amount_fen // 10)
    return max(rounded_down, minimum)


@given(_situations())
def test_partners_come_first_in_their_order_and_own_capital_funds_alone_only_when_none_can(
    situation: tuple[Money, FundingSources, dict[str, Money]],
) -> None:
    amount, funding, used = situation
    own_left = funding.own_capital.quota - used.get(OWN_CAPITAL, Money.ZERO)
    fitting = [
        (partner.id, portion_fen(amount.fen, partner.share))
        for partner in funding.partners
        if portion_fen(amount.fen, partner.share) <= (partner.quota - used.get(partner.id, Money.ZERO)).fen
        and amount.fen - portion_fen(amount.fen, partner.share) <= own_left.fen
    ]
    try:
        shares = allocate_funding(amount, funding, used)
    except NoFundingAvailable:
        assert not fitting
        return
    if not fitting:
        assert shares == {OWN_CAPITAL: amount}
        return
    chosen, part = fitting[0]
    assert shares[chosen] == Money(part)
    assert shares.get(OWN_CAPITAL, Money.ZERO) == amount - Money(part)


def test_a_sources_use_is_what_it_lent_and_what_it_holds_for_a_payout() -> None:
    # Given a ledger in which a partner funded one loan and holds the share of another, pending its payout
    from datetime import date

    from lending.bookkeeping import funding_in_use, funding_reservation
    from lending.ledger import Ledger
    from lending.money import Money

    ledger = Ledger()
    lent = funding_reservation("fund-1", "loan-1", {"partner:bank_a": Money.of("30000.00")}, date(2026, 1, 5))
    ledger.reserve(lent)
    ledger.post_pending("fund-1", "fund-1/post")
    held = {"partner:bank_a": Money.of("12000.00"), "own_capital": Money.of("8000.00")}
    ledger.reserve(funding_reservation("fund-2", "loan-2", held, date(2026, 1, 6)))
    # When the use of each source is asked for, with one that funded nothing
    used = funding_in_use(ledger, ["partner:bank_a", "own_capital", "partner:bank_b"])
    # Then it is the posted and the pending together, as positive amounts
    assert used == {
        "partner:bank_a": Money.of("42000.00"),
        "own_capital": Money.of("8000.00"),
        "partner:bank_b": Money.of("0.00"),
    }
