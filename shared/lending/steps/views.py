"""What the read endpoints show, built from stored records (nothing here writes)."""

from __future__ import annotations

from typing import Any, Protocol

from lending.api.models import (
    ApplicationView,
    AuditEventView,
    AuditView,
    DecisionView,
    LoanView,
    OfferView,
    ReasonView,
    ScheduleRowView,
)
from lending.audit import AuditEvent, verify
from lending.calendar import business_date
from lending.ledger import Account, AccountCode
from lending.money import Money


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
        offer=None
        if not offer
        else OfferView(
            product=offer["product"],
            limit=offer["limit"],
            annual_rate=offer["annual_rate"],
            apr=offer["apr"],
            term_months=int(offer["term_months"]),
        ),
        loan_id=application.get("loan_id"),
    )


class Balances(Protocol):
    def balance(self, account: Account) -> Money: ...


def loan_view(loan: dict[str, Any], ledger: Balances) -> LoanView:
    """``GET /v1/loans/{id}``: balances from the ledger, the schedule from the booked loan."""
    loan_id = loan["loan_id"]

    def owed(code: AccountCode) -> Money:
        return ledger.balance(Account(code, loan_id))

    principal = owed(AccountCode.PRINCIPAL_RECEIVABLE)
    today = business_date()
    schedule = [
        ScheduleRowView(due_date=row["due_date"], principal=row["principal"], interest=row["interest"], paid=False)
        for row in loan.get("schedule", [])
    ]
    overdue = [row.due_date for row in schedule if row.due_date < today and not row.paid]
    return LoanView(
        loan_id=loan_id,
        product=loan["product"],
        status=loan["status"],
        principal_outstanding=str(principal),
        interest_accrued=str(owed(AccountCode.INTEREST_RECEIVABLE)),
        penalty_accrued=str(owed(AccountCode.PENALTY_RECEIVABLE)),
        credit_balance=str(-owed(AccountCode.BORROWER_CREDIT)),
        available_limit=str(max(Money.of(loan["limit"]) - principal, Money.ZERO))
        if loan["kind"] == "revolving"
        else None,
        days_past_due=(today - min(overdue)).days if overdue else 0,
        schedule=schedule,
    )


def audit_view(loan_id: str, events: list[AuditEvent]) -> AuditView:
    """``GET /v1/loans/{id}/audit``: the chain in order, verified end to end."""
    broken = verify(events)
    return AuditView(
        loan_id=loan_id,
        events=[AuditEventView(**{k: v for k, v in e.to_json().items() if k != "subject"}) for e in events],
        verified=broken is None,
        first_broken_at=broken,
    )
