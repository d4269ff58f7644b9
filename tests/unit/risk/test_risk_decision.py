"""The credit decision: every hard rule, the cut-offs, referrals, the limit's three bounds, the cap, and bad input."""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import ROUND_FLOOR, Decimal
from importlib import resources
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from lending.catalogue import Catalogue, Method, load_catalogue
from lending.errors import CatalogueError, ProductRuleViolation
from lending.money import Money
from lending.prc_id import make_id_number
from lending.pricing import make_offer
from lending.rates import DISCLOSURE_PLACES, monthly_rate
from lending.risk.business_assessment import BusinessAssessment, assess_business
from lending.risk.cash_flow import BankStatement, BankTransaction
from lending.risk.decision import decide
from lending.risk.electricity import ElectricityUse, MeterReading
from lending.risk.facts import (
    Application,
    DecisionInputError,
    IdentityResult,
    Reason,
    ScoreOutcome,
    parse_application,
    parse_identity,
)
from lending.risk.findings import Finding, Severity
from lending.risk.outcome import Decision, LimitBasis, Outcome, ReasonSource, Rule
from lending.risk.policy import DecisionPolicy, load_policy
from lending.risk.tax import TaxComparison
from lending.schedule import annuity_instalment

CATALOGUE = load_catalogue()
POLICY = load_policy()
APPROVE_AT = POLICY.score.approve_at_or_above
DECLINE_BELOW = POLICY.score.decline_below
DECIDED_ON = date(2026, 1, 10)
# Born 14 March 1985: 40 on the decision date.
ID_NUMBER = make_id_number("110105", date(1985, 3, 14), 123)
MODEL_REASONS = (
    Reason("short_credit_history", "Your credit history is short.", Decimal("18.5")),
    Reason("high_utilisation", "You use a large share of your credit limits.", Decimal("11.2")),
)
PASSED = IdentityResult(passed=True, face_match=Decimal("0.93"), liveness=True)


def application(**changes: Any) -> Application:
    """A business operating loan of 120,000 over 12 months for a retailer registered in 2019, with every consent."""
    facts: dict[str, Any] = {
        "product": "business_instalment",
        "amount": "120000.00",
        "term_months": 12,
        "decided_on": DECIDED_ON,
        "id_number": ID_NUMBER,
        "consent": {"credit_report": True, "data_processing": True},
        "industry": "retail",
        "business_registered_on": date(2019, 5, 1),
    }
    facts.update(changes)
    return Application.model_validate(facts)


def score(value: int = 650, grade: str = "B") -> ScoreOutcome:
    """A score above the approval cut-off (620) unless told otherwise."""
    return ScoreOutcome(Decimal("0.0300"), value, grade, MODEL_REASONS)


def assessment(
    net_flow: str = "17750.00", *, tax: TaxComparison | None = None, findings: tuple[Finding, ...] = ()
) -> BusinessAssessment:
    """An assessment whose average monthly net operating flow is ``net_flow`` (17,750 covers 120,000 over 12 months)."""
    return BusinessAssessment(
        first_month=date(2025, 1, 1),
        last_month=date(2025, 12, 1),
        monthly=(),
        average_monthly_inflow=Money.of("100000.00"),
        average_monthly_outflow=Money.of("82250.00"),
        average_monthly_net_flow=Money.of(net_flow),
        revenue_cv=Decimal("0.0690"),
        revenue_trend=Decimal("0.0200"),
        negative_net_flow_months=2,
        tax=tax,
        proposed_instalment=None,
        debt_service_coverage=None,
        findings=findings,
    )


def run(
    app: Application | None = None,
    identity: IdentityResult = PASSED,
    outcome: ScoreOutcome | None = None,
    business: BusinessAssessment | None = None,
    *,
    catalogue: Catalogue = CATALOGUE,
    policy: DecisionPolicy = POLICY,
) -> Decision:
    return decide(
        app or application(),
        identity,
        outcome or score(),
        business or assessment(),
        catalogue=catalogue,
        policy=policy,
    )


def largest_payment(decision: Decision) -> Money:
    """What the cash flow must cover at the decided limit, recomputed from the offer (or the line's annuity)."""
    assert decision.terms is not None
    if decision.terms.offer is not None:
        return max(instalment.total for instalment in decision.terms.offer.schedule.instalments)
    return annuity_instalment(
        decision.terms.limit, monthly_rate(decision.terms.annual_rate), decision.terms.term_months
    )


def codes(decision: Decision) -> list[str]:
    return [reason.code for reason in decision.reasons]


# Approval -------------------------------------------------------------------------------------------------------


def test_a_strong_application_is_approved_for_what_it_asked() -> None:
    # Given a retailer asking 120,000 over 12 months, score 650 (grade B), net flow 17,750 a month
    # When decided
    decision = run()
    # Then it is approved at the request, priced B (9.60%) + retail (0) with the 1% fee in the APR, under the cap
    assert decision.outcome is Outcome.APPROVE
    assert decision.rule is Rule.SCORE_AT_OR_ABOVE_CUTOFF
    assert decision.reasons == ()
    terms = decision.terms
    assert terms is not None
    assert (terms.limit, terms.limit_basis, terms.term_months) == (Money.of(120_000), LimitBasis.REQUEST, 12)
    assert terms.method is Method.EQUAL_INSTALMENT
    assert terms.annual_rate == Decimal("0.0960")
    assert terms.offer is not None
    assert terms.apr == terms.offer.apr
    assert Decimal("0.0960") < terms.apr <= CATALOGUE.rate_cap.annual_rate
    # And coverage at the limit is 17,750 / the 10,527.60 instalment
    assert decision.affordability is not None
    assert decision.affordability.instalment_at_limit == Money.of("10527.60")
    assert decision.affordability.dscr_at_limit == Decimal("1.6860")
    # And with the request covered, no cash-flow limit had to be searched for
    assert decision.affordability.cash_flow_limit is None


def test_an_approval_serialises_money_to_two_places_and_rates_to_four() -> None:
    # Given an approval
    decision = run()
    # When it is written as JSON
    document = json.loads(decision.to_json())
    # Then money and rates are strings of fixed places, and the ID number is nowhere in it
    assert document["outcome"] == "approve"
    assert document["rule"] == "score_at_or_above_cutoff"
    assert document["terms"]["limit"] == "120000.00"
    assert document["terms"]["annual_rate"] == "0.0960"
    assert re.fullmatch(r"0\.\d{4}", document["terms"]["apr"])
    assert document["terms"]["upfront_fee"] == "1200.00"
    assert document["probability_of_default"] == "0.0300"
    assert document["affordability"]["dscr_at_limit"] == "1.6860"
    assert document["policy_version"] == POLICY.version
    assert ID_NUMBER not in decision.to_json()
    assert ID_NUMBER not in repr(decision)
    assert ID_NUMBER not in repr(application())


def test_a_start_up_is_approved_with_its_grace_period_and_discount() -> None:
    # Given a retailer registered 10 months ago asking 50,000 over 24 months on the start-up plan
    app = application(
        product="startup_plan", amount="50000.00", term_months=24, business_registered_on=date(2025, 3, 1)
    )
    # When decided
    decision = run(app)
    # Then it is approved with interest-only grace, priced B 9.60% − the plan's 1.00% discount
    assert decision.outcome is Outcome.APPROVE
    assert decision.terms is not None
    assert decision.terms.method is Method.INTEREST_ONLY_GRACE
    assert decision.terms.annual_rate == Decimal("0.0860")
    assert decision.terms.offer is not None
    assert all(not i.principal for i in decision.terms.offer.schedule.instalments[:6])


def test_a_credit_line_is_approved_with_a_limit_and_rate_but_no_schedule() -> None:
    # Given a logistics business asking for a 150,000 line for 12 months
    app = application(product="credit_line", amount="150000.00", industry="logistics")
    # When decided
    decision = run(app)
    # Then the line is approved: limit and rate (B 9.60% + logistics 0.50%), no offer, APR = the rate (no fees)
    assert decision.outcome is Outcome.APPROVE
    terms = decision.terms
    assert terms is not None
    assert (terms.kind, terms.limit, terms.method, terms.offer) == ("revolving", Money.of(150_000), None, None)
    assert terms.annual_rate == terms.apr == Decimal("0.1010")
    document = json.loads(decision.to_json())["terms"]
    assert (document["upfront_fee"], document["largest_instalment"], document["apr"]) == (None, None, "0.1010")
    # And the line counts as fully drawn and repaid over its term: 17,750 covers its annuity at least 1.25 times
    assert decision.affordability is not None
    assert decision.affordability.dscr_at_limit is not None
    assert decision.affordability.dscr_at_limit >= Decimal("1.25")


# The limit's three bounds ---------------------------------------------------------------------------------------


def test_the_limit_is_capped_by_the_product_maximum() -> None:
    # Given a start-up asking 150,000 from a plan that lends at most 100,000
    app = application(
        product="startup_plan", amount="150000.00", term_months=24, business_registered_on=date(2025, 3, 1)
    )
    # When decided
    decision = run(app)
    # Then it is approved at 100,000, saying why
    assert decision.outcome is Outcome.APPROVE
    assert decision.terms is not None
    assert (decision.terms.limit, decision.terms.limit_basis) == (Money.of(100_000), LimitBasis.PRODUCT_MAXIMUM)
    assert codes(decision) == ["limit_capped_at_product_maximum"]


def test_the_limit_is_capped_by_the_request() -> None:
    # Given a request of 30,000.50 that the cash flow covers easily
    decision = run(application(amount="30000.50"))
    # Then the limit is exactly the request, not rounded
    assert decision.terms is not None
    assert (decision.terms.limit, decision.terms.limit_basis) == (Money.of("30000.50"), LimitBasis.REQUEST)


def test_the_limit_is_capped_by_what_the_cash_flow_can_service() -> None:
    # Given net flow of 10,000 a month: at the 1.25 floor an instalment of at most 8,000.
    # 120,000 needs 10,527.60; 91,100 needs 7,992.20 (cover 1.2512); 91,200 needs 8,001.00 (cover 1.2498)
    decision = run(business=assessment("10000.00"))
    # Then the limit is 91,100, a whole 100, and the borrower is told why
    assert decision.outcome is Outcome.APPROVE
    assert decision.terms is not None
    assert (decision.terms.limit, decision.terms.limit_basis) == (Money.of(91_100), LimitBasis.CASH_FLOW)
    assert codes(decision) == ["limit_reduced_to_cash_flow"]
    assert decision.affordability is not None
    assert decision.affordability.dscr_at_amount_sought == Decimal("0.9498")
    assert decision.affordability.instalment_at_limit == Money.of("7992.20")
    assert decision.affordability.dscr_at_limit == Decimal("1.2512")


def test_a_limit_below_the_product_minimum_from_cash_flow_declines() -> None:
    # Given a request of 15,000 and net flow of 1,000: the cash flow serves 9,100 (over half the request, so no
    # coverage decline), but the operating loan lends at least 10,000
    decision = run(application(amount="15000.00"), business=assessment("1000.00"))
    # Then it is declined on the minimum, in words with both figures
    assert decision.outcome is Outcome.DECLINE
    assert decision.rule is Rule.LIMIT_BELOW_PRODUCT_MINIMUM
    assert decision.terms is None
    assert "9100.00" in decision.reasons[0].text
    assert "10000.00" in decision.reasons[0].text


def test_a_request_below_the_product_minimum_declines() -> None:
    # Given a request of 8,000 for a loan that lends at least 10,000
    # When decided
    decision = run(application(amount="8000.00"))
    # Then it is declined on the minimum, quoting the request
    assert decision.rule is Rule.LIMIT_BELOW_PRODUCT_MINIMUM
    assert "you asked for 8000.00" in decision.reasons[0].text


# The rate cap ---------------------------------------------------------------------------------------------------


def test_an_offer_the_cap_refuses_is_a_decline_never_an_offer_above_it() -> None:
    # Given grade E in construction: 20.50% + 1.50% = 22.00%, which over 3 months with the 1% fee is an APR of
    # about 28%; 20,000 over 3 months is well within the cash flow
    app = application(industry="construction", amount="20000.00", term_months=3)
    # When decided
    decision = run(app, outcome=score(640, "E"))
    # Then it is declined on the cap, with no terms
    assert decision.outcome is Outcome.DECLINE
    assert decision.rule is Rule.RATE_CAP_EXCEEDED
    assert decision.terms is None
    assert "0.2400" in decision.reasons[0].text


def _catalogue_with_construction_at(adjustment: str) -> Catalogue:
    document = json.loads(resources.files("lending").joinpath("data/catalogue.json").read_text())
    document["industries"]["construction"]["rate_adjustment"] = adjustment
    return Catalogue.model_validate(document)


def test_a_credit_line_priced_above_the_cap_is_declined() -> None:
    # Given a catalogue where construction adds 5.00%: grade E becomes 25.50% a year on a line, above 24%
    catalogue = _catalogue_with_construction_at("0.0500")
    app = application(product="credit_line", amount="50000.00", industry="construction")
    # When decided
    decision = run(app, outcome=score(640, "E"), catalogue=catalogue)
    # Then the line is declined on the cap
    assert decision.rule is Rule.RATE_CAP_EXCEEDED
    assert decision.terms is None


# Hard rules -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("consent", "words"),
    [
        ({"credit_report": False, "data_processing": True}, "to check your credit report."),
        ({"credit_report": True, "data_processing": False}, "to process your data."),
        ({"credit_report": False, "data_processing": False}, "credit report and to process your data."),
    ],
)
def test_missing_consent_declines(consent: dict[str, bool], words: str) -> None:
    # Given an application without one consent or both
    # When decided
    decision = run(application(consent=consent))
    # Then it is declined first of all, naming what is missing, with nothing priced
    assert (decision.outcome, decision.rule) == (Outcome.DECLINE, Rule.CONSENT_MISSING)
    assert decision.reasons[0].text.endswith(words)
    assert decision.terms is None
    assert decision.affordability is None


def test_a_failed_identity_check_declines() -> None:
    # Given the vendor failed the identity check (however good the face match)
    # When decided
    # Then it is declined on identity
    decision = run(identity=IdentityResult(passed=False, face_match=Decimal("0.95"), liveness=True))
    assert (decision.outcome, decision.rule) == (Outcome.DECLINE, Rule.IDENTITY_FAILED)


def test_a_face_match_below_the_policy_declines_even_when_the_vendor_passed() -> None:
    # Given the vendor passed the check at a face match of 0.79, below the policy's 0.80
    decision = run(identity=IdentityResult(passed=True, face_match=Decimal("0.79"), liveness=True))
    # Then it is declined on the policy's threshold
    assert decision.rule is Rule.FACE_MATCH_BELOW_MINIMUM
    # And exactly 0.80 is enough
    assert run(identity=IdentityResult(passed=True, face_match=Decimal("0.80"), liveness=True)).outcome is (
        Outcome.APPROVE
    )


def test_missing_liveness_declines() -> None:
    # Given a passed check whose liveness was not confirmed, under a policy that requires it
    # When decided
    # Then it is declined on liveness
    decision = run(identity=IdentityResult(passed=True, face_match=Decimal("0.95"), liveness=False))
    assert decision.rule is Rule.LIVENESS_NOT_CONFIRMED


def test_an_applicant_older_than_the_product_allows_is_declined() -> None:
    # Given an applicant born 1 Jan 1960: 66 on the decision date; the operating loan lends to 18–65
    app = application(id_number=make_id_number("310101", date(1960, 1, 1), 35))
    # When decided
    decision = run(app)
    # Then it is declined on age, saying the range
    assert decision.rule is Rule.APPLICANT_AGE_OUTSIDE_RANGE
    assert "18 to 65" in decision.reasons[0].text
    # And 65 still qualifies
    assert run(application(id_number=make_id_number("310101", date(1960, 6, 1), 35))).outcome is Outcome.APPROVE


def test_an_applicant_younger_than_the_product_allows_is_declined() -> None:
    # Given a consumer loan applicant who says they are 17
    app = application(product="consumer_instalment", id_number=None, applicant_age=17, industry=None)
    # When decided
    # Then it is declined on age
    assert run(app).rule is Rule.APPLICANT_AGE_OUTSIDE_RANGE


@pytest.mark.parametrize(
    ("registered_on", "too_old"),
    [(date(2024, 6, 1), True), (date(2025, 1, 10), True), (date(2025, 1, 11), False)],
)
def test_the_start_up_plan_declines_businesses_of_a_year_or_more(registered_on: date, too_old: bool) -> None:
    # Given a start-up plan application from a business registered on the date (19, exactly 12, and 11 months ago)
    app = application(product="startup_plan", amount="50000.00", term_months=24, business_registered_on=registered_on)
    # When decided
    decision = run(app)
    # Then a business of 12 months or more is declined and pointed to the operating loan
    assert (decision.rule is Rule.BUSINESS_TOO_OLD_FOR_STARTUP) is too_old
    if too_old:
        assert "business operating loan" in decision.reasons[0].text


def test_declared_revenue_that_strays_from_the_bank_declines() -> None:
    # Given filings declaring half of what the bank saw, beyond the policy's ±20%
    tax = TaxComparison(12, Money.of(600_000), Money.of(1_200_000), Decimal("0.5000"))
    # When decided
    decision = run(business=assessment(tax=tax))
    # Then it is declined on the tax rule, before the score could approve it
    assert (decision.outcome, decision.rule) == (Outcome.DECLINE, Rule.TAX_MISMATCH)
    # And 0.80 is still within tolerance
    within = TaxComparison(12, Money.of(960_000), Money.of(1_200_000), Decimal("0.8000"))
    assert run(business=assessment(tax=within)).outcome is Outcome.APPROVE


def test_cash_flow_far_short_of_the_request_declines_on_coverage() -> None:
    # Given net flow of 3,000: it serves 27,300, less than half of the 120,000 asked
    decision = run(business=assessment("3000.00"))
    # Then it is declined on coverage rather than cut to a quarter of the request
    assert (decision.outcome, decision.rule) == (Outcome.DECLINE, Rule.DSCR_BELOW_FLOOR)
    assert decision.affordability is not None
    assert decision.affordability.cash_flow_limit == Money.of(27_300)
    assert decision.terms is None


def test_no_operating_surplus_declines_on_coverage() -> None:
    # Given a business paying out 500 more than it takes in each month
    # When decided
    decision = run(business=assessment("-500.00"))
    # Then it is declined on coverage, and it can service nothing
    assert decision.rule is Rule.DSCR_BELOW_FLOOR
    assert decision.affordability is not None
    assert decision.affordability.cash_flow_limit == Money.ZERO


def test_hard_rules_apply_in_the_policy_order() -> None:
    # Given an application that breaks several rules: no consent, failed identity, and a tax mismatch
    tax = TaxComparison(12, Money.of(1), Money.of(1_200_000), Decimal("0.0000"))
    app = application(consent={"credit_report": False, "data_processing": True})
    failed = IdentityResult(passed=False, face_match=Decimal(0), liveness=False)
    # When decided
    # Then the first in the policy's order is recorded
    assert run(app, failed, business=assessment(tax=tax)).rule is Rule.CONSENT_MISSING
    assert run(application(), failed, business=assessment(tax=tax)).rule is Rule.IDENTITY_FAILED


# Score cut-offs and referral --------------------------------------------------------------------------------------


def test_a_score_below_the_decline_cut_off_declines_with_the_models_reasons() -> None:
    # Given a score one below the decline cut-off
    decision = run(outcome=score(DECLINE_BELOW - 1, "D"))
    # Then it is declined, and the model's adverse factors follow the rule's own reason
    assert (decision.outcome, decision.rule) == (Outcome.DECLINE, Rule.SCORE_BELOW_CUTOFF)
    assert codes(decision) == ["score_below_cutoff", "short_credit_history", "high_utilisation"]
    assert [r.source for r in decision.reasons] == [ReasonSource.POLICY, ReasonSource.MODEL, ReasonSource.MODEL]
    assert decision.reasons[1].text == "Your credit history is short."


@pytest.mark.parametrize("offset", [0, 1, -1])
def test_a_borderline_score_is_referred_with_the_terms_an_underwriter_would_grant(offset: int) -> None:
    # Given a score between the cut-offs (decline cut-off inclusive, approval cut-off exclusive)
    value = {0: DECLINE_BELOW, 1: (DECLINE_BELOW + APPROVE_AT) // 2, -1: APPROVE_AT - 1}[offset]
    decision = run(outcome=score(value, "C"))
    # Then it goes to a person, with the model's reasons and the terms priced for grade C
    assert (decision.outcome, decision.rule) == (Outcome.REFER, Rule.SCORE_IN_REFERRAL_BAND)
    assert codes(decision) == ["score_in_referral_band", "short_credit_history", "high_utilisation"]
    assert decision.terms is not None
    assert decision.terms.annual_rate == Decimal("0.1280")


def test_a_score_at_the_approval_cut_off_approves() -> None:
    # Given a score of exactly the approval cut-off
    # When decided
    # Then it is approved: the cut-off is "at or above"
    assert run(outcome=score(APPROVE_AT)).outcome is Outcome.APPROVE


def test_a_high_business_assessment_finding_refers_and_is_named_in_the_reasons() -> None:
    # Given a good score but a high electricity finding
    finding = Finding("electricity_sharp_drop", Severity.HIGH, "Electricity use fell to 30%.", "electricity")
    # When decided
    decision = run(business=assessment(findings=(finding,)))
    # Then it goes to a person, naming the finding in the reasons
    assert (decision.outcome, decision.rule) == (Outcome.REFER, Rule.BUSINESS_ASSESSMENT_FINDINGS)
    assert codes(decision)[:2] == ["business_assessment_findings", "electricity_sharp_drop"]
    assert decision.reasons[1].source is ReasonSource.BUSINESS_ASSESSMENT
    assert decision.terms is not None


def test_a_policy_can_let_a_source_s_high_findings_pass() -> None:
    # Given a policy under which electricity findings do not refer, and one that still refers bank findings
    finding = Finding("electricity_sharp_drop", Severity.HIGH, "Electricity use fell to 30%.", "electricity")
    referral = POLICY.referral.model_copy(update={"sources": {"electricity": False}})
    relaxed = POLICY.model_copy(update={"referral": referral})
    # When decided
    # Then the same application is approved, while a medium finding never refers
    assert run(business=assessment(findings=(finding,)), policy=relaxed).outcome is Outcome.APPROVE
    medium = Finding("revenue_volatile", Severity.MEDIUM, "Inflows vary.", "bank_statements")
    assert run(business=assessment(findings=(medium,))).outcome is Outcome.APPROVE


def test_several_referral_triggers_are_all_given_and_the_score_is_recorded_first() -> None:
    # Given a borderline score and a high finding on the bank statement
    finding = Finding("insufficient_history", Severity.HIGH, "4 months only.", "bank_statements")
    # When decided
    decision = run(outcome=score(APPROVE_AT - 1), business=assessment(findings=(finding,)))
    # Then the score band is the recorded rule, and every trigger is among the reasons
    assert decision.rule is Rule.SCORE_IN_REFERRAL_BAND
    assert {"score_in_referral_band", "business_assessment_findings", "insufficient_history"} <= set(codes(decision))


# A person on request (PIPL art. 24) --------------------------------------------------------------------------------


def test_an_applicant_who_asks_for_a_person_is_referred_even_when_the_rules_approve() -> None:
    # Given an application the rules approve, whose applicant asked for a person to decide
    decision = run(application(human_review_requested=True))
    # Then it is referred, keeping what the rules decided and the terms, with the model's factors for the person
    assert (decision.outcome, decision.rule) == (Outcome.REFER, Rule.HUMAN_REVIEW_REQUESTED)
    assert (decision.automated_outcome, decision.automated_rule) == (Outcome.APPROVE, Rule.SCORE_AT_OR_ABOVE_CUTOFF)
    assert codes(decision) == ["human_review_requested", "short_credit_history", "high_utilisation"]
    assert decision.terms is not None
    assert json.loads(decision.to_json())["automated_outcome"] == "approve"


def test_an_applicant_who_asks_for_a_person_is_referred_even_when_the_rules_decline() -> None:
    # Given an applicant who asked for a person, with a score the rules decline
    # When decided
    decision = run(application(human_review_requested=True), outcome=score(400, "E"))
    # Then a person decides, knowing the rules would have declined, and no terms are proposed
    assert (decision.outcome, decision.rule) == (Outcome.REFER, Rule.HUMAN_REVIEW_REQUESTED)
    assert (decision.automated_outcome, decision.automated_rule) == (Outcome.DECLINE, Rule.SCORE_BELOW_CUTOFF)
    assert decision.terms is None


def test_without_consent_not_even_a_person_may_assess_the_data() -> None:
    # Given an applicant who asked for a person but did not consent to data processing
    app = application(human_review_requested=True, consent={"credit_report": True, "data_processing": False})
    # When decided
    decision = run(app)
    # Then it is declined on consent: nobody may assess the data
    assert (decision.outcome, decision.rule) == (Outcome.DECLINE, Rule.CONSENT_MISSING)
    assert decision.automated_outcome is None


# Invariants --------------------------------------------------------------------------------------------------------

PRODUCTS = ["business_instalment", "consumer_instalment", "startup_plan", "credit_line"]


@settings(max_examples=100, deadline=None)
@given(
    product_code=st.sampled_from(PRODUCTS),
    # sampled_from spreads evenly where integers() would crowd the small end
    amount_fen=st.builds(
        lambda yuan, fen: yuan * 100 + fen, st.sampled_from(range(1_000, 600_000, 500)), st.integers(0, 99)
    ),
    term=st.integers(min_value=1, max_value=36),
    # Net flow as a share of the request's monthly principal, so that every bound gets its turn
    cover_percent=st.sampled_from(range(-20, 301, 4)),
    grade=st.sampled_from(sorted(CATALOGUE.risk_grades)),
    industry=st.sampled_from(sorted(CATALOGUE.industries)),
)
def test_an_approved_limit_respects_every_bound_and_the_cash_flow_covers_it(
    product_code: str, amount_fen: int, term: int, cover_percent: int, grade: str, industry: str
) -> None:
    # Given any product, request, term, cash flow, grade and industry, with a score above the approval cut-off
    product = CATALOGUE.product(product_code)
    term = min(max(term, product.min_term_months), product.max_term_months)
    request, net = Money(amount_fen), Money(amount_fen * cover_percent // (100 * term))
    business = product.borrower == "business"
    app = application(
        product=product_code,
        amount=str(request),
        term_months=term,
        industry=industry if business else None,
        business_registered_on=date(2025, 6, 1) if business else None,
    )

    # When decided
    decision = run(app, outcome=score(700, grade), business=assessment(str(net)))

    # Then it is an approval, or a decline for want of cash flow, size or a lawful price
    if decision.outcome is Outcome.DECLINE:
        event(f"decline by {decision.rule.value}")
        assert decision.rule in {Rule.DSCR_BELOW_FLOOR, Rule.LIMIT_BELOW_PRODUCT_MINIMUM, Rule.RATE_CAP_EXCEEDED}
        return
    assert decision.outcome is Outcome.APPROVE
    terms = decision.terms
    assert terms is not None
    # And the limit lies within the product's range and never above the request
    assert product.min_amount <= terms.limit <= product.max_amount
    assert terms.limit <= request
    # And the cash flow covers the largest payment at least min_dscr times
    payment = largest_payment(decision)
    assert net.to_decimal() / payment.to_decimal() >= product.min_dscr
    # And the disclosed APR is within the cap
    assert terms.apr.quantize(DISCLOSURE_PLACES) <= CATALOGUE.rate_cap.annual_rate
    if terms.limit_basis is LimitBasis.CASH_FLOW:
        # And a limit set by cash flow is a whole 100, and 100 more would break the floor
        assert terms.limit.fen % 10_000 == 0
        bigger = terms.limit + Money.of(100)
        if terms.offer is None:
            more = annuity_instalment(bigger, monthly_rate(terms.annual_rate), term)
        else:
            method = terms.offer.schedule.method
            offer = make_offer(CATALOGUE, product_code, bigger, term, method, DECIDED_ON, terms.annual_rate)
            more = max(instalment.total for instalment in offer.schedule.instalments)
        coverage = (net.to_decimal() / more.to_decimal()).quantize(Decimal("0.0001"), rounding=ROUND_FLOOR)
        assert coverage < product.min_dscr
    event(f"{decision.outcome.value} by {terms.limit_basis.value}")


# Malformed and incomplete inputs ----------------------------------------------------------------------------------

VALID_FACTS: dict[str, Any] = {
    "product": "business_instalment",
    "amount": "120000.00",
    "term_months": 12,
    "decided_on": "2026-01-10",
    "id_number": ID_NUMBER,
    "consent": {"credit_report": True, "data_processing": True},
    "industry": "retail",
    "business_registered_on": "2019-05-01",
}


def test_application_facts_parse_from_json_like_data() -> None:
    # Given application facts as they arrive in JSON (strings for money and dates)
    # When parsed
    app = parse_application(VALID_FACTS)
    # Then they are exact values, and the age comes from the ID number
    assert (app.amount, app.decided_on, app.age()) == (Money.of(120_000), DECIDED_ON, 40)


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"id_number": ID_NUMBER[:17] + ("1" if ID_NUMBER[17] != "1" else "2")}, "id_number", "check character"),
        ({"amount": 120000.0}, "amount", "decimal strings"),
        ({"amount": "0.00"}, "application", "positive"),
        ({"consent": {"credit_report": "yes", "data_processing": True}}, "consent.credit_report", "boolean"),
        ({"consent": {"credit_report": True}}, "consent.data_processing", "required"),
        ({"id_number": None}, "application", "age or ID number"),
        ({"applicant_age": 30}, "application", "does not agree"),
        ({"business_registered_on": "2026-02-01"}, "application", "registered after"),
        ({"term_months": 0}, "term_months", "greater than or equal to 1"),
        ({"method": "balloon"}, "method", "equal_instalment"),
        ({"unexpected": 1}, "unexpected", "not permitted"),
    ],
)
def test_malformed_application_facts_are_one_clear_error_naming_the_field(
    changes: dict[str, Any], field: str, words: str
) -> None:
    # Given application facts with one thing wrong
    facts = {**VALID_FACTS, **changes}
    # When they are parsed
    with pytest.raises(DecisionInputError) as refused:
        parse_application(facts)
    # Then the error names the field and the problem, and never quotes the ID number
    assert field in refused.value.fields
    assert words in refused.value.message
    assert ID_NUMBER[:17] not in str(refused.value)
    assert refused.value.code == "invalid_decision_input"


def test_the_identity_result_parses_the_vendors_json_number_and_refuses_nonsense() -> None:
    # Given the vendor's webhook body, where face_match is a JSON number
    identity = parse_identity({"passed": True, "face_match": 0.93, "liveness": True})
    # Then it becomes an exact decimal
    assert identity.face_match == Decimal("0.93")
    # And a face match above 1 or a missing field is refused
    with pytest.raises(DecisionInputError) as refused:
        parse_identity({"passed": True, "face_match": "1.2"})
    assert set(refused.value.fields) == {"face_match", "liveness"}


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: ScoreOutcome(0.03, 650, "B"), "probability_of_default"),  # type: ignore[arg-type]
        (lambda: ScoreOutcome(Decimal("1.2"), 650, "B"), "probability_of_default"),
        (lambda: ScoreOutcome(Decimal("0.1"), True, "B"), "score"),
        (lambda: ScoreOutcome(Decimal("0.1"), 650, ""), "grade"),
        (lambda: ScoreOutcome(Decimal("0.1"), 650, "B", [MODEL_REASONS[0]]), "reasons"),  # type: ignore[arg-type]
        (lambda: Reason("", "text", Decimal(1)), "reasons"),
        (lambda: Reason("code", "text", 1.5), "reasons"),  # type: ignore[arg-type]
    ],
)
def test_a_malformed_score_result_is_a_clear_error(build: Any, field: str) -> None:
    # Given a score result with one thing wrong
    # When it is built
    # Then the error names the field
    with pytest.raises(DecisionInputError) as refused:
        build()
    assert refused.value.fields == (field,)


def test_a_grade_the_catalogue_does_not_know_is_refused() -> None:
    # Given a model that returns grade F, which the catalogue does not price
    # When decided
    # Then it is an error naming the grade, not a decision
    with pytest.raises(DecisionInputError, match="'F'") as refused:
        run(outcome=score(700, "F"))
    assert refused.value.fields == ("grade",)


def test_a_business_product_needs_the_industry_and_registration_date() -> None:
    # Given a business loan application without industry or registration date
    # When decided
    # Then the error names both fields
    with pytest.raises(DecisionInputError) as refused:
        run(application(industry=None, business_registered_on=None))
    assert refused.value.fields == ("industry", "business_registered_on")


def test_an_unknown_industry_is_refused() -> None:
    # Given an industry the catalogue does not list
    # When decided
    # Then the error names the field
    with pytest.raises(DecisionInputError, match="mining") as refused:
        run(application(industry="mining"))
    assert refused.value.fields == ("industry",)


@pytest.mark.parametrize(
    ("changes", "error", "words"),
    [
        ({"product": "payday"}, CatalogueError, "unknown product"),
        ({"term_months": 48}, ProductRuleViolation, "3–36 months"),
        ({"method": "interest_only_grace"}, ProductRuleViolation, "does not offer"),
        ({"product": "credit_line", "method": "equal_instalment"}, ProductRuleViolation, "revolving"),
    ],
)
def test_a_request_outside_the_catalogue_is_an_error_not_a_decision(
    changes: dict[str, Any], error: type[Exception], words: str
) -> None:
    # Given a product, term or method the catalogue does not offer
    # When decided
    # Then it is the catalogue's error: intake should never have let it through
    with pytest.raises(error, match=words):
        run(application(**changes))


def test_an_assessment_with_a_sharp_drop_in_electricity_reaches_an_underwriter() -> None:
    # Given a manufacturer's year of cash flow (17,750 net a month) whose power use fell to 30% in December
    lines = []
    for index in range(12):
        month = date(2025, index + 1, 1)
        lines.append(BankTransaction(month.replace(day=5), Money.of(89_000 + 2_000 * index), "sales"))
        lines.append(
            BankTransaction(month.replace(day=25), -Money.of([95_000, 92_000][index] if index < 2 else 80_000))
        )
    statement = BankStatement(date(2025, 1, 1), date(2025, 12, 31), tuple(lines))
    kwh = [8_900 + 200 * index for index in range(11)] + [3_000]
    power = ElectricityUse(tuple(MeterReading(date(2025, i + 1, 1), Decimal(v)) for i, v in enumerate(kwh)))
    business = assess_business(statement, [], policy=POLICY, industry="manufacturing", sources=[power])

    # When a strong application is decided on that assessment
    decision = run(application(industry="manufacturing"), business=business)

    # Then a person decides, told about the drop
    assert (decision.outcome, decision.rule) == (Outcome.REFER, Rule.BUSINESS_ASSESSMENT_FINDINGS)
    assert "electricity_sharp_drop" in codes(decision)
    assert decision.terms is not None
    assert decision.affordability is not None
    assert decision.affordability.average_monthly_net_flow == Money.of("17750.00")
