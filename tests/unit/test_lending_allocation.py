"""Repayment allocation: down the waterfall, then principal not yet due, then credit; not a fen unaccounted for."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lending.allocation import Allocation, allocate
from lending.catalogue import DEFAULT_WATERFALL, Component
from lending.errors import InvalidAmount
from lending.money import Money, total

#: Amounts from nothing to a million yuan, zero more often than chance would give it.
AMOUNTS = st.one_of(st.just(0), st.integers(min_value=0, max_value=100_000_000)).map(Money)
DUES = st.dictionaries(st.sampled_from(list(Component)), AMOUNTS)
WATERFALLS = st.permutations(list(Component))


def _check_waterfall(
    allocation: Allocation, dues: dict[Component, Money], principal_not_due: Money, waterfall: list[Component]
) -> None:
    applied = dict(allocation.applied)
    # every fen in exactly one place
    assert total(applied.values()) + allocation.prepaid_principal + allocation.credit == allocation.payment
    # nothing negative, nothing more than was due, no empty entries
    assert all(part.is_positive for part in applied.values())
    assert all(applied[c] <= dues.get(c, Money.ZERO) for c in applied)
    assert Money.ZERO <= allocation.prepaid_principal <= principal_not_due
    assert not allocation.credit.is_negative
    # order: once a component is short, nothing later in the waterfall gets anything
    short = False
    for component in waterfall:
        paid = applied.get(component, Money.ZERO)
        if short:
            assert not paid
        elif paid < dues.get(component, Money.ZERO):
            short = True
    everything_due_paid = not short
    # principal not yet due only once every due component is paid; credit only once that principal is paid too
    if allocation.prepaid_principal:
        assert everything_due_paid
    if allocation.credit:
        assert everything_due_paid
        assert allocation.prepaid_principal == principal_not_due
    # and what a component got can be read back
    for component in Component:
        assert allocation.to(component) == applied.get(component, Money.ZERO)


@settings(max_examples=200)
@given(payment=AMOUNTS, dues=DUES, principal_not_due=AMOUNTS)
def test_any_payment_over_any_dues_is_conserved_and_follows_the_default_waterfall(
    payment: Money, dues: dict[Component, Money], principal_not_due: Money
) -> None:
    # Given any payment, any amounts due by component and any principal not yet due
    # When the payment is allocated down the default waterfall
    allocation = allocate(payment, dues, principal_not_due)
    # Then applied + prepaid + credit is the payment exactly, nothing is over-applied, and the order holds
    _check_waterfall(allocation, dues, principal_not_due, list(DEFAULT_WATERFALL))


@settings(max_examples=200)
@given(payment=AMOUNTS, dues=DUES, principal_not_due=AMOUNTS, waterfall=WATERFALLS)
def test_any_payment_follows_any_custom_waterfall(
    payment: Money, dues: dict[Component, Money], principal_not_due: Money, waterfall: list[Component]
) -> None:
    # Given any payment and dues, and a product that orders the components its own way
    # When the payment is allocated down that waterfall
    allocation = allocate(payment, dues, principal_not_due, waterfall)
    # Then the same conservation and order rules hold for that order
    _check_waterfall(allocation, dues, principal_not_due, waterfall)


def test_the_default_waterfall_pays_penalty_then_overdue_interest_then_overdue_principal_then_current() -> None:
    # Given 10.00 penalty, 20.00 overdue interest, 300.00 overdue principal, 15.00 current interest and
    # 500.00 current principal
    dues = {
        Component.CURRENT_PRINCIPAL: Money.of("500"),
        Component.CURRENT_INTEREST: Money.of("15"),
        Component.OVERDUE_PRINCIPAL: Money.of("300"),
        Component.OVERDUE_INTEREST: Money.of("20"),
        Component.OVERDUE_PENALTY: Money.of("10"),
    }
    # When 340.00 is paid
    allocation = allocate(Money.of("340"), dues, Money.of("1000"))
    # Then penalty, overdue interest and overdue principal are paid in full and 10.00 goes to current interest
    assert allocation.applied == (
        (Component.OVERDUE_PENALTY, Money.of("10")),
        (Component.OVERDUE_INTEREST, Money.of("20")),
        (Component.OVERDUE_PRINCIPAL, Money.of("300")),
        (Component.CURRENT_INTEREST, Money.of("10")),
    )
    assert allocation.prepaid_principal == Money.ZERO
    assert allocation.credit == Money.ZERO


def test_a_custom_waterfall_can_pay_current_interest_before_the_penalty() -> None:
    # Given a waterfall that puts current interest first and the penalty last
    waterfall = [
        Component.CURRENT_INTEREST,
        Component.OVERDUE_INTEREST,
        Component.OVERDUE_PRINCIPAL,
        Component.CURRENT_PRINCIPAL,
        Component.OVERDUE_FEE,
        Component.CURRENT_FEE,
        Component.OVERDUE_PENALTY,
    ]
    dues = {Component.OVERDUE_PENALTY: Money.of("10"), Component.CURRENT_INTEREST: Money.of("15")}
    # When 20.00 is paid
    allocation = allocate(Money.of("20"), dues, Money.ZERO, waterfall)
    # Then current interest is paid first, in full, and the penalty gets the rest
    assert allocation.applied == (
        (Component.CURRENT_INTEREST, Money.of("15")),
        (Component.OVERDUE_PENALTY, Money.of("5")),
    )


def test_what_is_left_prepays_principal_then_becomes_credit() -> None:
    # Given 100.00 due and 1,000.00 of principal not yet due
    dues = {Component.CURRENT_INTEREST: Money.of("100")}
    # When 1,250.00 is paid
    allocation = allocate(Money.of("1250"), dues, Money.of("1000"))
    # Then 100.00 pays the interest, 1,000.00 prepays the principal and 150.00 is the borrower's credit
    assert allocation.to(Component.CURRENT_INTEREST) == Money.of("100")
    assert allocation.prepaid_principal == Money.of("1000")
    assert allocation.credit == Money.of("150")


def test_a_payment_of_nothing_allocates_nothing() -> None:
    allocation = allocate(Money.ZERO, {Component.CURRENT_INTEREST: Money.of("1")}, Money.of("1"))
    assert allocation.applied == ()
    assert allocation.prepaid_principal == allocation.credit == Money.ZERO


@pytest.mark.parametrize(
    ("payment", "dues", "not_due"),
    [
        ("-0.01", {}, "0"),
        ("1", {Component.CURRENT_INTEREST: Money.of("-0.01")}, "0"),
        ("1", {}, "-0.01"),
    ],
    ids=["negative-payment", "negative-due", "negative-principal-not-due"],
)
def test_negative_amounts_are_refused(payment: str, dues: dict[Component, Money], not_due: str) -> None:
    with pytest.raises(InvalidAmount):
        allocate(Money.of(payment), dues, Money.of(not_due))


def test_an_allocation_that_loses_a_fen_cannot_be_built() -> None:
    # Given an allocation whose parts do not add up to the payment
    # When it is built
    # Then it refuses to exist
    with pytest.raises(AssertionError, match="lost 1 fen"):
        Allocation(Money.of("1.00"), ((Component.CURRENT_INTEREST, Money.of("0.99")),), Money.ZERO, Money.ZERO)
