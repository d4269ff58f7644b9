"""The business review: cash flow from a bank statement, declared tax revenue against it, and further sources.

Figures come from whole calendar months only, the last ``window_months`` of the statement: a partial month at
either end would understate that month and fake a drop or a rise. Inflows and outflows are operating flows:
transactions whose category the policy names as non-operating (loan proceeds, transfers between the owner's own
accounts, capital paid in) are left out, because borrowed or moved money is not revenue and must not make a
business look able to repay.

Every source of evidence (the bank statement, the tax filings, and plug-ins such as electricity use) is a
:class:`ReviewSource`: it reads the same :class:`ReviewContext` and returns findings for an underwriter to read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, localcontext
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from lending.calendar import add_months
from lending.errors import LendingError
from lending.money import CONTEXT, Money, Rounding, total
from lending.rates import format_rate

if TYPE_CHECKING:
    from lending.risk.policy import DecisionPolicy, ReviewPolicy

#: Ratios (coefficient of variation, trend, tax ratio, coverage) are kept and shown to four places.
FIGURE_PLACES = Decimal("0.0001")
_ZERO = Decimal(0)
_ONE = Decimal(1)
_FLOOR = Rounding.FLOOR.value
_DAY = timedelta(days=1)


class ReviewInputError(LendingError, ValueError):
    """Bank statements, tax filings or source data that cannot be reviewed as given."""

    code = "invalid_review_input"


class Severity(StrEnum):
    """How much a finding weighs, from a note to a reason to stop and look."""

    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def rank(self) -> int:
        """Position on the scale: info 0 … high 3."""
        return list(Severity).index(self)


@dataclass(frozen=True, slots=True)
class Finding:
    """Something a source noticed: a stable code, its weight, words for a person, and the source's name."""

    code: str
    severity: Severity
    message: str
    source: str

    def to_json_dict(self) -> dict[str, str]:
        """The finding as JSON-ready values."""
        return {"code": self.code, "severity": self.severity.value, "message": self.message, "source": self.source}


# Statistics on exact decimals. Each runs in a copy of the domain context so that nothing depends on whatever
# context the calling thread happens to have.


def mean(values: Sequence[Decimal]) -> Decimal:
    """Arithmetic mean of a non-empty sequence."""
    if not values:
        raise ValueError("the mean of nothing is undefined")
    with localcontext(CONTEXT):
        return sum(values, _ZERO) / len(values)


def median(values: Sequence[Decimal]) -> Decimal:
    """Median of a non-empty sequence (the mean of the middle two for an even count)."""
    if not values:
        raise ValueError("the median of nothing is undefined")
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return mean([ordered[middle - 1], ordered[middle]])


def population_std(values: Sequence[Decimal]) -> Decimal:
    """Population standard deviation: these months are the whole population described, not a sample."""
    centre = mean(values)
    with localcontext(CONTEXT):
        variance = mean([(value - centre) ** 2 for value in values])
    return variance.sqrt(CONTEXT)


def least_squares_slope(values: Sequence[Decimal]) -> Decimal | None:
    """Slope of the least-squares line through (0, v0), (1, v1), …; None for fewer than two points."""
    count = len(values)
    if count < 2:
        return None
    centre_x = Decimal(count - 1) / 2
    centre_y = mean(values)
    with localcontext(CONTEXT):
        spread = sum(((index - centre_x) ** 2 for index in range(count)), _ZERO)
        covariation = sum(((index - centre_x) * (v - centre_y) for index, v in enumerate(values)), _ZERO)
        return covariation / spread


def pearson_correlation(xs: Sequence[Decimal], ys: Sequence[Decimal]) -> Decimal | None:
    """Pearson's r of paired values; None when fewer than two pairs or either side does not vary."""
    if len(xs) != len(ys):
        raise ValueError("correlation needs pairs")
    if len(xs) < 2:
        return None
    centre_x, centre_y = mean(xs), mean(ys)
    with localcontext(CONTEXT):
        covariation = sum(((x - centre_x) * (y - centre_y) for x, y in zip(xs, ys, strict=True)), _ZERO)
        spread_x = sum(((x - centre_x) ** 2 for x in xs), _ZERO)
        spread_y = sum(((y - centre_y) ** 2 for y in ys), _ZERO)
        if spread_x == 0 or spread_y == 0:
            return None
        return covariation / (spread_x * spread_y).sqrt(CONTEXT)


def figure(value: Decimal) -> Decimal:
    """A ratio as it is kept and shown: four places, half up."""
    return value.quantize(FIGURE_PLACES, rounding=Rounding.HALF_UP.value)


def percent(value: Decimal) -> str:
    """A share as people read it: ``Decimal("0.085")`` → ``"8.50%"``."""
    hundredths = CONTEXT.multiply(value, Decimal(100)).quantize(Decimal("0.01"), rounding=Rounding.HALF_UP.value)
    return f"{hundredths}%"


def debt_service_coverage(net_flow: Money, instalment: Money) -> Decimal:
    """Net operating cash flow per month / instalment, rounded down to four places so coverage is never overstated."""
    if not instalment.is_positive:
        raise ReviewInputError("the instalment to cover must be positive")
    # The ratio of the fen is the ratio of the yuan, rounded to the context's digits alike; quantising fixes its form.
    ratio = CONTEXT.divide(Decimal(net_flow.fen), Decimal(instalment.fen))
    return ratio.quantize(FIGURE_PLACES, rounding=_FLOOR)


def month_label(month: date) -> str:
    """A month as people write it: ``2025-03``."""
    return f"{month:%Y-%m}"


def _is_month_end(day: date) -> bool:
    return (day + _DAY).day == 1


def _months_from(first: date, last: date) -> list[date]:
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
            raise ReviewInputError(f"a transaction's date must be a date, not {type(self.on).__name__}")
        if not isinstance(self.amount, Money):
            raise ReviewInputError(f"a transaction's amount must be Money, not {type(self.amount).__name__}")
        if self.category is not None and not isinstance(self.category, str):
            raise ReviewInputError("a transaction's category must be text")


@dataclass(frozen=True, slots=True)
class BankStatement:
    """The business's statement for a period; every transaction lies within it."""

    period_start: date
    period_end: date
    transactions: tuple[BankTransaction, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.period_start, date) or not isinstance(self.period_end, date):
            raise ReviewInputError("a statement's period is given by two dates")
        if self.period_end < self.period_start:
            raise ReviewInputError("the statement period ends before it starts")
        for transaction in self.transactions:
            if not isinstance(transaction, BankTransaction):
                raise ReviewInputError("a statement holds BankTransaction items only")
            if not self.period_start <= transaction.on <= self.period_end:
                raise ReviewInputError(f"a transaction on {transaction.on} lies outside the statement period")

    def whole_months(self) -> list[date]:
        """First days of the calendar months the statement covers completely."""
        first = self.period_start if self.period_start.day == 1 else add_months(self.period_start.replace(day=1), 1)
        last = self.period_end.replace(day=1)
        if not _is_month_end(self.period_end):
            last = add_months(last, -1)
        return _months_from(first, last) if first <= last else []


@dataclass(frozen=True, slots=True)
class TaxFiling:
    """Revenue declared to the tax authority for whole calendar months (a month, a quarter, a year)."""

    period_start: date
    period_end: date
    declared_revenue: Money

    def __post_init__(self) -> None:
        if not isinstance(self.period_start, date) or not isinstance(self.period_end, date):
            raise ReviewInputError("a tax filing's period is given by two dates")
        if not isinstance(self.declared_revenue, Money):
            raise ReviewInputError(f"declared revenue must be Money, not {type(self.declared_revenue).__name__}")
        if self.period_start.day != 1 or not _is_month_end(self.period_end) or self.period_end < self.period_start:
            raise ReviewInputError("a tax filing covers whole months: from a month's first day to a month's last")
        if self.declared_revenue.is_negative:
            raise ReviewInputError("declared revenue cannot be negative")

    def months(self) -> list[date]:
        """First days of the months the filing covers."""
        return _months_from(self.period_start, self.period_end)


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
    """The operating cash flow of the review window, month by month and on average."""

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


def summarise_cash_flow(statement: BankStatement, policy: ReviewPolicy) -> CashFlowSummary:
    """Monthly operating flows of the statement's last whole months, and the figures the review reports."""
    months = statement.whole_months()[-policy.window_months :]
    if not months:
        raise ReviewInputError("the bank statement does not cover a single whole calendar month")
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


@dataclass(frozen=True, slots=True)
class TaxComparison:
    """Revenue declared for months inside the review window against the bank's operating inflow in them."""

    months: int
    declared_revenue: Money
    bank_inflow: Money
    ratio: Decimal | None  # declared / bank inflow; None when the bank shows no inflow at all

    def mismatch(self, tolerance: Decimal) -> bool:
        """Whether declared revenue strays from bank inflow by more than ``tolerance`` (a share, either way)."""
        if self.ratio is None:
            return self.declared_revenue.is_positive
        return abs(self.ratio - _ONE) > tolerance

    def to_json_dict(self) -> dict[str, object]:
        """The comparison as JSON-ready values."""
        return {
            "months": self.months,
            "declared_revenue": str(self.declared_revenue),
            "bank_inflow": str(self.bank_inflow),
            "ratio": None if self.ratio is None else format_rate(self.ratio),
        }


def compare_tax_filings(filings: Sequence[TaxFiling], cash_flow: CashFlowSummary) -> TaxComparison | None:
    """Declared against banked revenue over the window's months that filings cover; None if no filing fits."""
    seen: set[date] = set()
    for filing in filings:
        if not isinstance(filing, TaxFiling):
            raise ReviewInputError("tax filings must be TaxFiling items")
        for month in filing.months():
            if month in seen:
                raise ReviewInputError(
                    f"two tax filings cover {month_label(month)}; pass only the latest filing for each period"
                )
            seen.add(month)
    window = {flow.month for flow in cash_flow.months}
    # A filing counts only when the window holds all of its months: its revenue cannot be split by month.
    fitting = [filing for filing in filings if set(filing.months()) <= window]
    if not fitting:
        return None
    months = [month for filing in fitting for month in filing.months()]
    declared = total(filing.declared_revenue for filing in fitting)
    banked = cash_flow.inflow_in(months)
    ratio = figure(CONTEXT.divide(declared.to_decimal(), banked.to_decimal())) if banked.is_positive else None
    return TaxComparison(len(months), declared, banked, ratio)


@dataclass(frozen=True, slots=True)
class ReviewContext:
    """What every source may read: the window's cash flow, the business's industry and the policy."""

    cash_flow: CashFlowSummary
    industry: str | None
    policy: DecisionPolicy


class ReviewSource(Protocol):
    """A source of evidence about the business; its findings join the review under its name."""

    @property
    def name(self) -> str:
        """A stable name, used by the policy to decide whether the source's findings refer."""
        ...

    def assess(self, context: ReviewContext) -> list[Finding]:
        """Findings about the business, in words for an underwriter."""
        ...


@dataclass(frozen=True, slots=True)
class BankStatementSource:
    """Judges the cash flow the statement shows: history, surplus, stability, trend, negative months."""

    @property
    def name(self) -> str:
        return "bank_statements"

    def assess(self, context: ReviewContext) -> list[Finding]:
        """Findings on the window's operating cash flow."""
        flow, policy = context.cash_flow, context.policy.review
        findings: list[Finding] = []

        def note(code: str, severity: Severity, message: str) -> None:
            findings.append(Finding(code, severity, message, self.name))

        if flow.months_covered < policy.min_history_months:
            note(
                "insufficient_history",
                Severity.HIGH,
                f"The bank statement covers {flow.months_covered} whole months; at least "
                f"{policy.min_history_months} are needed to judge the business's cash flow.",
            )
        if not flow.average_monthly_inflow.is_positive:
            note("no_revenue", Severity.HIGH, "The bank statement shows no operating inflow in the review window.")
        if not flow.average_monthly_net_flow.is_positive:
            note(
                "no_operating_surplus",
                Severity.HIGH,
                f"Money out matched or exceeded money in: the average monthly net flow is "
                f"{flow.average_monthly_net_flow} CNY.",
            )
        if flow.revenue_cv is not None and flow.revenue_cv > policy.max_revenue_cv:
            note(
                "revenue_volatile",
                Severity.MEDIUM,
                f"Monthly inflows vary widely: coefficient of variation {flow.revenue_cv} "
                f"(policy maximum {policy.max_revenue_cv}).",
            )
        if flow.revenue_trend is not None and flow.revenue_trend < -policy.max_monthly_decline:
            note(
                "revenue_declining",
                Severity.MEDIUM,
                f"Monthly inflows are falling by {percent(-flow.revenue_trend)} of the average each month "
                f"(policy tolerates {percent(policy.max_monthly_decline)}).",
            )
        if flow.negative_net_flow_months > policy.max_negative_net_flow_months:
            note(
                "negative_net_flow_months",
                Severity.MEDIUM,
                f"{flow.negative_net_flow_months} of {flow.months_covered} months paid out more than came in "
                f"(policy tolerates {policy.max_negative_net_flow_months}).",
            )
        if flow.months_without_inflow and flow.average_monthly_inflow.is_positive:
            note(
                "months_without_inflow",
                Severity.MEDIUM,
                f"{flow.months_without_inflow} of {flow.months_covered} months had no operating inflow at all.",
            )
        return findings


@dataclass(frozen=True, slots=True)
class TaxFilingSource:
    """Compares revenue declared to the tax authority with the money the bank saw come in."""

    filings: tuple[TaxFiling, ...]

    @property
    def name(self) -> str:
        return "tax_filings"

    def assess(self, context: ReviewContext) -> list[Finding]:
        """A finding when filings are missing, or when declared revenue strays from bank inflow."""
        comparison = compare_tax_filings(self.filings, context.cash_flow)
        tolerance = context.policy.review.max_tax_mismatch
        if comparison is None:
            return [
                Finding(
                    "tax_filings_missing",
                    Severity.MEDIUM,
                    "No tax filing covers whole months of the bank statement, so declared revenue could not be "
                    "checked against the bank.",
                    self.name,
                )
            ]
        if not comparison.mismatch(tolerance):
            return []
        if comparison.ratio is None:
            message = (
                f"Tax filings declare {comparison.declared_revenue} CNY of revenue for {comparison.months} months "
                "in which the bank statement shows no operating inflow."
            )
        else:
            message = (
                f"Declared tax revenue is {percent(comparison.ratio)} of the bank's operating inflow over the "
                f"{comparison.months} months the filings cover ({comparison.declared_revenue} against "
                f"{comparison.bank_inflow} CNY); the policy tolerates a difference of {percent(tolerance)}."
            )
        return [Finding("tax_mismatch", Severity.HIGH, message, self.name)]


@dataclass(frozen=True, slots=True)
class BusinessReview:
    """The review's figures and findings; money in CNY, ratios to four places."""

    first_month: date
    last_month: date
    monthly: tuple[MonthlyFlow, ...]
    average_monthly_inflow: Money
    average_monthly_outflow: Money
    average_monthly_net_flow: Money
    revenue_cv: Decimal | None
    revenue_trend: Decimal | None
    negative_net_flow_months: int
    tax: TaxComparison | None
    proposed_instalment: Money | None
    debt_service_coverage: Decimal | None
    findings: tuple[Finding, ...]

    @property
    def months_covered(self) -> int:
        return len(self.monthly)

    @property
    def tax_revenue_ratio(self) -> Decimal | None:
        return None if self.tax is None else self.tax.ratio

    def to_json_dict(self) -> dict[str, object]:
        """The review as JSON-ready values: money as two-place strings, ratios as four-place strings."""

        def ratio(value: Decimal | None) -> str | None:
            return None if value is None else format_rate(value)

        return {
            "first_month": month_label(self.first_month),
            "last_month": month_label(self.last_month),
            "months_covered": self.months_covered,
            "monthly": [flow.to_json_dict() for flow in self.monthly],
            "average_monthly_inflow": str(self.average_monthly_inflow),
            "average_monthly_outflow": str(self.average_monthly_outflow),
            "average_monthly_net_flow": str(self.average_monthly_net_flow),
            "revenue_cv": ratio(self.revenue_cv),
            "revenue_trend": ratio(self.revenue_trend),
            "negative_net_flow_months": self.negative_net_flow_months,
            "tax": None if self.tax is None else self.tax.to_json_dict(),
            "proposed_instalment": None if self.proposed_instalment is None else str(self.proposed_instalment),
            "debt_service_coverage": ratio(self.debt_service_coverage),
            "findings": [finding.to_json_dict() for finding in self.findings],
        }


def review_business(
    statement: BankStatement,
    filings: Sequence[TaxFiling],
    *,
    policy: DecisionPolicy,
    industry: str | None = None,
    proposed_instalment: Money | None = None,
    sources: Sequence[ReviewSource] = (),
) -> BusinessReview:
    """Review a business from its bank statement, tax filings and any further sources."""
    cash_flow = summarise_cash_flow(statement, policy.review)
    tax = compare_tax_filings(filings, cash_flow)
    context = ReviewContext(cash_flow, industry, policy)
    findings: list[Finding] = []
    names: set[str] = set()
    every_source: list[ReviewSource] = [BankStatementSource(), TaxFilingSource(tuple(filings)), *sources]
    for source in every_source:
        if source.name in names:
            raise ReviewInputError(f"two review sources are named {source.name!r}")
        names.add(source.name)
        findings.extend(source.assess(context))
    coverage = None
    if proposed_instalment is not None:
        coverage = debt_service_coverage(cash_flow.average_monthly_net_flow, proposed_instalment)
    return BusinessReview(
        first_month=cash_flow.months[0].month,
        last_month=cash_flow.months[-1].month,
        monthly=cash_flow.months,
        average_monthly_inflow=cash_flow.average_monthly_inflow,
        average_monthly_outflow=cash_flow.average_monthly_outflow,
        average_monthly_net_flow=cash_flow.average_monthly_net_flow,
        revenue_cv=cash_flow.revenue_cv,
        revenue_trend=cash_flow.revenue_trend,
        negative_net_flow_months=cash_flow.negative_net_flow_months,
        tax=tax,
        proposed_instalment=proposed_instalment,
        debt_service_coverage=coverage,
        findings=tuple(findings),
    )
