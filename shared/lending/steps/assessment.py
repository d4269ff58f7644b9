"""Assessment: credit scoring and the business assessment (run side by side), then the decision.

Each step reads the application, fetches what it needs from a vendor, stores its result on the application and
returns a small summary to the workflow. The business assessment keeps the statement and filings it judged, so the
decision re-runs the same pure assessment and nothing is restated.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any, Protocol

from lending import clock
from lending.applicant import APPLICANT_FIELDS, PERSON_FIELDS, Applicant, Person
from lending.calendar import business_date
from lending.catalogue import Catalogue
from lending.money import Money
from lending.origination import Status
from lending.prc_id import age_on
from lending.risk.business_assessment import assess_business
from lending.risk.cash_flow import BankStatement, BankTransaction
from lending.risk.decision import decide, decide_before_assessment
from lending.risk.facts import ScoreOutcome, parse_application, parse_identity
from lending.risk.outcome import Decision, Outcome
from lending.risk.policy import DecisionPolicy
from lending.risk.tax import TaxFiling
from lending.scoring.engine import score_beside, score_json, to_outcome
from lending.scoring.features import SCORABLE_AGES, BureauFacts
from lending.scoring.scores import ModelReason, ModelScore
from lending.steps.ports import Applications, Audit, Decrypt

if TYPE_CHECKING:  # the model (onnxruntime, numpy) is the scoring function's alone: the decision never scores
    from lending.scoring.model import CreditModel


class BureauReport(Protocol):
    def facts(self) -> BureauFacts: ...


class Bureau(Protocol):
    def fetch_report(self, applicant: Person, consent_reference: str) -> BureauReport: ...


class BankData(Protocol):
    def fetch_statements(self, bank_account: str, months: int = 12, *, holder: Person) -> BankStatement: ...
    def fetch_tax_filings(self, holder: Person, tax_id: str | None = None) -> list[TaxFiling]: ...


def _start_assessing(applications: Applications, application_id: str) -> dict[str, Any]:
    application = applications.get(application_id)
    if application["status"] != Status.ASSESSING.value:
        applications.move(application_id, Status.ASSESSING)
    return application


def score_credit(
    application_id: str,
    *,
    applications: Applications,
    audit: Audit,
    bureau: Bureau,
    decrypt: Decrypt,
    model: CreditModel,
    challenger: CreditModel | None = None,
) -> dict[str, Any]:
    """Fetch the bureau report (only with consent) and score it; stores the score on the application, and the
    challenger's beside it (shadow scoring: the decision reads only ``score``) with the bin of each model input."""
    application = _start_assessing(applications, application_id)
    if not application["consent"]["credit_report"]:
        return {"scored": False, "reason": "consent_missing"}
    applicant = Person.model_validate(decrypt(application_id, application["pii"], PERSON_FIELDS))
    scored_on = business_date()
    age = age_on(applicant.id_number, scored_on)
    if age not in SCORABLE_AGES:
        # Outside every product's age range: the decision declines on age without a score, and nobody's credit
        # report is pulled for an application that cannot be granted.
        return {"scored": False, "reason": "applicant_age_outside_range"}
    report = bureau.fetch_report(applicant, application_id)
    scored = score_beside(
        model, challenger, Money.of(application["amount"]), int(application["term_months"]), age, report.facts()
    )
    result = scored.champion
    fields: dict[str, Any] = {
        "score": {**score_json(result), "model_sha256": model.sha256, "scored_on": scored_on.isoformat()}
    }
    audited: dict[str, Any] = {"model_id": result.model_id, "score": result.score, "grade": result.grade}
    if challenger is not None and scored.challenger is not None:
        shadow = scored.challenger
        fields["challenger_score"] = {**score_json(shadow), "model_sha256": challenger.sha256}
        audited["challenger"] = {"model_id": shadow.model_id, "score": shadow.score, "grade": shadow.grade}
    elif challenger is not None:
        # Shadow scoring failed: the application goes on with the champion's score, and the trail says why the
        # month's report will miss this one's challenger score.
        audited["challenger"] = {"model_id": challenger.model_id, "failed": scored.challenger_failed}
    if scored.feature_bins is not None:
        # The bins of the applicant's inputs on the champion card's training sample, for the monthly stability
        # report: coarse enough to keep no bureau figure on the application.
        fields["feature_bins"] = {"model_id": result.model_id, "bins": scored.feature_bins}
    applications.set_fields(application_id, fields)
    audit.append(application_id, "credit_scored", clock.now(), audited)
    return {"scored": True, "score": result.score, "grade": result.grade}


def _statement_json(statement: BankStatement) -> dict[str, Any]:
    return {
        "period_start": statement.period_start.isoformat(),
        "period_end": statement.period_end.isoformat(),
        "transactions": [[t.on.isoformat(), str(t.amount), t.category] for t in statement.transactions],
    }


def _statement(raw: dict[str, Any]) -> BankStatement:
    return BankStatement(
        date.fromisoformat(raw["period_start"]),
        date.fromisoformat(raw["period_end"]),
        tuple(
            BankTransaction(date.fromisoformat(on), Money.of(amount), category)
            for on, amount, category in raw["transactions"]
        ),
    )


def _filings(raw: list[list[str]]) -> list[TaxFiling]:
    return [
        TaxFiling(date.fromisoformat(start), date.fromisoformat(end), Money.of(amount)) for start, end, amount in raw
    ]


def assess_cash_flow(
    application_id: str,
    *,
    applications: Applications,
    audit: Audit,
    bank_data: BankData,
    decrypt: Decrypt,
    policy: DecisionPolicy,
) -> dict[str, Any]:
    """Fetch 12 months of statements and the tax filings (only with consent) and assess the business on them."""
    application = _start_assessing(applications, application_id)
    if not application["consent"]["data_processing"]:
        return {"assessed": False, "reason": "consent_missing"}
    holder = Applicant.model_validate(decrypt(application_id, application["pii"], APPLICANT_FIELDS))
    statement = bank_data.fetch_statements(holder.bank_account, 12, holder=holder)
    filings = bank_data.fetch_tax_filings(holder)
    assessment = assess_business(statement, filings, policy=policy, industry=application["business"]["industry"])
    evidence = {
        "statement": _statement_json(statement),
        "filings": [[f.period_start.isoformat(), f.period_end.isoformat(), str(f.declared_revenue)] for f in filings],
    }
    applications.set_fields(
        application_id, {"business_assessment": assessment.to_json_dict(), "business_assessment_evidence": evidence}
    )
    audit.append(
        application_id,
        "business_assessed",
        clock.now(),
        {"months": assessment.months_covered, "findings": [f.code for f in assessment.findings]},
    )
    return {"assessed": True, "findings": len(assessment.findings)}


def _stored_score(raw: dict[str, Any]) -> ScoreOutcome:
    result = ModelScore(
        float(raw["probability_of_default"]),
        int(raw["score"]),
        raw["grade"],
        tuple(
            ModelReason(r["code"].removeprefix("model_"), r["message"], Money.of(r["points"]).to_decimal())
            for r in raw["reasons"]
        ),
        raw["model_id"],
    )
    return to_outcome(result)


def make_decision(
    application_id: str,
    identity: dict[str, Any],
    *,
    applications: Applications,
    audit: Audit,
    decrypt: Decrypt,
    catalogue: Catalogue,
    policy: DecisionPolicy,
) -> Decision:
    """Decide from the stored facts; the application moves to APPROVED, DECLINED or (via referral) waits."""
    application = applications.get(application_id)
    pii = decrypt(application_id, application["pii"], ("id_number",))
    facts = parse_application(
        {
            "product": application["product"],
            "amount": application["amount"],
            "term_months": int(application["term_months"]),
            "method": application.get("method"),
            "decided_on": business_date().isoformat(),
            "id_number": pii["id_number"],
            "consent": application["consent"],
            "human_review_requested": bool(application.get("human_review", False)),
            "industry": application["business"]["industry"],
            "business_registered_on": application["business"]["registered_on"],
        }
    )
    verdict = parse_identity(
        {"passed": identity["passed"], "face_match": identity["face_match"], "liveness": identity["liveness"]}
    )
    decision = decide_before_assessment(facts, verdict, catalogue=catalogue, policy=policy)
    if decision is None:
        if "score" not in application or "business_assessment_evidence" not in application:
            raise MissingAssessment(f"application {application_id} has no score or business assessment to decide on")
        evidence = application["business_assessment_evidence"]
        assessment = assess_business(
            _statement(evidence["statement"]),
            _filings(evidence["filings"]),
            policy=policy,
            industry=application["business"]["industry"],
        )
        score = _stored_score(application["score"])
        decision = decide(facts, verdict, score, assessment, catalogue=catalogue, policy=policy)
    record = decision.to_json_dict()
    if decision.outcome is Outcome.APPROVE:
        applications.move(application_id, Status.APPROVED, {"decision": record})
    elif decision.outcome is Outcome.DECLINE:
        applications.move(application_id, Status.DECLINED, {"decision": record})
    else:
        applications.set_fields(application_id, {"decision": record})
    audit.append(
        application_id,
        "decided",
        clock.now(),
        {"outcome": decision.outcome.value, "rule": decision.rule.value},
    )
    return decision


class MissingAssessment(Exception):
    """The decision ran without the assessment it needs (a workflow wiring fault, not a borrower's)."""
