"""What the borrower's lists show, built from stored records (nothing here reads or writes): the application and
loan summaries of a page, a loan's transactions and a line's statements (lending.history), and a page of a derived
list by offset.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from lending.api.models import (
    ApplicationSummary,
    BalancesAfterView,
    LoanSummary,
    RepaymentSplitView,
    StatementView,
    TransactionView,
)
from lending.calendar import business_date
from lending.catalogue import Catalogue
from lending.history import Movement, movements, statements
from lending.money import Money, total
from lending.serviced_loan import ServicedLoan
from lending.servicing import LoanTerms, Position
from lending.steps.views import application_view, balances, position_on


def application_summary(application: dict[str, Any]) -> ApplicationSummary:
    """An application as the list shows it (from the index's projection: no personal data is read)."""
    return ApplicationSummary(
        application_id=application["application_id"],
        status=application["status"],
        product=application["product"],
        amount=str(Money.of(str(application["amount"]))),
        created_at=application["created_at"],
        loan_id=application.get("loan_id"),
        offer=application_view(application).offer,
    )


def _next_due_amount(position: Position) -> Money | None:
    """What is still unpaid of the row falling due on the next due date (a line: the statement, once made)."""
    for row in position.schedule:
        if row.due_date == position.next_due_on and not row.paid:
            owed = total([row.principal, row.interest, row.fee])
            return owed - row.principal_paid - row.interest_paid - row.fee_paid
    return None


def loan_summary(record: dict[str, Any], catalogue: Catalogue, on: date | None = None) -> LoanSummary:
    """A loan or line with its balances as of ``on`` (today), replayed from the item as GET /v1/loans/{id} does."""
    position = position_on(ServicedLoan.parse(record), catalogue, on)
    due = _next_due_amount(position)
    return LoanSummary(
        **balances(record, position),
        opened_at=str(record["opened_at"]),
        next_due_amount=None if due is None else str(due),
    )


def _transaction_view(movement: Movement) -> TransactionView:
    b, s = movement.balances, movement.split
    return TransactionView(
        id=movement.id,
        kind=movement.kind.value,
        effective_on=movement.effective_on,
        amount=str(movement.amount),
        split=None
        if s is None
        else RepaymentSplitView(
            penalty=str(s.penalty),
            fees=str(s.fees),
            interest=str(s.interest),
            principal=str(s.principal),
            credit=str(s.credit),
        ),
        balances_after=BalancesAfterView(
            principal_outstanding=str(b.principal),
            interest_accrued=str(b.interest),
            fees_accrued=str(b.fees),
            penalty_accrued=str(b.penalty),
            credit_balance=str(b.credit),
        ),
    )


def _walked(loan: ServicedLoan, catalogue: Catalogue, on: date | None) -> tuple[LoanTerms, date]:
    """The loan's terms and the day its history runs through: today, or the day it was aged or paid through."""
    return LoanTerms.from_record(loan.record, catalogue), loan.through(loan.events, on or business_date())


def loan_transactions(loan: ServicedLoan, catalogue: Catalogue, on: date | None = None) -> list[TransactionView]:
    """Every money movement on the loan through today, oldest first (lending.history)."""
    terms, through = _walked(loan, catalogue, on)
    return [_transaction_view(m) for m in movements(terms, loan.record, loan.events, through)]


def is_line(loan: ServicedLoan, catalogue: Catalogue) -> bool:
    return catalogue.product(str(loan.record["product"])).kind == "revolving"


def line_statements(loan: ServicedLoan, catalogue: Catalogue, on: date | None = None) -> list[StatementView]:
    """A line's statements made through today, newest first, each with what is still unpaid of it."""
    terms, through = _walked(loan, catalogue, on)
    made = statements(terms, loan.events, through)
    return [
        StatementView(
            number=s.number,
            period_start=s.period_start,
            period_end=s.period_end,
            opening_balance=str(s.opening_balance),
            drawn=str(s.drawn),
            repaid=str(s.repaid),
            interest=str(s.interest),
            penalty=str(s.penalty),
            closing_balance=str(s.closing_balance),
            minimum_due=str(s.minimum_due),
            due_date=s.due_date,
            unpaid=str(s.unpaid),
            paid=s.paid,
        )
        for s in reversed(made)
    ]


def offset_page[T](items: Sequence[T], limit: int, offset: int) -> tuple[list[T], int | None]:
    """``limit`` items from ``offset`` of a list derived whole, and the offset of the next page (None at the end)."""
    page = list(items[offset : offset + limit])
    following = offset + limit
    return page, following if following < len(items) else None
