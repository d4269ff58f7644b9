"""What a credit decision records: the outcome, the rule that settled it, its reasons and the terms."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from lending.catalogue import Method
from lending.money import Money
from lending.pricing import Offer
from lending.rates import format_rate
from lending.risk.affordability import Affordability


class Outcome(StrEnum):
    """What the decision says."""

    APPROVE = "approve"
    DECLINE = "decline"
    REFER = "refer"


class Rule(StrEnum):
    """The rule or cut-off that settled a decision: stable codes for audit, metrics and the underwriters' queue."""

    CONSENT_MISSING = "consent_missing"
    IDENTITY_FAILED = "identity_failed"
    FACE_MATCH_BELOW_MINIMUM = "face_match_below_minimum"
    LIVENESS_NOT_CONFIRMED = "liveness_not_confirmed"
    APPLICANT_AGE_OUTSIDE_RANGE = "applicant_age_outside_range"
    BUSINESS_TOO_OLD_FOR_STARTUP = "business_too_old_for_startup"
    TAX_MISMATCH = "tax_mismatch"
    DSCR_BELOW_FLOOR = "dscr_below_floor"
    SCORE_BELOW_CUTOFF = "score_below_cutoff"
    LIMIT_BELOW_PRODUCT_MINIMUM = "limit_below_product_minimum"
    RATE_CAP_EXCEEDED = "rate_cap_exceeded"
    SCORE_IN_REFERRAL_BAND = "score_in_referral_band"
    BUSINESS_ASSESSMENT_FINDINGS = "business_assessment_findings"
    HUMAN_REVIEW_REQUESTED = "human_review_requested"
    SCORE_AT_OR_ABOVE_CUTOFF = "score_at_or_above_cutoff"


class LimitBasis(StrEnum):
    """Which bound set the limit."""

    REQUEST = "request"
    PRODUCT_MAXIMUM = "product_maximum"
    CASH_FLOW = "cash_flow"


class ReasonSource(StrEnum):
    """Where a reason comes from: a policy rule, the scoring model, or the business assessment."""

    POLICY = "policy"
    MODEL = "model"
    BUSINESS_ASSESSMENT = "business_assessment"


@dataclass(frozen=True, slots=True)
class DecisionReason:
    """Why: a stable code, words the borrower understands, and where the reason comes from."""

    code: str
    text: str
    source: ReasonSource

    def to_json_dict(self) -> dict[str, str]:
        """The reason as JSON-ready values."""
        return {"code": self.code, "text": self.text, "source": self.source.value}


@dataclass(frozen=True, slots=True)
class Terms:
    """The terms of an approval (or those an underwriter would grant on a referral); a line carries no offer."""

    product: str
    kind: Literal["instalment", "revolving"]
    limit: Money
    limit_basis: LimitBasis
    term_months: int
    method: Method | None
    annual_rate: Decimal
    apr: Decimal
    offer: Offer | None

    def to_json_dict(self) -> dict[str, object]:
        """The terms as JSON-ready values: money two places, rates four."""
        offer = self.offer
        instalments = offer.schedule.instalments if offer is not None else ()
        return {
            "product": self.product,
            "kind": self.kind,
            "limit": str(self.limit),
            "limit_basis": self.limit_basis.value,
            "term_months": self.term_months,
            "method": None if self.method is None else self.method.value,
            "annual_rate": format_rate(self.annual_rate),
            "apr": format_rate(self.apr),
            "upfront_fee": None if offer is None else str(offer.upfront_fee),
            "net_disbursement": None if offer is None else str(offer.net_disbursement),
            "largest_instalment": str(max(i.total for i in instalments)) if instalments else None,
            "total_repayable": None if offer is None else str(offer.schedule.total_repayable),
        }


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome, the rule that produced it, the reasons, and the terms when there are any."""

    outcome: Outcome
    rule: Rule
    reasons: tuple[DecisionReason, ...]
    decided_on: date
    product: str
    risk_grade: str | None  # None when the application was declined before it was scored
    score: int | None
    probability_of_default: Decimal | None
    terms: Terms | None
    affordability: Affordability | None
    policy_version: str
    catalogue_version: str
    automated_outcome: Outcome | None = None  # on a referral the applicant asked for: what the rules decided
    automated_rule: Rule | None = None

    def to_json_dict(self) -> dict[str, object]:
        """The decision as JSON-ready values: money as two-place strings, rates and ratios as four-place strings."""
        return {
            "outcome": self.outcome.value,
            "rule": self.rule.value,
            "reasons": [reason.to_json_dict() for reason in self.reasons],
            "decided_on": self.decided_on.isoformat(),
            "product": self.product,
            "risk_grade": self.risk_grade,
            "score": self.score,
            "probability_of_default": None
            if self.probability_of_default is None
            else format_rate(self.probability_of_default),
            "terms": None if self.terms is None else self.terms.to_json_dict(),
            "affordability": None if self.affordability is None else self.affordability.to_json_dict(),
            "automated_outcome": None if self.automated_outcome is None else self.automated_outcome.value,
            "automated_rule": None if self.automated_rule is None else self.automated_rule.value,
            "policy_version": self.policy_version,
            "catalogue_version": self.catalogue_version,
        }

    def to_json(self) -> str:
        """The decision as a JSON document."""
        return json.dumps(self.to_json_dict(), ensure_ascii=False)
