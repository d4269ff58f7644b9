"""The sources of evidence about a business, and the two every assessment reads: the bank statement and the tax filings.

Every source (these two, and plug-ins such as :mod:`lending.risk.electricity`) is an :class:`AssessmentSource`: it
reads the same :class:`AssessmentContext` and returns findings for an underwriter to read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from lending.risk.cash_flow import CashFlowSummary
from lending.risk.findings import Finding, Severity
from lending.risk.policy import DecisionPolicy
from lending.risk.statistics import percent
from lending.risk.tax import TaxFiling, compare_tax_filings


@dataclass(frozen=True, slots=True)
class AssessmentContext:
    """What every source may read: the window's cash flow, the business's industry and the policy."""

    cash_flow: CashFlowSummary
    industry: str | None
    policy: DecisionPolicy


class AssessmentSource(Protocol):
    """A source of evidence about the business; its findings join the assessment under its name."""

    @property
    def name(self) -> str:
        """A stable name, used by the policy to decide whether the source's findings refer."""
        ...

    def assess(self, context: AssessmentContext) -> list[Finding]:
        """Findings about the business, in words for an underwriter."""
        ...


@dataclass(frozen=True, slots=True)
class BankStatementSource:
    """Judges the cash flow the statement shows: history, surplus, stability, trend, negative months."""

    @property
    def name(self) -> str:
        return "bank_statements"

    def assess(self, context: AssessmentContext) -> list[Finding]:
        """Findings on the window's operating cash flow."""
        flow, policy = context.cash_flow, context.policy.business_assessment
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
            note("no_revenue", Severity.HIGH, "The bank statement shows no operating inflow in the assessment window.")
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

    def assess(self, context: AssessmentContext) -> list[Finding]:
        """A finding when filings are missing, or when declared revenue strays from bank inflow."""
        comparison = compare_tax_filings(self.filings, context.cash_flow)
        tolerance = context.policy.business_assessment.max_tax_mismatch
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
