"""Assessment sources beyond the bank and the tax office: electricity use of the business premises.

A business that trades uses power: premises that drew nothing for a month, or far less than usual of late, are
not operating as the statement suggests. For a manufacturer, power is an input to every unit sold, so its monthly
use should rise and fall with revenue; revenue that does not track it, on a business large enough for the
relation to show, points to inflows that are not sales.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from lending.calendar import add_months
from lending.errors import AssessmentInputError
from lending.money import CONTEXT, Rounding
from lending.risk.cash_flow import month_label
from lending.risk.findings import Finding, Severity
from lending.risk.sources import AssessmentContext
from lending.risk.statistics import figure, mean, median, pearson_correlation, percent


def _kwh(value: Decimal) -> str:
    """Electricity use as people read it: whole kWh."""
    return f"{value.quantize(Decimal(1), rounding=Rounding.HALF_UP.value)} kWh"


@dataclass(frozen=True, slots=True)
class MeterReading:
    """Electricity drawn by the premises in one calendar month (``month`` is its first day), in kWh."""

    month: date
    kwh: Decimal

    def __post_init__(self) -> None:
        if not isinstance(self.month, date) or self.month.day != 1:
            raise AssessmentInputError("a meter reading's month is given as the first day of that month")
        if not isinstance(self.kwh, Decimal) or not self.kwh.is_finite() or self.kwh < 0:
            raise AssessmentInputError("a meter reading is a finite, non-negative Decimal number of kWh")


@dataclass(frozen=True, slots=True)
class ElectricityUse:
    """Monthly electricity use of the business premises, as an assessment source."""

    readings: tuple[MeterReading, ...]

    def __post_init__(self) -> None:
        months = [reading.month for reading in self.readings]
        if len(set(months)) != len(months):
            raise AssessmentInputError("two meter readings for the same month; pass one reading per month")
        object.__setattr__(self, "readings", tuple(sorted(self.readings, key=lambda reading: reading.month)))

    @property
    def name(self) -> str:
        return "electricity"

    def assess(self, context: AssessmentContext) -> list[Finding]:
        """Findings on zero use, a sharp recent drop, and (for power-hungry industries) use that ignores revenue."""
        policy = context.policy.electricity
        if not self.readings:
            return [self._finding("electricity_insufficient_data", Severity.LOW, "No electricity readings given.")]
        latest = self.readings[-1].month
        earliest = add_months(latest, 1 - policy.window_months)
        window = [reading for reading in self.readings if reading.month >= earliest]
        findings: list[Finding] = []

        idle = [reading.month for reading in window if reading.kwh == 0]
        if idle:
            findings.append(
                self._finding(
                    "electricity_zero_use",
                    Severity.HIGH,
                    f"The premises used no electricity in {len(idle)} of the last {len(window)} months "
                    f"({', '.join(month_label(month) for month in idle)}).",
                )
            )
        if len(window) < policy.min_months:
            findings.append(
                self._finding(
                    "electricity_insufficient_data",
                    Severity.LOW,
                    f"Only {len(window)} months of electricity readings; {policy.min_months} are needed to judge "
                    "a drop or the relation to revenue.",
                )
            )
            return findings

        usual = median([reading.kwh for reading in window])
        recent = mean([reading.kwh for reading in window[-policy.recent_months :]])
        if usual > 0 and recent < CONTEXT.multiply(usual, policy.drop_share):
            period = (
                f"the latest month ({month_label(latest)})"
                if policy.recent_months == 1
                else f"the {policy.recent_months} months to {month_label(latest)}"
            )
            findings.append(
                self._finding(
                    "electricity_sharp_drop",
                    Severity.HIGH,
                    f"Electricity use in {period} averaged {_kwh(recent)}, "
                    f"{percent(CONTEXT.divide(recent, usual))} of the {len(window)}-month median of {_kwh(usual)}.",
                )
            )

        mismatch = self._revenue_mismatch(context, window)
        if mismatch is not None:
            findings.append(mismatch)
        return findings

    def _revenue_mismatch(self, context: AssessmentContext, window: list[MeterReading]) -> Finding | None:
        policy = context.policy.electricity
        if context.industry not in policy.correlated_industries:
            return None
        use = {reading.month: reading.kwh for reading in window}
        pairs = [(use[flow.month], flow.inflow.to_decimal()) for flow in context.cash_flow.months if flow.month in use]
        if len(pairs) < policy.min_months:
            return None
        revenue = [inflow for _, inflow in pairs]
        # Below this revenue the noise of a small business's month swamps the relation; only judge it where it
        # should be visible.
        if mean(revenue) < policy.min_revenue_for_correlation.to_decimal():
            return None
        correlation = pearson_correlation([kwh for kwh, _ in pairs], revenue)
        if correlation is None or correlation >= policy.min_correlation:
            return None
        return self._finding(
            "electricity_revenue_mismatch",
            Severity.HIGH,
            f"For a {context.industry} business, electricity use and bank inflows over {len(pairs)} months "
            f"move together too little: correlation {figure(correlation)} (policy minimum "
            f"{policy.min_correlation}).",
        )

    def _finding(self, code: str, severity: Severity, message: str) -> Finding:
        return Finding(code, severity, message, self.name)
