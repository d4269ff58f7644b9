"""The decision policy as validated data: score cut-offs, identity thresholds, assessment tolerances, referral rules.

The policy is a versioned JSON file shipped in the layer (``lending/data/policy.json``), loaded once per process.
Changing a cut-off is a change to that file, reviewed like code, and every decision records the version it used.
"""

from __future__ import annotations

import json
from decimal import Decimal
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from lending.catalogue import Catalogue
from lending.errors import LendingError
from lending.money import Money
from lending.risk.findings import Finding, Severity

#: A share of something: more than nothing, at most all of it.
Share = Annotated[Decimal, Field(gt=0, le=1, allow_inf_nan=False)]
#: A non-negative ratio.
Ratio = Annotated[Decimal, Field(ge=0, allow_inf_nan=False)]


class PolicyError(LendingError, ValueError):
    """The decision policy is malformed, or does not fit the catalogue it is used with."""

    code = "policy_error"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ScoreCutoffs(_Strict):
    """Approve at or above one score, decline below another; scores in between go to a person."""

    approve_at_or_above: int
    decline_below: int

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.decline_below > self.approve_at_or_above:
            raise ValueError("decline_below must not be above approve_at_or_above")
        return self


class IdentityPolicy(_Strict):
    """What the identity vendor's result must show beyond 'passed'."""

    min_face_match: Decimal = Field(ge=0, le=1, allow_inf_nan=False)
    liveness_required: bool


class CashFlowPolicy(_Strict):
    """How the limit follows what the cash flow can service."""

    # Below this share of the amount sought, a smaller counter-offer would not serve the purpose the business
    # asked for, so the application is declined on coverage instead.
    min_counter_offer_share: Share
    # Limits bounded by cash flow are rounded down to this step, so an offer never reads like a computed figure.
    limit_step: Money

    @model_validator(mode="after")
    def _positive_step(self) -> Self:
        if not self.limit_step.is_positive:
            raise ValueError("limit_step must be positive")
        return self


class BusinessAssessmentPolicy(_Strict):
    """Tolerances of the business assessment: its bank-statement window and the tax comparison."""

    window_months: int = Field(ge=1, le=24)
    min_history_months: int = Field(ge=1)
    max_revenue_cv: Ratio
    max_monthly_decline: Ratio
    max_negative_net_flow_months: int = Field(ge=0)
    max_tax_mismatch: Ratio
    non_operating_categories: tuple[str, ...]

    @model_validator(mode="after")
    def _history_fits_window(self) -> Self:
        if self.min_history_months > self.window_months:
            raise ValueError("min_history_months cannot exceed window_months")
        return self


class ElectricityPolicy(_Strict):
    """When the premises' electricity use says something about the business."""

    window_months: int = Field(ge=2, le=24)
    recent_months: int = Field(ge=1)
    min_months: int = Field(ge=2)
    drop_share: Share
    correlated_industries: tuple[str, ...]
    min_correlation: Decimal = Field(ge=-1, le=1, allow_inf_nan=False)
    min_revenue_for_correlation: Money

    @model_validator(mode="after")
    def _fits_window(self) -> Self:
        if not self.recent_months < self.window_months or self.min_months > self.window_months:
            raise ValueError("recent_months must be shorter than window_months, and min_months within it")
        return self


class ReferralPolicy(_Strict):
    """Which business assessment findings send an application to an underwriter."""

    refer_at_severity: Severity
    # Per source: whether its findings at or above the severity refer. A source not named here refers, so that a
    # new source is looked at by a person until the policy says otherwise.
    sources: dict[str, bool]

    def refers(self, finding: Finding) -> bool:
        """Whether this finding alone sends the application to a person."""
        return finding.severity.rank >= self.refer_at_severity.rank and self.sources.get(finding.source, True)


class WarningRule(_Strict):
    """One early-warning rule: when it matches (``threshold``: the share a figure must fall by, more than it) and
    what is done to the loan when it does."""

    threshold: Share | None = None
    action: Literal["cut_limit", "freeze", "flag"]


class EarlyWarningRules(_Strict):
    """The monthly re-check's rules, one per kind of warning."""

    cash_flow_drop: WarningRule
    bureau_change: WarningRule
    electricity_drop: WarningRule

    @model_validator(mode="after")
    def _drops_have_thresholds(self) -> Self:
        if self.cash_flow_drop.threshold is None or self.electricity_drop.threshold is None:
            raise ValueError("cash_flow_drop and electricity_drop need a threshold")
        return self


class EarlyWarningPolicy(_Strict):
    """The monthly re-check of open lines and business loans (lending.early_warning): how much fresh data it reads
    and its rules."""

    # The latest whole months whose average inflow is set against the average at origination.
    recent_months: int = Field(ge=1, le=6)
    # Months of electricity readings the latest month is set against (their median).
    electricity_window_months: int = Field(ge=2, le=24)
    rules: EarlyWarningRules


class DecisionPolicy(_Strict):
    """The whole policy, validated at load."""

    version: str = Field(min_length=1)
    score: ScoreCutoffs
    identity: IdentityPolicy
    cash_flow: CashFlowPolicy
    business_assessment: BusinessAssessmentPolicy
    electricity: ElectricityPolicy
    referral: ReferralPolicy
    early_warning: EarlyWarningPolicy


def check_policy_fits(policy: DecisionPolicy, catalogue: Catalogue) -> None:
    """Refuse a policy that names industries the catalogue does not know."""
    unknown = sorted(set(policy.electricity.correlated_industries) - set(catalogue.industries))
    if unknown:
        raise PolicyError(f"policy {policy.version} names industries not in the catalogue: {', '.join(unknown)}")


def parse_policy(raw: str | bytes) -> DecisionPolicy:
    """Validate a policy document; any problem is one PolicyError that names the fields."""
    try:
        return DecisionPolicy.model_validate(json.loads(raw))
    except (ValidationError, json.JSONDecodeError) as exc:
        raise PolicyError(f"invalid decision policy: {exc}") from None


@cache
def load_policy(path: str | None = None) -> DecisionPolicy:
    """The policy shipped in the layer, or one at ``path``; parsed once per process."""
    if path is not None:
        return parse_policy(Path(path).read_bytes())
    return parse_policy(resources.files("lending").joinpath("data/policy.json").read_bytes())
