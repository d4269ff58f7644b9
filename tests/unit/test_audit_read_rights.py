"""Who may read which audit trail: the borrower their own loans', an underwriter any loan's (a step's rule)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from lending.audit import AuditChain, AuditEvent
from lending.errors import ApplicationNotFound
from lending.steps.views import loan_audit

AT = datetime(2026, 3, 1, 2, tzinfo=UTC)


class _Loans:
    def __init__(self, *loans: dict[str, Any]) -> None:
        self.loans = {loan["loan_id"]: loan for loan in loans}

    def get(self, loan_id: str) -> dict[str, Any]:
        if loan_id not in self.loans:
            raise ApplicationNotFound(f"no loan {loan_id}")
        return self.loans[loan_id]

    def get_owned(self, loan_id: str, borrower_id: str) -> dict[str, Any]:
        loan = self.get(loan_id)
        if loan["borrower_id"] != borrower_id:
            raise ApplicationNotFound(f"no loan {loan_id}")
        return loan


class _Trails:
    def __init__(self) -> None:
        self.chain = AuditChain()
        self.chain.append("app-1", "application_received", AT, {"product": "business_instalment"})

    def events(self, subject: str) -> list[AuditEvent]:
        return [event for event in self.chain.events if event.subject == subject]

    def anchor(self, subject: str) -> None:
        return None  # not sealed yet


LOANS = _Loans({"loan_id": "L-1", "borrower_id": "borrower-1", "application_id": "app-1"})


def test_the_borrower_reads_their_own_loans_trail_verified() -> None:
    view = loan_audit("L-1", reader="borrower-1", groups=set(), loans=LOANS, audit=_Trails())
    assert [event.kind for event in view.events] == ["application_received"]
    assert view.verified is True
    assert view.anchor is None


def test_another_borrower_finds_no_such_loan() -> None:
    with pytest.raises(ApplicationNotFound):
        loan_audit("L-1", reader="borrower-2", groups={"operations"}, loans=LOANS, audit=_Trails())


def test_an_underwriter_reads_any_loans_trail() -> None:
    view = loan_audit("L-1", reader="underwriter-7", groups={"underwriters"}, loans=LOANS, audit=_Trails())
    assert view.loan_id == "L-1"
    assert len(view.events) == 1
