"""Revenue declared to the tax authority, against the operating inflow the bank saw in the same months."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from lending.errors import AssessmentInputError
from lending.money import CONTEXT, Money, total
from lending.rates import format_rate
from lending.risk.cash_flow import CashFlowSummary, is_month_end, month_label, month_starts
from lending.risk.statistics import figure

_ONE = Decimal(1)


@dataclass(frozen=True, slots=True)
class TaxFiling:
    """Revenue declared to the tax authority for whole calendar months (a month, a quarter, a year)."""

    period_start: date
    period_end: date
    declared_revenue: Money

    def __post_init__(self) -> None:
        if not isinstance(self.period_start, date) or not isinstance(self.period_end, date):
            raise AssessmentInputError("a tax filing's period is given by two dates")
        if not isinstance(self.declared_revenue, Money):
            raise AssessmentInputError(f"declared revenue must be Money, not {type(self.declared_revenue).__name__}")
        if self.period_start.day != 1 or not is_month_end(self.period_end) or self.period_end < self.period_start:
            raise AssessmentInputError("a tax filing covers whole months: from a month's first day to a month's last")
        if self.declared_revenue.is_negative:
            raise AssessmentInputError("declared revenue cannot be negative")

    def months(self) -> list[date]:
        """First days of the months the filing covers."""
        return month_starts(self.period_start, self.period_end)


@dataclass(frozen=True, slots=True)
class TaxComparison:
    """Revenue declared for months inside the assessment window against the bank's operating inflow in them."""

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
            raise AssessmentInputError("tax filings must be TaxFiling items")
        for month in filing.months():
            if month in seen:
                raise AssessmentInputError(
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
