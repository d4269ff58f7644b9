"""Risk-based pricing, offers and the rate cap.

The annual rate is the risk grade's base rate plus the industry's adjustment (for products priced by industry) less
the start-up plan's discount. An :class:`Offer` computes its own APR from its schedule and fees when it is built and
refuses to exist above the cap: there is no way to hold an offer priced over the legal ceiling.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from lending.apr import AnnualisedRate, CashFlow, annualise, annualise_monthly, irr_of_floats
from lending.catalogue import Catalogue, Method, Product
from lending.errors import ProductRuleViolation, RateCapExceeded
from lending.money import Money, Rounding
from lending.rates import DISCLOSURE_PLACES, format_rate
from lending.schedule import Schedule, build_schedule, elapsed_months

_HALF_UP = Rounding.HALF_UP.value
#: Amounts of fewer fen digits than the money context holds convert to Decimal yuan exactly.
_EXACT_FEN = 10**32


def price_annual_rate(catalogue: Catalogue, product: Product, grade: str, industry: str | None) -> Decimal:
    """The annual rate for a risk grade and industry on a product (not yet checked against the cap)."""
    rate = catalogue.risk_grade(grade).base_rate
    if product.industry_pricing:
        if industry is None:
            raise ProductRuleViolation(f"{product.code} is priced by industry: name one")
        rate += catalogue.industry(industry).rate_adjustment
    if product.startup is not None:
        rate -= product.startup.rate_discount
    return max(rate, Decimal(0))


def penalty_annual_rate(product: Product, annual_rate: Decimal, rate_cap: Decimal) -> Decimal:
    """The penalty rate on overdue amounts: the contract rate × the product's multiplier, never above the cap."""
    return min(annual_rate * product.penalty_rate_multiplier, rate_cap)


@dataclass(frozen=True, slots=True)
class Fees:
    """The fees of one loan: deducted from the payout once, and added to each instalment."""

    upfront: Money = Money.ZERO
    per_instalment: Money = Money.ZERO

    @classmethod
    def for_product(cls, product: Product, principal: Money) -> Fees:
        """The product's fees on this principal."""
        if not product.fees:
            return _NO_FEES
        upfront = per_instalment = 0
        for fee in product.fees:
            if fee.charge == "upfront":
                upfront += fee.on(principal).fen
            elif fee.charge == "per_instalment":
                per_instalment += fee.on(principal).fen
        return cls(Money(upfront), Money(per_instalment))


_NO_FEES = Fees()


def borrower_cash_flows(schedule: Schedule, upfront_fee: Money) -> list[CashFlow]:
    """What the borrower receives at disbursement (net of upfront fees) and pays on each due date."""
    flows = [CashFlow(Decimal(0), (schedule.principal - upfront_fee).to_decimal())]
    flows.extend(
        CashFlow(elapsed_months(schedule.start, i.due_date), -i.total.to_decimal()) for i in schedule.instalments
    )
    return flows


def borrower_apr(schedule: Schedule, upfront_fee: Money) -> AnnualisedRate:
    """``annualise(borrower_cash_flows(schedule, upfront_fee))``, from the fen without the Decimal flows.

    The float of an exact two-place amount is the correctly rounded ``fen / 100``, which Python's integer division
    also gives, so the IRR search sees the very same floats and finds the very same root.
    """
    start = schedule.start
    received = schedule.principal.fen - upfront_fee.fen
    if not -_EXACT_FEN < received < _EXACT_FEN:  # beyond the money context's digits: the Decimal flows say what
        return annualise(borrower_cash_flows(schedule, upfront_fee))  # goes wrong, in the order they find it
    amounts = [received / 100]
    times = [0.0]
    # Due dates on start's day (clamped to the month's end) some whole number of months on are that many months
    # from the start exactly (as elapsed_months finds); only a broken period needs the calendar.
    day, first = start.day, start.year * 12 + start.month
    for instalment in schedule.instalments:
        due = instalment.due_date
        if due.day == day and due > start:
            times.append(float(due.year * 12 + due.month - first))
        else:
            times.append(float(elapsed_months(start, due)))
        paid = instalment.principal.fen + instalment.interest.fen + instalment.fee.fen
        if not -_EXACT_FEN < paid < _EXACT_FEN:
            return annualise(borrower_cash_flows(schedule, upfront_fee))
        amounts.append(-(paid / 100))
    if all(amount >= 0 for amount in amounts) or all(amount <= 0 for amount in amounts):
        raise ValueError("an IRR needs money in both directions")
    return annualise_monthly(irr_of_floats(amounts, times))


@dataclass(frozen=True, slots=True)
class Offer:
    """A priced loan offer. Building one computes its APR and refuses it when it is above ``rate_cap``."""

    product: str
    schedule: Schedule
    upfront_fee: Money
    rate_cap: Decimal
    annualised: AnnualisedRate = field(init=False)

    def __post_init__(self) -> None:
        if self.upfront_fee.is_negative or self.upfront_fee >= self.schedule.principal:
            raise ProductRuleViolation("the upfront fee must be at least zero and less than the amount")
        if self.schedule.annual_rate > self.rate_cap:
            raise RateCapExceeded(
                f"annual rate {format_rate(self.schedule.annual_rate)} is above the cap {format_rate(self.rate_cap)}"
            )
        annualised = borrower_apr(self.schedule, self.upfront_fee)
        # The disclosed APR is four places, half up; it is what the cap is compared with.
        if annualised.apr.quantize(DISCLOSURE_PLACES, rounding=_HALF_UP) > self.rate_cap:
            raise RateCapExceeded(
                f"APR {format_rate(annualised.apr)} (fees included) is above the cap {format_rate(self.rate_cap)}"
            )
        object.__setattr__(self, "annualised", annualised)

    @property
    def amount(self) -> Money:
        return self.schedule.principal

    @property
    def annual_rate(self) -> Decimal:
        return self.schedule.annual_rate

    @property
    def apr(self) -> Decimal:
        return self.annualised.apr

    @property
    def effective_annual_rate(self) -> Decimal:
        return self.annualised.effective_annual_rate

    @property
    def term_months(self) -> int:
        return len(self.schedule.instalments)

    @property
    def net_disbursement(self) -> Money:
        """What reaches the borrower's account: the amount less upfront fees."""
        return self.amount - self.upfront_fee


def check_product_rules(product: Product, amount: Money, months: int, method: Method | None) -> None:
    """Refuse an amount, term or method outside the product's rules, saying which and why."""
    if not product.min_amount <= amount <= product.max_amount:
        raise ProductRuleViolation(
            f"{product.code} lends between {product.min_amount} and {product.max_amount}, not {amount}"
        )
    if not product.min_term_months <= months <= product.max_term_months:
        raise ProductRuleViolation(
            f"{product.code} runs {product.min_term_months}–{product.max_term_months} months, not {months}"
        )
    if method is not None and method not in product.methods:
        allowed = ", ".join(product.methods) or "none (a revolving line)"
        raise ProductRuleViolation(f"{product.code} does not offer {method}; it offers {allowed}")


def make_offer(
    catalogue: Catalogue,
    product_code: str,
    amount: Money,
    months: int,
    method: Method,
    start: date,
    annual_rate: Decimal,
    *,
    fees: Fees | None = None,
    repayment_day: int | None = None,
    grace_months: int | None = None,
) -> Offer:
    """Build an instalment offer within the product's rules and the cap; fees default to the product's own."""
    product = catalogue.product(product_code)
    check_product_rules(product, amount, months, method)
    fees = Fees.for_product(product, amount) if fees is None else fees
    if method is Method.INTEREST_ONLY_GRACE:
        assert product.startup is not None  # the catalogue ties grace to the start-up plan
        grace = product.startup.grace_months if grace_months is None else grace_months
    else:
        grace = grace_months or 0
    schedule = build_schedule(
        amount,
        annual_rate,
        months,
        method,
        start,
        grace_months=grace,
        repayment_day=repayment_day,
        day_count_basis=product.day_count_basis,
        per_instalment_fee=fees.per_instalment,
        interest_method=product.interest_method,
    )
    return Offer(product.code, schedule, fees.upfront, catalogue.rate_cap.annual_rate)


def price_offer(
    catalogue: Catalogue,
    product_code: str,
    amount: Money,
    months: int,
    method: Method,
    start: date,
    grade: str,
    industry: str | None,
    *,
    repayment_day: int | None = None,
) -> Offer:
    """An offer priced from the catalogue by risk grade and industry, with the product's fees."""
    product = catalogue.product(product_code)
    rate = price_annual_rate(catalogue, product, grade, industry)
    return make_offer(catalogue, product_code, amount, months, method, start, rate, repayment_day=repayment_day)
