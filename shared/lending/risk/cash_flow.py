"""Operating cash flow from a bank statement: whole calendar months, money in and out, and its coverage of a payment.

Figures come from whole calendar months only, the last ``window_months`` of the statement: a partial month at
either end would understate that month and fake a drop or a rise. Inflows and outflows are operating flows:
transactions whose category the policy names as non-operating (loan proceeds, transfers between the owner's own
accounts, capital paid in) are left out, because borrowed or moved money is not revenue and must not make a
business look able to repay.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from lending.calendar import add_months
from lending.errors import AssessmentInputError
from lending.money import CONTEXT, Money, Rounding, total
from lending.risk.policy import BusinessAssessmentPolicy
from lending.risk.statistics import FIGURE_PLACES, figure, least_squares_slope, mean, population_std

_FLOOR = Rounding.FLOOR.value
_DAY = timedelta(days=1)


def debt_service_coverage(net_flow: Money, instalment: Money) -> Decimal:
    """Net operating cash flow per month / instalment, rounded down to four places so coverage is never overstated."""
    if not instalment.is_positive:
        raise AssessmentInputError("the instalment to cover must be positive")
    # The ratio of the fen is the ratio of the yuan, rounded to the context's digits alike; quantising fixes its form.
    ratio = CONTEXT.divide(Decimal(net_flow.fen), Decimal(instalment.fen))
    return ratio.quantize(FIGURE_PLACES, rounding=_FLOOR)


def month_label(month: date) -> str:
    """A month as people write it: ``2025-03``."""
    return f"{month:%Y-%m}"


def is_month_end(day: date) -> bool:
    """Whether ``day`` is the last day of its month."""
    return (day + _DAY).day == 1


def month_starts(first: date, last: date) -> list[date]:
    """First days of the months from ``first``'s month to ``last``'s month, inclusive."""
    months: list[date] = []
    month = first.replace(day=1)
    while month <= last:
        months.append(month)
        month = add_months(month, 1)
    return months


@dataclass(frozen=True, slots=True)
class BankTransaction:
    """One line of a bank statement: positive money in, negative money out; the category is the bank's label."""

    on: date
    amount: Money
    category: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.on, date):
            raise AssessmentInputError(f"a transaction's date must be a date, not {type(self.on).__name__}")
        if not isinstance(self.amount, Money):
            raise AssessmentInputError(f"a transaction's amount must be Money, not {type(self.amount).__name__}")
        if self.category is not None and not isinstance(self.category, str):
            raise AssessmentInputError("a transaction's category must be text")


@dataclass(frozen=True, slots=True)
class BankStatement:
    """The business's statement for a period; every transaction lies within it."""

    period_start: date
    period_end: date
    transactions: tuple[BankTransaction, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.period_start, date) or not isinstance(self.period_end, date):
            raise AssessmentInputError("a statement's period is given by two dates")
        if self.period_end < self.period_start:
            raise AssessmentInputError("the statement period ends before it starts")
        for transaction in self.transactions:
            if not isinstance(transaction, BankTransaction):
                raise AssessmentInputError("a statement holds BankTransaction items only")
            if not self.period_start <= transaction.on <= self.period_end:
                raise AssessmentInputError(f"a transaction on {transaction.on} lies outside the statement period")

    def whole_months(self) -> list[date]:
        """First days of the calendar months the statement covers completely."""
        first = self.period_start if self.period_start.day == 1 else add_months(self.period_start.replace(day=1), 1)
        last = self.period_end.replace(day=1)
        if not is_month_end(self.period_end):
            last = add_months(last, -1)
        return month_starts(first, last) if first <= last else []


@dataclass(frozen=True, slots=True)
class MonthlyFlow:
    """A calendar month's operating money in and out (outflow as a positive amount)."""

    month: date
    inflow: Money
    outflow: Money

    @property
    def net(self) -> Money:
        return self.inflow - self.outflow

    def to_json_dict(self) -> dict[str, str]:
        """The month as JSON-ready values."""
        return {
            "month": month_label(self.month),
            "inflow": str(self.inflow),
            "outflow": str(self.outflow),
            "net": str(self.net),
        }


@dataclass(frozen=True, slots=True)
class CashFlowSummary:
    """The operating cash flow of the assessment window, month by month and on average."""

    months: tuple[MonthlyFlow, ...]
    average_monthly_inflow: Money
    average_monthly_outflow: Money
    average_monthly_net_flow: Money
    revenue_cv: Decimal | None
    revenue_trend: Decimal | None
    negative_net_flow_months: int
    months_without_inflow: int

    @property
    def months_covered(self) -> int:
        return len(self.months)

    def inflow_in(self, months: Sequence[date]) -> Money:
        """Operating inflow over the given months of the window."""
        wanted = set(months)
        return total(flow.inflow for flow in self.months if flow.month in wanted)


def summarise_cash_flow(statement: BankStatement, policy: BusinessAssessmentPolicy) -> CashFlowSummary:
    """Monthly operating flows of the statement's last whole months, and the figures the assessment reports."""
    months = statement.whole_months()[-policy.window_months :]
    if not months:
        raise AssessmentInputError("the bank statement does not cover a single whole calendar month")
    excluded = {category.lower() for category in policy.non_operating_categories}
    inflow_fen = dict.fromkeys(months, 0)
    outflow_fen = dict.fromkeys(months, 0)
    for transaction in statement.transactions:
        month = transaction.on.replace(day=1)
        if month not in inflow_fen:
            continue
        if transaction.category is not None and transaction.category.lower() in excluded:
            continue
        if transaction.amount.is_positive:
            inflow_fen[month] += transaction.amount.fen
        else:
            outflow_fen[month] -= transaction.amount.fen
    flows = tuple(MonthlyFlow(month, Money(inflow_fen[month]), Money(outflow_fen[month])) for month in months)

    inflows = [flow.inflow.to_decimal() for flow in flows]
    average_inflow = mean(inflows)
    cv: Decimal | None = None
    trend: Decimal | None = None
    if average_inflow > 0:
        cv = figure(CONTEXT.divide(population_std(inflows), average_inflow))
        slope = least_squares_slope(inflows)
        # Relative to the mean so that the threshold means the same for a stall and a factory.
        trend = None if slope is None else figure(CONTEXT.divide(slope, average_inflow))
    net = [flow.net.to_decimal() for flow in flows]
    return CashFlowSummary(
        months=flows,
        average_monthly_inflow=Money.from_decimal(average_inflow, Rounding.HALF_UP),
        average_monthly_outflow=Money.from_decimal(mean([f.outflow.to_decimal() for f in flows]), Rounding.HALF_UP),
        # Rounded down: it is the numerator of the coverage ratio, which must never be overstated.
        average_monthly_net_flow=Money.from_decimal(mean(net), Rounding.FLOOR),
        revenue_cv=cv,
        revenue_trend=trend,
        negative_net_flow_months=sum(1 for flow in flows if flow.net.is_negative),
        months_without_inflow=sum(1 for flow in flows if not flow.inflow.is_positive),
    )
