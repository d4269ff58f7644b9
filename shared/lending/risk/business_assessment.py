"""The business assessment: the cash flow a bank statement shows, declared tax revenue against it, and further sources.

:func:`assess_business` runs every source of evidence (:mod:`lending.risk.sources`) over the statement's window
and gathers the figures and findings an underwriter and the decision read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from lending.errors import AssessmentInputError
from lending.money import Money
from lending.rates import format_rate
from lending.risk.cash_flow import BankStatement, MonthlyFlow, debt_service_coverage, month_label, summarise_cash_flow
from lending.risk.findings import Finding
from lending.risk.policy import DecisionPolicy
from lending.risk.sources import AssessmentContext, AssessmentSource, BankStatementSource, TaxFilingSource
from lending.risk.tax import TaxComparison, TaxFiling, compare_tax_filings


@dataclass(frozen=True, slots=True)
class BusinessAssessment:
    """The assessment's figures and findings; money in CNY, ratios to four places."""

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
        """The assessment as JSON-ready values: money as two-place strings, ratios as four-place strings."""

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


def assess_business(
    statement: BankStatement,
    filings: Sequence[TaxFiling],
    *,
    policy: DecisionPolicy,
    industry: str | None = None,
    proposed_instalment: Money | None = None,
    sources: Sequence[AssessmentSource] = (),
) -> BusinessAssessment:
    """Assess a business from its bank statement, tax filings and any further sources."""
    cash_flow = summarise_cash_flow(statement, policy.business_assessment)
    tax = compare_tax_filings(filings, cash_flow)
    context = AssessmentContext(cash_flow, industry, policy)
    findings: list[Finding] = []
    names: set[str] = set()
    every_source: list[AssessmentSource] = [BankStatementSource(), TaxFilingSource(tuple(filings)), *sources]
    for source in every_source:
        if source.name in names:
            raise AssessmentInputError(f"two assessment sources are named {source.name!r}")
        names.add(source.name)
        findings.extend(source.assess(context))
    coverage = None
    if proposed_instalment is not None:
        coverage = debt_service_coverage(cash_flow.average_monthly_net_flow, proposed_instalment)
    return BusinessAssessment(
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
