"""Repayment allocation: a payment runs down the product's waterfall, then prepays principal, then is credit.

Every fen of a payment ends in exactly one place: a waterfall component, principal not yet due, or the borrower's
credit balance. :class:`Allocation` checks that sum when it is built.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from lending.catalogue import DEFAULT_WATERFALL, Component
from lending.errors import InvalidAmount
from lending.money import Money, total


@dataclass(frozen=True, slots=True)
class Allocation:
    """Where one payment went."""

    payment: Money
    applied: tuple[tuple[Component, Money], ...]
    prepaid_principal: Money
    credit: Money

    def __post_init__(self) -> None:
        accounted = total(amount for _, amount in self.applied) + self.prepaid_principal + self.credit
        if accounted != self.payment:
            raise AssertionError(f"allocation lost {self.payment - accounted} of {self.payment}")

    def to(self, component: Component) -> Money:
        """The part of the payment applied to one component."""
        return total(amount for c, amount in self.applied if c is component)


def allocate(
    payment: Money,
    dues: Mapping[Component, Money],
    principal_not_due: Money,
    waterfall: Sequence[Component] = DEFAULT_WATERFALL,
) -> Allocation:
    """Apply ``payment`` to ``dues`` in waterfall order; the rest prepays principal, then becomes credit."""
    if payment.is_negative:
        raise InvalidAmount("a payment cannot be negative")
    if principal_not_due.is_negative or any(amount.is_negative for amount in dues.values()):
        raise InvalidAmount("amounts due cannot be negative")
    left = payment
    applied: list[tuple[Component, Money]] = []
    for component in waterfall:
        part = min(left, dues.get(component, Money.ZERO))
        if part:
            applied.append((component, part))
            left -= part
    prepaid = min(left, principal_not_due)
    return Allocation(payment, tuple(applied), prepaid, left - prepaid)
