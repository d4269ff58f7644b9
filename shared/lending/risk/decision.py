"""The credit decision: hard policy rules, then score cut-offs, then the limit, term and priced rate.

The order is the policy's order of precedence, and the first rule that settles an application is recorded:

1. Hard rules decline at once: consent missing; identity failed, or face match or liveness short of the policy;
   applicant age outside the product's range; a business too old for the start-up plan; declared tax revenue that
   strays from the bank's inflows; cash flow that cannot service a loan worth making.
2. A score below the decline cut-off declines.
3. Terms: the limit is the least of the product maximum, the request and what the cash flow can service; below the
   product minimum it declines. The rate is priced by grade and industry, and an APR above the cap declines: no
   offer above the cap is ever made.
4. A score between the cut-offs, or a business assessment finding the policy refers, goes to an underwriter with
   the terms the underwriter would grant.
5. Otherwise approve.

Whatever the rules decide, an applicant who asked for a person gets one (PIPL art. 24): the decision becomes a
referral that keeps what the rules alone would have done. The one exception is missing consent: without it nobody,
machine or person, may assess the applicant's data.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal

from lending.calendar import months_between
from lending.catalogue import Catalogue, Method, Product
from lending.errors import CatalogueError, ProductRuleViolation, RateCapExceeded
from lending.money import Money, Rounding
from lending.pricing import Offer, make_offer, price_annual_rate
from lending.rates import DISCLOSURE_PLACES, format_rate
from lending.risk.affordability import Affordability, cash_flow_limit, debt_service, largest_instalment
from lending.risk.business_assessment import BusinessAssessment
from lending.risk.cash_flow import debt_service_coverage
from lending.risk.facts import Application, DecisionInputError, IdentityResult, ScoreOutcome
from lending.risk.outcome import Decision, DecisionReason, LimitBasis, Outcome, ReasonSource, Rule, Terms
from lending.risk.policy import DecisionPolicy, check_policy_fits

_HALF_UP = Rounding.HALF_UP.value


def _policy_reason(code: str, text: str) -> DecisionReason:
    return DecisionReason(code, text, ReasonSource.POLICY)


@dataclass(frozen=True, slots=True)
class _Case:
    """One application with everything the rules read; builds the decision records."""

    application: Application
    identity: IdentityResult
    score: ScoreOutcome | None  # None only for the rules that run before assessment
    assessment: BusinessAssessment | None
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
    def assessed(self) -> BusinessAssessment:
        assert self.assessment is not None, "only the verification rules run before the business assessment"
        return self.assessment

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
    if case.assessed.tax is not None and case.assessed.tax.mismatch(policy.business_assessment.max_tax_mismatch):
        return case.decline(
            Rule.TAX_MISMATCH,
            "The revenue declared in your tax filings does not agree with the money your bank statement shows "
            "coming in.",
        )
    return None


def _affordability(case: _Case, annual_rate: Decimal) -> Affordability:
    application, product = case.application, case.product
    net = case.assessed.average_monthly_net_flow
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
    affordability = replace(
        affordability,
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
    referring = [finding for finding in case.assessed.findings if policy.referral.refers(finding)]
    if referring:
        findings = tuple(DecisionReason(f.code, f.message, ReasonSource.BUSINESS_ASSESSMENT) for f in referring)
        summary = _policy_reason(
            Rule.BUSINESS_ASSESSMENT_FINDINGS.value,
            "The assessment of your business found points that need a person's judgement, so an underwriter will "
            "decide.",
        )
        triggers.append((Rule.BUSINESS_ASSESSMENT_FINDINGS, (summary, *findings)))
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
    assessment: BusinessAssessment,
    *,
    catalogue: Catalogue,
    policy: DecisionPolicy,
) -> Decision:
    """Approve, decline or refer an application, recording the rule that decided and the reasons."""
    product = catalogue.product(application.product)
    check_policy_fits(policy, catalogue)
    _check_request(application, score, catalogue, product)
    method = None if product.kind == "revolving" else (application.method or product.methods[0])
    case = _Case(application, identity, score, assessment, catalogue, policy, product, method)
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
