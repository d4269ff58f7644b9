"""Affordability: the payment a loan asks of the business, and the largest limit its cash flow services."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from lending.catalogue import Method, Product
from lending.money import CONTEXT, Money
from lending.pricing import Fees
from lending.rates import format_rate, monthly_rate
from lending.risk.cash_flow import debt_service_coverage
from lending.schedule import Instalment, annuity_instalment, largest_payment


@dataclass(frozen=True, slots=True)
class Affordability:
    """What the cash flow can carry: coverage at the amount sought and the largest limit it services."""

    average_monthly_net_flow: Money
    min_dscr: Decimal
    amount_sought: Money  # the request, capped at the product maximum
    instalment_at_amount_sought: Money
    dscr_at_amount_sought: Decimal
    # The largest step whose payment keeps coverage at the floor, up to the product maximum; searched for only when
    # the amount sought is not covered, because the search builds several schedules and is otherwise moot.
    cash_flow_limit: Money | None
    instalment_at_limit: Money | None = None
    dscr_at_limit: Decimal | None = None

    def to_json_dict(self) -> dict[str, object]:
        """The figures as JSON-ready values: money two places, ratios four."""
        return {
            "average_monthly_net_flow": str(self.average_monthly_net_flow),
            "min_dscr": format_rate(self.min_dscr),
            "amount_sought": str(self.amount_sought),
            "instalment_at_amount_sought": str(self.instalment_at_amount_sought),
            "dscr_at_amount_sought": format_rate(self.dscr_at_amount_sought),
            "cash_flow_limit": None if self.cash_flow_limit is None else str(self.cash_flow_limit),
            "instalment_at_limit": None if self.instalment_at_limit is None else str(self.instalment_at_limit),
            "dscr_at_limit": None if self.dscr_at_limit is None else format_rate(self.dscr_at_limit),
        }


def debt_service(
    product: Product, principal: Money, annual_rate: Decimal, months: int, method: Method | None, start: date
) -> Money:
    """The largest monthly payment a loan of ``principal`` asks for, fees included: what the cash flow must cover."""
    # A line has no schedule: it counts as fully drawn and repaid in equal instalments over its term, the most it
    # could ask of the business. An instalment loan's largest payment is the first of equal principal, or the first
    # after the start-up plan's grace, so coverage holds in its hardest month, not on average.
    if product.kind == "revolving" or method is None:
        return annuity_instalment(principal, monthly_rate(annual_rate), months)
    grace = product.startup.grace_months if method is Method.INTEREST_ONLY_GRACE and product.startup else 0
    return largest_payment(
        principal,
        annual_rate,
        months,
        method,
        start,
        grace_months=grace,
        day_count_basis=product.day_count_basis,
        per_instalment_fee=Fees.for_product(product, principal).per_instalment,
        interest_method=product.interest_method,
    )


def cash_flow_limit(
    net_flow: Money,
    min_dscr: Decimal,
    product: Product,
    annual_rate: Decimal,
    months: int,
    method: Method | None,
    start: date,
    step: Money,
) -> Money:
    """The largest multiple of ``step``, up to the product maximum, whose payment keeps coverage ≥ ``min_dscr``."""
    if not net_flow.is_positive:
        return Money.ZERO

    def payment(steps: int) -> Money:
        return debt_service(product, Money(steps * step.fen), annual_rate, months, method, start)

    def serviceable(steps: int) -> bool:
        return steps == 0 or debt_service_coverage(net_flow, payment(steps)) >= min_dscr

    most = product.max_amount.fen // step.fen
    if most == 0:
        return Money.ZERO
    top = payment(most)
    if debt_service_coverage(net_flow, top) >= min_dscr:
        return Money(most * step.fen)
    # Invariant: ``low`` steps are serviceable, ``high`` steps are not. The payment is nearly proportional to the
    # principal, so the proportional guess lands within a step or two of the answer; galloping from it brackets
    # the answer in a few schedules where a blind bisection would build a dozen.
    low, high = 0, most
    affordable = CONTEXT.divide(net_flow.to_decimal(), min_dscr)
    guess = int(CONTEXT.divide(CONTEXT.multiply(affordable, Decimal(most)), top.to_decimal()))
    guess = min(max(guess, 1), most - 1)
    stride = 1
    if serviceable(guess):
        low = guess
        while low + stride < high:
            if not serviceable(low + stride):
                high = low + stride
                break
            low += stride
            stride *= 2
    else:
        high = guess
        while high - stride > low:
            if serviceable(high - stride):
                low = high - stride
                break
            high -= stride
            stride *= 2
    while high - low > 1:
        middle = (low + high) // 2
        if serviceable(middle):
            low = middle
        else:
            high = middle
    return Money(low * step.fen)


def largest_instalment(instalments: Sequence[Instalment]) -> Money:
    """The largest instalment total (principal, interest and fee) of a schedule, summed in fen."""
    return Money(max([i.principal.fen + i.interest.fen + i.fee.fen for i in instalments]))
