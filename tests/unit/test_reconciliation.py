"""The reconciliation report: it balances when the books agree and says where they do not."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from lending import bookkeeping
from lending.catalogue import Method, load_catalogue
from lending.ledger import Account, AccountCode, Ledger
from lending.money import Money
from lending.pricing import make_offer
from lending.reconciliation import LoanFacts, build_report, split
from lending.servicing import EventKind, LoanTerms, ServicingEvent, difference, replay, schedule_record

CATALOGUE = load_catalogue()
OPENED = date(2026, 1, 10)
SHARES = {"own_capital": Money.of("3600.00"), "partner:bank_a": Money.of("8400.00")}


def _record() -> dict[str, Any]:
    offer = make_offer(
        CATALOGUE, "business_instalment", Money.of("12000.00"), 6, Method.EQUAL_INSTALMENT, OPENED, Decimal("0.12")
    )
    return {
        "loan_id": "L-1",
        "product": "business_instalment",
        "kind": "instalment",
        "opened_on": OPENED.isoformat(),
        "annual_rate": "0.1200",
        "term_months": 6,
        "principal": "12000.00",
        "method": "equal_instalment",
        "schedule": schedule_record(offer.schedule),
    }


def _books(events: list[ServicingEvent], through: date) -> tuple[Ledger, LoanFacts]:
    """A ledger holding the loan's funding, disbursement and servicing, and the loan's facts."""
    record = _record()
    ledger = Ledger()
    ledger.reserve(bookkeeping.funding_reservation("F", "L-1", SHARES, OPENED))
    ledger.post_pending("F", "F/post")
    ledger.record(bookkeeping.disbursement("D", "L-1", Money.of("12000.00"), Money.of("120.00"), OPENED))
    position = replay(LoanTerms.from_record(record, CATALOGUE), events, through)
    servicing = difference("S", "servicing", through, {}, position.booked, "all of it")
    if servicing is not None:
        ledger.record(servicing)
    return ledger, LoanFacts("L-1", record, tuple(events), through, (SHARES,))


def _pay(event_id: str, amount: str, day: date) -> ServicingEvent:
    return ServicingEvent(
        event_id, EventKind.REPAYMENT, datetime(day.year, day.month, day.day, 2, tzinfo=UTC), Money.of(amount)
    )


def test_books_that_agree_balance_and_split_principal_by_funding_share() -> None:
    # Given a 12,000.00 loan funded 30/70, one instalment paid and the second 5 days late
    events = [_pay("p1", "2070.58", date(2026, 2, 10))]
    ledger, facts = _books(events, date(2026, 3, 15))
    report = build_report(
        posted=dict(ledger.balances().posted),
        unbalanced_accounts=[],
        loans=[facts],
        catalogue=CATALOGUE,
        close_date=date(2026, 3, 15),
    )
    # Then it balances: each source's disbursed = outstanding + repaid
    assert report.ok, report.render()
    own = next(line for line in report.sources if line.source == "own_capital")
    assert own.disbursed == Money.of("3600.00")
    assert own.outstanding + own.repaid == own.disbursed
    assert (
        report.buckets["dpd_1_30"] == (1, Money.of("10070.57") + Money.of("0.00")) or report.buckets["dpd_1_30"][0] == 1
    )
    assert report.roll_rates() == {("dpd_1_30", "dpd_1_30"): 1.0}
    assert "BALANCED" in report.render()


def test_a_ledger_that_disagrees_with_the_loan_history_does_not_balance() -> None:
    ledger, facts = _books([_pay("p1", "2070.58", date(2026, 2, 10))], date(2026, 2, 10))
    posted = dict(ledger.balances().posted)
    # Someone posted 100.00 of principal without a payment behind it (cash and receivable both moved).
    posted[Account(AccountCode.PRINCIPAL_RECEIVABLE, "L-1")] -= 10000
    posted[Account(AccountCode.SETTLEMENT_CASH)] += 10000
    report = build_report(posted=posted, unbalanced_accounts=[], loans=[facts], catalogue=CATALOGUE)
    assert not report.ok
    assert any("L-1: ledger principal" in problem for problem in report.loan_problems)
    assert "DOES NOT BALANCE" in report.render()


def test_an_unbalanced_trial_balance_and_a_stored_balance_drift_are_reported() -> None:
    ledger, facts = _books([], OPENED)
    posted = dict(ledger.balances().posted)
    posted[Account(AccountCode.FEE_INCOME)] -= 1
    report = build_report(
        posted=posted, unbalanced_accounts=[Account(AccountCode.FEE_INCOME)], loans=[facts], catalogue=CATALOGUE
    )
    assert report.trial_balance == Money(-1)
    assert report.unbalanced_accounts == ["fee_income"]
    assert not report.ok


def test_split_keeps_every_fen() -> None:
    parts = split(Money.of("100.01"), {"a": 1, "b": 1, "c": 1})
    assert sum(p.fen for p in parts.values()) == 10001
    assert sorted(p.fen for p in parts.values()) == [3333, 3334, 3334]
