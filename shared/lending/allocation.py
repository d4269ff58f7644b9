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
        accounted = sum([amount.fen for _, amount in self.applied]) + self.prepaid_principal.fen + self.credit.fen
        if accounted != self.payment.fen:
            raise AssertionError(f"allocation lost {self.payment.fen - accounted} fen of {self.payment}")

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
    if payment.fen < 0:
        raise InvalidAmount("a payment cannot be negative")
    if principal_not_due.fen < 0 or any(amount.fen < 0 for amount in dues.values()):
        raise InvalidAmount("amounts due cannot be negative")
    left = payment.fen  # integer fen in the loop: this runs on every repayment
    applied: list[tuple[Component, Money]] = []
    for component in waterfall:
        due = dues.get(component)
        if due is None or not due.fen or not left:
            continue
        part = min(left, due.fen)
        applied.append((component, Money(part)))
        left -= part
    prepaid = min(left, principal_not_due.fen)
    return Allocation(payment, tuple(applied), Money(prepaid), Money(left - prepaid))
