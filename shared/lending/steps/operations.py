"""What the operations API answers and what the nightly reconciliation keeps, from their collaborators' reads."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, Protocol

from lending.api.models import WarningView
from lending.api.ops_models import (
    FundingShareView,
    FundingSourceView,
    FundingView,
    MaskedBorrowerView,
    OpsLoanView,
    ReconciliationView,
)
from lending.applicant import APPLICANT_FIELDS
from lending.calendar import business_date
from lending.catalogue import Catalogue
from lending.errors import ReportNotFound
from lending.funding import FundingSources
from lending.masking import masked
from lending.money import Money
from lending.operations import book_shares, loan_funding, source_positions
from lending.reconciliation import RATE_PLACES, Report
from lending.serviced_loan import ServicedLoan
from lending.steps.ports import Decrypt
from lending.steps.views import loan_view, position_on


class Reports(Protocol):
    """The kept reports (lending.adapters.reconciliation_store.ReconciliationStore)."""

    def put(self, record: dict[str, Any]) -> None: ...
    def get(self, day: date) -> dict[str, Any] | None: ...
    def latest(self) -> dict[str, Any] | None: ...


class Records(Protocol):
    """Records by id, anyone's (lending.adapters' LoanRepository and ApplicationRepository ``get``)."""

    def get(self, record_id: str, /) -> dict[str, Any]: ...


def _rate(value: Decimal) -> str:
    return str(value.quantize(RATE_PLACES, rounding=ROUND_HALF_EVEN))


# ---- the nightly reconciliation


def reconciliation_date_for(event: Mapping[str, Any]) -> date:
    """The business day a run reconciles: ``close_date`` when given, else the day before the schedule fired (it
    fires after that day's close and the next morning's auto-debit, China Standard Time)."""
    if event.get("close_date"):
        return date.fromisoformat(str(event["close_date"]))
    fired = datetime.fromisoformat(str(event["time"]).replace("Z", "+00:00"))
    return business_date(fired) - timedelta(days=1)


def keep_report(report: Report, *, reports: Reports) -> dict[str, Any]:
    """Keep the day's report (a rerun of the day replaces it); what the run found."""
    record = report.to_record()
    reports.put(record)
    return {
        "close_date": record["close_date"],
        "balanced": record["balanced"],
        "loan_problems": len(record["loans"]["problems"]),
        "sources_unbalanced": sum(not line["balanced"] for line in record["sources"]),
        "accounts_differing": len(record["accounts"]["differing"]),
    }


def reconciliation_view(day: date | None, *, reports: Reports) -> ReconciliationView:
    """The report kept for ``day`` (default: the latest kept), or ReportNotFound."""
    record = reports.latest() if day is None else reports.get(day)
    if record is None:
        raise ReportNotFound("no reconciliation report is kept for that day" if day else "no report is kept yet")
    return ReconciliationView.model_validate(record)


# ---- funding


def funding_view(
    sources: FundingSources, balances: Mapping[str, tuple[Money, Money]], latest: Mapping[str, Any] | None
) -> FundingView:
    """Every source's quota, posted, reserved and available from its ledger balances; its part of the book from the
    latest kept reconciliation (``latest``: its record, or None before the first)."""
    outstanding = (
        {} if latest is None else {line["source"]: Money.of(str(line["outstanding"])) for line in latest["sources"]}
    )
    positions = source_positions(sources, balances)
    shown = {position.source: outstanding.get(position.source, Money.ZERO) for position in positions}
    shares = book_shares(shown)
    return FundingView(
        sources=[
            FundingSourceView(
                source=p.source,
                name=p.name,
                kind=p.kind,
                co_lending_share=None if p.co_lending_share is None else _rate(p.co_lending_share),
                quota=str(p.quota),
                posted=str(p.posted),
                reserved=str(p.reserved),
                available=str(p.available),
                principal_outstanding=None if latest is None else str(shown[p.source]),
                share_of_book=None if latest is None else _rate(shares[p.source]),
            )
            for p in positions
        ],
        book_as_of=None if latest is None else date.fromisoformat(str(latest["close_date"])),
        principal_outstanding=None if latest is None else str(Money(sum(m.fen for m in shown.values()))),
    )


# ---- one loan


def ops_loan_view(
    loan_id: str,
    *,
    loans: Records,
    applications: Records,
    decrypt: Decrypt,
    catalogue: Catalogue,
    warnings: Callable[[str], list[dict[str, Any]]] = lambda loan_id: [],
) -> OpsLoanView:
    """Any borrower's loan as operations sees it: the borrower's view as of today, its class and provision, each
    source's part, and the borrower's personal data masked (decrypted here, never kept or logged)."""
    loan = ServicedLoan.parse(loans.get(loan_id))
    position = position_on(loan, catalogue)
    application_id = loan.chain
    ciphertexts = applications.get(application_id)["pii"]
    person = masked(decrypt(application_id, ciphertexts, APPLICANT_FIELDS))
    return OpsLoanView(
        **loan_view(loan.record, position).model_dump(),
        application_id=application_id,
        borrower=MaskedBorrowerView(borrower_id=str(loan.record["borrower_id"]), **person),
        # The grade the daily close last gave the loan and the allowance its replay booked (lending.classification).
        classification=loan.state.get("classification"),
        provision=loan.state.get("provision"),
        funding=[
            FundingShareView(
                source=share.source,
                funded=str(share.funded),
                principal_outstanding=str(share.principal_outstanding),
                share=_rate(share.share),
            )
            for share in loan_funding(loan, position.principal_outstanding)
        ],
        warnings=[WarningView.from_record(record) for record in warnings(loan_id)],
    )
