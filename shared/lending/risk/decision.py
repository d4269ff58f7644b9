"""The credit decision: hard policy rules, then score cut-offs, then the limit, term and priced rate.

The order is the policy's order of precedence, and the first rule that settles an application is recorded:

1. Hard rules decline at once: consent missing; identity failed, or face match or liveness short of the policy;
   applicant age outside the product's range; a business too old for the start-up plan; declared tax revenue that
   strays from the bank's inflows; cash flow that cannot service a loan worth making.
2. A score below the decline cut-off declines.
3. Terms: the limit is the least of the product maximum, the request and what the cash flow can service; below the
   product minimum it declines. The rate is priced by grade and industry, and an APR above the cap declines: no
   offer above the cap is ever made.
4. A score between the cut-offs, or a review finding the policy refers, goes to an underwriter with the terms the
   underwriter would grant.
5. Otherwise approve.

Whatever the rules decide, an applicant who asked for a person gets one (PIPL art. 24): the decision becomes a
referral that keeps what the rules alone would have done. The one exception is missing consent: without it nobody,
machine or person, may assess the applicant's data.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError, field_validator, model_validator

from lending.applicant import Consent
from lending.calendar import months_between
from lending.catalogue import Catalogue, Method, Product
from lending.errors import CatalogueError, LendingError, ProductRuleViolation, RateCapExceeded
from lending.money import CONTEXT, Money, Rounding
from lending.prc_id import age_on, validate_id_number
from lending.pricing import Fees, Offer, make_offer, price_annual_rate
from lending.rates import DISCLOSURE_PLACES, format_rate, monthly_rate
from lending.risk.policy import DecisionPolicy, check_policy_fits
from lending.risk.review import BusinessReview, debt_service_coverage
from lending.schedule import Instalment, annuity_instalment, largest_payment

_HALF_UP = Rounding.HALF_UP.value


class DecisionInputError(LendingError, ValueError):
    """An application, identity or score result that is malformed or incomplete; ``fields`` names the culprits."""

    code = "invalid_decision_input"

    def __init__(self, message: str, fields: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.fields = fields


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
    REVIEW_FINDINGS = "review_findings"
    HUMAN_REVIEW_REQUESTED = "human_review_requested"
    SCORE_AT_OR_ABOVE_CUTOFF = "score_at_or_above_cutoff"


class LimitBasis(StrEnum):
    """Which bound set the limit."""

    REQUEST = "request"
    PRODUCT_MAXIMUM = "product_maximum"
    CASH_FLOW = "cash_flow"


class ReasonSource(StrEnum):
    """Where a reason comes from: a policy rule, the scoring model, or the business review."""

    POLICY = "policy"
    MODEL = "model"
    REVIEW = "review"


class _Input(BaseModel):
    # Validation errors must never echo what was sent: the input holds ID numbers.
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)


class Application(_Input):
    """The facts of an application the decision needs."""

    product: str = Field(min_length=1)
    amount: Money
    term_months: int = Field(ge=1)
    method: Method | None = None
    decided_on: date
    applicant_age: int | None = Field(default=None, ge=0, le=150)
    id_number: str | None = Field(default=None, repr=False)
    consent: Consent
    human_review_requested: StrictBool = False
    industry: str | None = None
    business_registered_on: date | None = None

    @field_validator("id_number")
    @classmethod
    def _valid_id_number(cls, value: str | None) -> str | None:
        return None if value is None else validate_id_number(value)

    @model_validator(mode="after")
    def _complete(self) -> Self:
        if not self.amount.is_positive:
            raise ValueError("the requested amount must be positive")
        if self.applicant_age is None and self.id_number is None:
            raise ValueError("give the applicant's age or ID number")
        if (
            self.id_number is not None
            and self.applicant_age is not None
            and age_on(self.id_number, self.decided_on) != self.applicant_age
        ):
            raise ValueError("the applicant's age does not agree with the birth date in the ID number")
        if self.business_registered_on is not None and self.business_registered_on > self.decided_on:
            raise ValueError("the business cannot be registered after the decision date")
        return self

    def age(self) -> int:
        """The applicant's age on the decision date, from the ID number when there is one."""
        if self.id_number is not None:
            return age_on(self.id_number, self.decided_on)
        assert self.applicant_age is not None  # the validator requires one of the two
        return self.applicant_age


class IdentityResult(_Input):
    """The identity vendor's verdict."""

    passed: StrictBool
    face_match: Decimal = Field(ge=0, le=1, allow_inf_nan=False)
    liveness: StrictBool


def _input_error(kind: str, exc: ValidationError) -> DecisionInputError:
    problems = exc.errors(include_input=False, include_url=False)
    fields = tuple(".".join(str(part) for part in problem["loc"]) or kind for problem in problems)
    detail = "; ".join(f"{name}: {problem['msg']}" for name, problem in zip(fields, problems, strict=True))
    return DecisionInputError(f"invalid {kind}: {detail}", fields)


def parse_application(raw: object) -> Application:
    """Validate application facts from JSON-like data; problems become one DecisionInputError naming the fields."""
    try:
        return Application.model_validate(raw)
    except ValidationError as exc:
        raise _input_error("application", exc) from None


def parse_identity(raw: object) -> IdentityResult:
    """Validate the identity vendor's result; problems become one DecisionInputError naming the fields."""
    try:
        return IdentityResult.model_validate(raw)
    except ValidationError as exc:
        raise _input_error("identity result", exc) from None


@dataclass(frozen=True, slots=True)
class Reason:
    """A factor the model held against the applicant: a code, words for the borrower, and how much it weighed."""

    code: str
    text: str
    impact: Decimal

    def __post_init__(self) -> None:
        if not isinstance(self.code, str) or not self.code or not isinstance(self.text, str) or not self.text:
            raise DecisionInputError("a model reason needs a code and a text", ("reasons",))
        if not isinstance(self.impact, Decimal) or not self.impact.is_finite():
            raise DecisionInputError("a model reason's impact is a finite Decimal", ("reasons",))


@dataclass(frozen=True, slots=True)
class ScoreOutcome:
    """The scoring model's verdict: probability of default, score, risk grade and adverse reasons."""

    probability_of_default: Decimal
    score: int
    grade: str
    reasons: tuple[Reason, ...] = ()

    def __post_init__(self) -> None:
        pd = self.probability_of_default
        if not isinstance(pd, Decimal) or not pd.is_finite() or not 0 <= pd <= 1:
            raise DecisionInputError("the probability of default is a Decimal from 0 to 1", ("probability_of_default",))
        if type(self.score) is not int:
            raise DecisionInputError("the score is a whole number", ("score",))
        if not isinstance(self.grade, str) or not self.grade:
            raise DecisionInputError("the score result needs a risk grade", ("grade",))
        if not isinstance(self.reasons, tuple) or not all(isinstance(r, Reason) for r in self.reasons):
            raise DecisionInputError("the model's reasons are a tuple of Reason", ("reasons",))


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


def _policy_reason(code: str, text: str) -> DecisionReason:
    return DecisionReason(code, text, ReasonSource.POLICY)


@dataclass(frozen=True, slots=True)
class _Case:
    """One application with everything the rules read; builds the decision records."""

    application: Application
    identity: IdentityResult
    score: ScoreOutcome | None  # None only for the rules that run before assessment
    review: BusinessReview | None
    catalogue: Catalogue
    policy: DecisionPolicy
    product: Product
    method: Method | None
    #: Offers priced for this case, by (limit in fen, annual rate): the approval's offer is the one affordability
    #: already built for the amount sought, so its schedule and APR are computed once.
    offers: dict[tuple[int, Decimal], Offer] = field(default_factory=dict)

    def offer_for(self, limit: Money, annual_rate: Decimal) -> Offer:
        """The instalment offer for ``limit`` at ``annual_rate`` (RateCapExceeded when the cap refuses it)."""
        key = (limit.fen, annual_rate)
        if key not in self.offers:
            assert self.method is not None  # instalment products always have one
            self.offers[key] = make_offer(
                self.catalogue,
                self.product.code,
                limit,
                self.application.term_months,
                self.method,
                self.application.decided_on,
                annual_rate,
            )
        return self.offers[key]

    def model_reasons(self) -> tuple[DecisionReason, ...]:
        if self.score is None:
            return ()
        return tuple(DecisionReason(r.code, r.text, ReasonSource.MODEL) for r in self.score.reasons)

    @property
    def scored(self) -> ScoreOutcome:
        assert self.score is not None, "only the verification rules run before scoring"
        return self.score

    @property
    def reviewed(self) -> BusinessReview:
        assert self.review is not None, "only the verification rules run before the business review"
        return self.review

    def record(
        self,
        outcome: Outcome,
        rule: Rule,
        reasons: tuple[DecisionReason, ...],
        terms: Terms | None = None,
        affordability: Affordability | None = None,
    ) -> Decision:
        if outcome is not Outcome.APPROVE:
            # The model's adverse factors go with every decline and referral, after the reason that settled it.
            reasons = reasons + self.model_reasons()
        return Decision(
            outcome=outcome,
            rule=rule,
            reasons=reasons,
            decided_on=self.application.decided_on,
            product=self.product.code,
            risk_grade=None if self.score is None else self.score.grade,
            score=None if self.score is None else self.score.score,
            probability_of_default=None if self.score is None else self.score.probability_of_default,
            terms=terms,
            affordability=affordability,
            policy_version=self.policy.version,
            catalogue_version=self.catalogue.version,
        )

    def decline(self, rule: Rule, text: str, affordability: Affordability | None = None) -> Decision:
        return self.record(Outcome.DECLINE, rule, (_policy_reason(rule.value, text),), affordability=affordability)


def _check_request(application: Application, score: ScoreOutcome, catalogue: Catalogue, product: Product) -> None:
    """Refuse facts the decision cannot work with; these are errors, not declines."""
    if score.grade not in catalogue.risk_grades:
        known = ", ".join(sorted(catalogue.risk_grades))
        raise DecisionInputError(f"the model's grade {score.grade!r} is not a catalogue grade ({known})", ("grade",))
    if not product.min_term_months <= application.term_months <= product.max_term_months:
        raise ProductRuleViolation(
            f"{product.code} runs {product.min_term_months}–{product.max_term_months} months, "
            f"not {application.term_months}"
        )
    if product.kind == "revolving" and application.method is not None:
        raise ProductRuleViolation(f"{product.code} is a revolving line: it has no repayment method")
    if application.method is not None and application.method not in product.methods:
        raise ProductRuleViolation(
            f"{product.code} does not offer {application.method}; it offers {', '.join(product.methods)}"
        )
    if product.borrower == "business":
        missing = tuple(
            name
            for name, value in (
                ("industry", application.industry),
                ("business_registered_on", application.business_registered_on),
            )
            if value is None
        )
        if missing:
            raise DecisionInputError(f"{product.code} lends to businesses: give {', '.join(missing)}", missing)
    if application.industry is not None:
        try:
            catalogue.industry(application.industry)
        except CatalogueError as exc:
            raise DecisionInputError(exc.message, ("industry",)) from None
    if product.kind == "revolving" and product.fees:
        raise ProductRuleViolation(f"{product.code} charges fees: a line's APR cannot be disclosed from its rate alone")


def _verification_rules(case: _Case) -> Decision | None:
    """Consent, identity and age: the rules that need no assessment, as a decline; None when none is broken."""
    application, identity, policy = case.application, case.identity, case.policy
    consent = application.consent
    if not (consent.credit_report and consent.data_processing):
        missing = [
            words
            for given, words in (
                (consent.credit_report, "to check your credit report"),
                (consent.data_processing, "to process your data"),
            )
            if not given
        ]
        return case.decline(
            Rule.CONSENT_MISSING,
            f"We can only assess an application with your consent {' and '.join(missing)}.",
        )
    if not identity.passed:
        return case.decline(Rule.IDENTITY_FAILED, "We could not verify your identity.")
    if identity.face_match < policy.identity.min_face_match:
        return case.decline(
            Rule.FACE_MATCH_BELOW_MINIMUM,
            "The photo taken during verification did not match the photo on your ID card closely enough.",
        )
    if policy.identity.liveness_required and not identity.liveness:
        return case.decline(
            Rule.LIVENESS_NOT_CONFIRMED, "The verification could not confirm that you took part in person."
        )
    # The age comes from the ID number alone: an applicant outside the product's range is declined before any
    # score (the model cannot score a minor) and whatever the assessment would say.
    age, allowed = case.application.age(), case.product.applicant_age
    if not allowed.min <= age <= allowed.max:
        return case.decline(
            Rule.APPLICANT_AGE_OUTSIDE_RANGE,
            f"{case.product.name} is for applicants aged {allowed.min} to {allowed.max}.",
        )
    return None


def _hard_rules(case: _Case) -> Decision | None:
    """The first hard policy rule the application breaks, as a decline; None when it breaks none."""
    verification = _verification_rules(case)
    if verification is not None:
        return verification
    application, policy, product = case.application, case.policy, case.product
    if product.startup is not None:
        assert application.business_registered_on is not None  # required of business products
        business_age = int(months_between(application.business_registered_on, application.decided_on))
        if business_age >= product.startup.max_business_age_months:
            return case.decline(
                Rule.BUSINESS_TOO_OLD_FOR_STARTUP,
                f"The start-up plan is for businesses younger than {product.startup.max_business_age_months} "
                f"months; yours has been registered for {business_age}. Our business operating loan may suit you.",
            )
    if case.reviewed.tax is not None and case.reviewed.tax.mismatch(policy.review.max_tax_mismatch):
        return case.decline(
            Rule.TAX_MISMATCH,
            "The revenue declared in your tax filings does not agree with the money your bank statement shows "
            "coming in.",
        )
    return None


def _affordability(case: _Case, annual_rate: Decimal) -> Affordability:
    application, product = case.application, case.product
    net = case.reviewed.average_monthly_net_flow
    sought = min(application.amount, product.max_amount)
    try:
        if product.kind == "revolving" or case.method is None:
            raise LookupError  # a line has no schedule: debt_service counts it as fully drawn
        payment = largest_instalment(case.offer_for(sought, annual_rate).schedule.instalments)
    except (LookupError, RateCapExceeded, ProductRuleViolation):  # refused as an offer: size the payment anyway
        payment = debt_service(
            product, sought, annual_rate, application.term_months, case.method, application.decided_on
        )
    coverage = debt_service_coverage(net, payment)
    capacity = None
    if coverage < product.min_dscr:
        capacity = cash_flow_limit(
            net,
            product.min_dscr,
            product,
            annual_rate,
            application.term_months,
            case.method,
            application.decided_on,
            case.policy.cash_flow.limit_step,
        )
    return Affordability(
        average_monthly_net_flow=net,
        min_dscr=product.min_dscr,
        amount_sought=sought,
        instalment_at_amount_sought=payment,
        dscr_at_amount_sought=coverage,
        cash_flow_limit=capacity,
    )


def _terms(case: _Case, annual_rate: Decimal, affordability: Affordability) -> tuple[Terms, Affordability] | Decision:
    """The terms within every bound, or the decline that no such terms exist."""
    application, product = case.application, case.product
    if affordability.cash_flow_limit is None:
        limit = affordability.amount_sought
        basis = LimitBasis.PRODUCT_MAXIMUM if application.amount > product.max_amount else LimitBasis.REQUEST
    else:
        limit = min(affordability.cash_flow_limit, affordability.amount_sought)
        basis = LimitBasis.CASH_FLOW
    if limit < product.min_amount:
        if basis is LimitBasis.CASH_FLOW:
            text = (
                f"The amount your cash flow can comfortably repay, {limit} CNY, is below the {product.min_amount} "
                f"CNY this product lends at least."
            )
        else:
            text = f"{product.name} lends at least {product.min_amount} CNY; you asked for {application.amount} CNY."
        return case.decline(Rule.LIMIT_BELOW_PRODUCT_MINIMUM, text, affordability)

    cap = case.catalogue.rate_cap.annual_rate
    offer: Offer | None = None
    if product.kind == "revolving":
        # A line charges no fees (checked above), so its APR is its annual rate, compared as it is disclosed.
        if annual_rate.quantize(DISCLOSURE_PLACES, rounding=_HALF_UP) > cap:
            return case.decline(Rule.RATE_CAP_EXCEEDED, _cap_refusal(cap), affordability)
        apr = annual_rate
    else:
        try:
            offer = case.offer_for(limit, annual_rate)
        except RateCapExceeded:
            return case.decline(Rule.RATE_CAP_EXCEEDED, _cap_refusal(cap), affordability)
        apr = offer.apr
    if limit == affordability.amount_sought:
        payment = affordability.instalment_at_amount_sought
    elif offer is not None:
        # The offer's own schedule is the one debt_service would build: the same product, fees and grace.
        payment = largest_instalment(offer.schedule.instalments)
    else:
        payment = debt_service(product, limit, annual_rate, application.term_months, None, application.decided_on)
    affordability = Affordability(
        average_monthly_net_flow=affordability.average_monthly_net_flow,
        min_dscr=affordability.min_dscr,
        amount_sought=affordability.amount_sought,
        instalment_at_amount_sought=affordability.instalment_at_amount_sought,
        dscr_at_amount_sought=affordability.dscr_at_amount_sought,
        cash_flow_limit=affordability.cash_flow_limit,
        instalment_at_limit=payment,
        dscr_at_limit=debt_service_coverage(affordability.average_monthly_net_flow, payment),
    )
    terms = Terms(
        product=product.code,
        kind=product.kind,
        limit=limit,
        limit_basis=basis,
        term_months=application.term_months,
        method=case.method,
        annual_rate=annual_rate,
        apr=apr,
        offer=offer,
    )
    return terms, affordability


def _cap_refusal(cap: Decimal) -> str:
    return (
        f"The rate this risk and term would need is above the legal maximum of {format_rate(cap)} a year, so we "
        "cannot offer this loan."
    )


def largest_instalment(instalments: Sequence[Instalment]) -> Money:
    """The largest instalment total (principal, interest and fee) of a schedule, summed in fen."""
    return Money(max([i.principal.fen + i.interest.fen + i.fee.fen for i in instalments]))


def _limit_reasons(terms: Terms, product: Product) -> tuple[DecisionReason, ...]:
    if terms.limit_basis is LimitBasis.CASH_FLOW:
        return (
            _policy_reason(
                "limit_reduced_to_cash_flow",
                f"We lowered the amount to {terms.limit} CNY, what your cash flow can comfortably repay.",
            ),
        )
    if terms.limit_basis is LimitBasis.PRODUCT_MAXIMUM:
        return (
            _policy_reason(
                "limit_capped_at_product_maximum",
                f"{product.name} lends at most {product.max_amount} CNY.",
            ),
        )
    return ()


def _automated(case: _Case) -> Decision:
    """What the rules alone decide."""
    hard = _hard_rules(case)
    if hard is not None:
        return hard
    application, product, policy, score = case.application, case.product, case.policy, case.scored
    annual_rate = price_annual_rate(case.catalogue, product, score.grade, application.industry)
    affordability = _affordability(case, annual_rate)
    if affordability.cash_flow_limit is not None:  # the amount sought is not covered: is a counter-offer worth it?
        counter_offer_floor = affordability.amount_sought.times(
            policy.cash_flow.min_counter_offer_share, Rounding.HALF_UP
        )
        if (
            not affordability.average_monthly_net_flow.is_positive
            or affordability.cash_flow_limit < counter_offer_floor
        ):
            return case.decline(
                Rule.DSCR_BELOW_FLOOR,
                "Your cash flow cannot comfortably cover the repayments of the amount you asked for.",
                affordability,
            )

    if score.score < policy.score.decline_below:
        return case.decline(
            Rule.SCORE_BELOW_CUTOFF,
            "Your credit assessment did not meet our lending criteria; the main factors follow.",
            affordability,
        )

    priced = _terms(case, annual_rate, affordability)
    if isinstance(priced, Decision):
        return priced
    terms, affordability = priced

    triggers: list[tuple[Rule, tuple[DecisionReason, ...]]] = []
    if score.score < policy.score.approve_at_or_above:
        triggers.append(
            (
                Rule.SCORE_IN_REFERRAL_BAND,
                (
                    _policy_reason(
                        Rule.SCORE_IN_REFERRAL_BAND.value,
                        "Your credit assessment is close to our threshold, so an underwriter will decide.",
                    ),
                ),
            )
        )
    referring = [finding for finding in case.reviewed.findings if policy.referral.refers(finding)]
    if referring:
        findings = tuple(DecisionReason(f.code, f.message, ReasonSource.REVIEW) for f in referring)
        summary = _policy_reason(
            Rule.REVIEW_FINDINGS.value,
            "The review of your business found points that need a person's judgement, so an underwriter will decide.",
        )
        triggers.append((Rule.REVIEW_FINDINGS, (summary, *findings)))
    limit_reasons = _limit_reasons(terms, product)
    if triggers:
        reasons = tuple(reason for _, group in triggers for reason in group) + limit_reasons
        return case.record(Outcome.REFER, triggers[0][0], reasons, terms, affordability)
    return case.record(Outcome.APPROVE, Rule.SCORE_AT_OR_ABOVE_CUTOFF, limit_reasons, terms, affordability)


def decide_before_assessment(
    application: Application,
    identity: IdentityResult,
    *,
    catalogue: Catalogue,
    policy: DecisionPolicy,
) -> Decision | None:
    """The decline an application earns before anyone assesses it (no consent, identity not verified, an age
    outside the product's range), or None.

    The workflow asks this first, so an applicant whose identity failed is never looked up at the credit bureau.
    """
    product = catalogue.product(application.product)
    method = None if product.kind == "revolving" else (application.method or product.methods[0])
    case = _Case(application, identity, None, None, catalogue, policy, product, method)
    return _verification_rules(case)


def decide(
    application: Application,
    identity: IdentityResult,
    score: ScoreOutcome,
    review: BusinessReview,
    *,
    catalogue: Catalogue,
    policy: DecisionPolicy,
) -> Decision:
    """Approve, decline or refer an application, recording the rule that decided and the reasons."""
    product = catalogue.product(application.product)
    check_policy_fits(policy, catalogue)
    _check_request(application, score, catalogue, product)
    method = None if product.kind == "revolving" else (application.method or product.methods[0])
    case = _Case(application, identity, score, review, catalogue, policy, product, method)
    automated = _automated(case)
    if not application.human_review_requested or automated.rule is Rule.CONSENT_MISSING:
        return automated
    requested = _policy_reason(
        Rule.HUMAN_REVIEW_REQUESTED.value,
        "You asked for a person to decide on your application, so an underwriter will review it.",
    )
    # A decline or referral already lists the model's factors; an approval did not, and the person needs them.
    model = case.model_reasons() if automated.outcome is Outcome.APPROVE else ()
    return replace(
        automated,
        outcome=Outcome.REFER,
        rule=Rule.HUMAN_REVIEW_REQUESTED,
        reasons=(requested, *automated.reasons, *model),
        automated_outcome=automated.outcome,
        automated_rule=automated.rule,
    )
