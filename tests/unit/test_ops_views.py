"""What the operations API answers, from its collaborators' reads (fakes here): funding, the kept report, a loan."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from lending.catalogue import Method, load_catalogue
from lending.errors import LoanNotFound, ReportNotFound
from lending.funding import load_funding_sources
from lending.money import Money
from lending.pricing import make_offer
from lending.reconciliation import Report
from lending.servicing import schedule_record
from lending.steps.operations import (
    funding_view,
    keep_report,
    ops_loan_view,
    reconciliation_date_for,
    reconciliation_view,
)

CATALOGUE = load_catalogue()
SOURCES = load_funding_sources()
OPENED = date(2026, 1, 10)
PII = {"name": "李华", "id_number": "110101198505050123", "phone": "+8613800000001", "bank_account": "6222020000005678"}


class Reports:
    def __init__(self, *records: dict[str, Any]) -> None:
        self.records = {r["close_date"]: r for r in records}

    def put(self, record: dict[str, Any]) -> None:
        self.records[record["close_date"]] = record

    def get(self, day: date) -> dict[str, Any] | None:
        return self.records.get(day.isoformat())

    def latest(self) -> dict[str, Any] | None:
        return self.records[max(self.records)] if self.records else None


def _kept(day: str, outstanding: dict[str, str]) -> dict[str, Any]:
    return {"close_date": day, "sources": [{"source": s, "outstanding": o} for s, o in outstanding.items()]}


def test_funding_shows_each_source_from_its_ledger_balances_before_any_report() -> None:
    # Given own capital lent 3,600.00 and bank A 8,400.00, and 1,000.00 of bank A held for a payout on its way
    balances = {
        "own_capital": (Money.of("-3600.00"), Money.ZERO),
        "partner:bank_a": (Money.of("-8400.00"), Money.of("-1000.00")),
    }
    view = funding_view(SOURCES, balances, None).model_dump(mode="json")
    own, bank_a, bank_b = view["sources"]
    assert (own["source"], own["kind"], own["co_lending_share"]) == ("own_capital", "own_capital", None)
    assert (own["quota"], own["posted"], own["reserved"], own["available"]) == (
        "50000000.00",
        "3600.00",
        "0.00",
        "49996400.00",
    )
    assert (bank_a["co_lending_share"], bank_a["posted"], bank_a["reserved"], bank_a["available"]) == (
        "0.7000",
        "8400.00",
        "1000.00",
        "29990600.00",
    )
    # A source never used stands at its quota
    assert (bank_b["posted"], bank_b["available"]) == ("0.00", "20000000.00")
    # And with no report kept yet, no shares of the book
    assert (view["book_as_of"], view["principal_outstanding"], own["share_of_book"]) == (None, None, None)


def test_the_books_shares_are_the_latest_reports() -> None:
    latest = _kept("2026-03-15", {"own_capital": "3000.00", "partner:bank_a": "7000.00"})
    view = funding_view(SOURCES, {}, latest).model_dump(mode="json")
    assert (view["book_as_of"], view["principal_outstanding"]) == ("2026-03-15", "10000.00")
    assert [(s["principal_outstanding"], s["share_of_book"]) for s in view["sources"]] == [
        ("3000.00", "0.3000"),
        ("7000.00", "0.7000"),
        ("0.00", "0.0000"),
    ]


def test_a_day_without_a_report_is_not_found_and_no_date_means_the_latest() -> None:
    reports = Reports()
    with pytest.raises(ReportNotFound):
        reconciliation_view(None, reports=reports)
    with pytest.raises(ReportNotFound):
        reconciliation_view(date(2026, 3, 15), reports=reports)


def test_the_run_reconciles_the_business_day_before_it_fired() -> None:
    # 02:30 China time on 16 March is 18:30 UTC on the 15th
    assert reconciliation_date_for({"time": "2026-03-15T18:30:00Z"}) == date(2026, 3, 15)
    assert reconciliation_date_for({"close_date": "2026-03-01", "time": "2026-03-15T18:30:00Z"}) == date(2026, 3, 1)


def test_keeping_a_report_twice_keeps_one_report_for_the_day() -> None:
    report = Report(date(2026, 3, 15), Money.ZERO, [], [], [], {"current": (0, Money.ZERO)})
    reports = Reports()
    first = keep_report(report, reports=reports)
    assert keep_report(report, reports=reports) == first
    assert list(reports.records) == ["2026-03-15"]
    assert first == {
        "close_date": "2026-03-15",
        "balanced": True,
        "loan_problems": 0,
        "sources_unbalanced": 0,
        "accounts_differing": 0,
    }


class Records:
    def __init__(self, **records: dict[str, Any]) -> None:
        self.records = records

    def get(self, record_id: str, /) -> dict[str, Any]:
        if record_id not in self.records:
            raise LoanNotFound(f"no {record_id}")
        return self.records[record_id]


def _loan(servicing: dict[str, Any] | None = None) -> dict[str, Any]:
    offer = make_offer(
        CATALOGUE, "business_instalment", Money.of("12000.00"), 6, Method.EQUAL_INSTALMENT, OPENED, Decimal("0.12")
    )
    return {
        "loan_id": "L-1",
        "application_id": "A-1",
        "borrower_id": "borrower-1",
        "product": "business_instalment",
        "kind": "instalment",
        "opened_on": OPENED.isoformat(),
        "opened_at": "2026-01-10T02:00:00+00:00",
        "annual_rate": "0.1200",
        "term_months": 6,
        "principal": "12000.00",
        "method": "equal_instalment",
        "schedule": schedule_record(offer.schedule),
        "funding": {"reservation_id": "A-1/funding", "shares": {"own_capital": "3600.00", "partner:bank_a": "8400.00"}},
        **({"servicing": servicing} if servicing else {}),
    }


def _decrypt(record_id: str, ciphertexts: Any, fields: tuple[str, ...]) -> dict[str, str]:
    assert (record_id, ciphertexts) == ("A-1", {"phone": b"sealed"})
    return {field: PII[field] for field in fields}


def test_a_loan_as_operations_see_it_is_the_borrowers_view_masked_with_its_funding() -> None:
    loans, applications = Records(**{"L-1": _loan()}), Records(**{"A-1": {"pii": {"phone": b"sealed"}}})
    view = ops_loan_view("L-1", loans=loans, applications=applications, decrypt=_decrypt, catalogue=CATALOGUE)
    shown = view.model_dump(mode="json")
    assert shown["borrower"] == {
        "borrower_id": "borrower-1",
        "name": "李*",
        "id_number": "110***********0123",
        "phone": "138****0001",
        "bank_account": "6222****5678",
    }
    assert (shown["classification"], shown["provision"]) == (None, None)
    assert shown["funding"] == [
        {"source": "own_capital", "funded": "3600.00", "principal_outstanding": "3600.00", "share": "0.3000"},
        {"source": "partner:bank_a", "funded": "8400.00", "principal_outstanding": "8400.00", "share": "0.7000"},
    ]
    assert shown["principal_outstanding"] == "12000.00"
    for value in PII.values():
        assert value not in view.model_dump_json()


def test_a_loan_shows_the_class_and_provision_servicing_keeps() -> None:
    loan = _loan({"classification": "special_mention", "provision": "240.00", "aged_through": OPENED.isoformat()})
    loans, applications = Records(**{"L-1": loan}), Records(**{"A-1": {"pii": {"phone": b"sealed"}}})
    view = ops_loan_view("L-1", loans=loans, applications=applications, decrypt=_decrypt, catalogue=CATALOGUE)
    assert (view.classification, view.provision) == ("special_mention", "240.00")


def test_an_unknown_loan_is_not_found() -> None:
    with pytest.raises(LoanNotFound):
        ops_loan_view("L-9", loans=Records(), applications=Records(), decrypt=_decrypt, catalogue=CATALOGUE)
