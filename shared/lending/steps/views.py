"""What the read endpoints show, built from stored records (nothing here writes)."""

from __future__ import annotations

from collections.abc import Callable, Set
from datetime import date
from typing import Any

from lending.anchoring import Anchor
from lending.api.language import CHINESE, ENGLISH
from lending.api.models import (
    AcceptanceView,
    AnchorView,
    ApplicationView,
    AuditEventView,
    AuditView,
    ContractScheduleRow,
    ContractView,
    DecisionView,
    LoanView,
    OfferView,
    PayoffView,
    ReasonView,
    ScheduleRowView,
)
from lending.audit import AuditEvent, verify
from lending.calendar import business_date
from lending.catalogue import Catalogue
from lending.contract import Contract
from lending.errors import PayoffDateInPast
from lending.roles import UNDERWRITERS
from lending.serviced_loan import ServicedLoan
from lending.servicing import LoanTerms, Position, replay
from lending.steps.ports import AuditTrails, Loans

#: The groups whose members may read any loan's audit trail; everyone else reads only their own loans'.
AUDIT_READERS = frozenset({UNDERWRITERS})


def offer_view(offer: dict[str, Any]) -> OfferView:
    return OfferView(
        product=offer["product"],
        limit=offer["limit"],
        annual_rate=offer["annual_rate"],
        apr=offer["apr"],
        term_months=int(offer["term_months"]),
        expires_at=offer.get("expires_at"),
    )


def application_view(application: dict[str, Any]) -> ApplicationView:
    """``GET /v1/applications/{id}`` from the stored application; parts not yet known are null."""
    decision = application.get("decision")
    offer = application.get("offer")
    return ApplicationView(
        application_id=application["application_id"],
        status=application["status"],
        decision=None
        if not decision
        else DecisionView(
            outcome=decision["outcome"],
            risk_grade=decision.get("risk_grade"),
            score=int(decision["score"]) if decision.get("score") is not None else None,
            reasons=[ReasonView(code=r["code"], message=r["text"]) for r in decision.get("reasons", [])],
        ),
        offer=None if not offer else offer_view(offer),
        accepted=None
        if not application.get("accepted")
        else AcceptanceView(application_id=application["application_id"], **application["accepted"]),
        loan_id=application.get("loan_id"),
    )


def loan_view(loan: dict[str, Any], position: Position) -> LoanView:
    """``GET /v1/loans/{id}``: the loan replayed from its booking and events to today (see lending.servicing)."""
    return LoanView(
        loan_id=loan["loan_id"],
        product=loan["product"],
        status=position.status,
        as_of=position.as_of,
        principal_outstanding=str(position.principal_outstanding),
        interest_accrued=str(position.interest_accrued + position.fee_accrued),
        penalty_accrued=str(position.penalty_accrued),
        credit_balance=str(position.credit_balance),
        available_limit=None if position.available_limit is None else str(position.available_limit),
        frozen=position.frozen,
        days_past_due=position.days_past_due,
        delinquency_bucket=position.bucket,
        next_due_date=position.next_due_on,
        payoff_amount=str(position.payoff),
        schedule=[
            ScheduleRowView(
                due_date=row.due_date,
                principal=str(row.principal),
                interest=str(row.interest),
                fee=str(row.fee),
                paid=row.paid,
                principal_paid=str(row.principal_paid),
                interest_paid=str(row.interest_paid),
                fee_paid=str(row.fee_paid),
            )
            for row in position.schedule
        ],
    )


def payoff_view(loan_id: str, position: Position) -> PayoffView:
    """``GET /v1/loans/{id}/payoff?date=``: everything owed on that date, split the way a borrower reads it."""
    rest = position.payoff - position.principal_outstanding - position.penalty_accrued
    return PayoffView(
        loan_id=loan_id,
        date=position.as_of,
        amount=str(position.payoff),
        principal=str(position.principal_outstanding),
        interest_and_fees=str(rest),
        penalty=str(position.penalty_accrued),
        credit_balance=str(position.credit_balance),
    )


def position_on(loan: ServicedLoan, catalogue: Catalogue, on: date | None = None) -> Position:
    """A serviced loan replayed through ``on`` (default: today), never before the day it has already been aged or
    paid through."""
    terms = LoanTerms.from_record(loan.record, catalogue)
    return replay(terms, loan.events, loan.through(loan.events, on or business_date()))


def payoff(loan_id: str, on: date, *, load: Callable[[str], ServicedLoan], catalogue: Catalogue) -> PayoffView:
    """What repays the whole loan on ``on``: today or a later date; an earlier one is refused before the loan is
    read (what was owed on a past day is history, not a quote)."""
    if on < business_date():
        raise PayoffDateInPast("the payoff date cannot be in the past")
    return payoff_view(loan_id, position_on(load(loan_id), catalogue, on))


def audit_view(loan_id: str, events: list[AuditEvent], anchor: Anchor | None = None) -> AuditView:
    """``GET /v1/loans/{id}/audit``: the chain in order, verified end to end, with its latest sealed head."""
    broken = verify(events)
    return AuditView(
        loan_id=loan_id,
        events=[AuditEventView(**{k: v for k, v in e.to_json().items() if k != "subject"}) for e in events],
        verified=broken is None,
        first_broken_at=broken,
        anchor=None if anchor is None else AnchorView.model_validate(anchor.to_json()),
    )


def loan_audit(loan_id: str, *, reader: str, groups: Set[str], loans: Loans, audit: AuditTrails) -> AuditView:
    """The loan's audit trail for ``reader``: an underwriter reads any loan's, a borrower only their own (anyone
    else's answers as if it did not exist)."""
    loan = loans.get(loan_id) if groups & AUDIT_READERS else loans.get_owned(loan_id, reader)
    chain = loan["application_id"]
    return audit_view(loan_id, audit.events(chain), audit.anchor(chain))


def contract_view(application: dict[str, Any], contract: Contract, language: str) -> ContractView:
    """``GET …/contract``: the figures first, the text in the caller's language, and the document that is hashed."""
    document = contract.document
    return ContractView(
        contract_id=contract.contract_id,
        sha256=contract.sha256,
        language=ENGLISH if language == ENGLISH else CHINESE,
        apr=document["apr"],
        total_cost_of_credit=document["total_cost_of_credit"],
        total_interest=document["total_interest"],
        total_fees=document["total_fees"],
        total_repayable=document["total_repayable"],
        text=contract.text(language),
        offer=offer_view(application["offer"]),
        amount=document["amount"],
        term_months=document["term_months"],
        net_disbursement=document["net_disbursement"],
        schedule=[ContractScheduleRow(**row) for row in document["schedule"]],
        expires_at=document["expires_at"],
        document=dict(document),
    )
