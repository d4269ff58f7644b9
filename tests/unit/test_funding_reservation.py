"""The funding reservation, one function for a loan and for a drawdown: shares chosen once, each bounded by its
source's quota, and a retry that finds the reservation keeps it as it was."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from lending import bookkeeping
from lending.funding import OWN_CAPITAL, FundingSources, OwnCapital, PartnerLine, reserve_funding_shares
from lending.ledger import Ledger, Transaction
from lending.money import Money

BANK = "partner:bank_a"
SOURCES = FundingSources(
    version="test",
    currency="CNY",
    own_capital=OwnCapital(name="own", quota=Money.of("1000000.00")),
    partners=(PartnerLine(id=BANK, name="bank", quota=Money.of("500000.00"), share=Decimal("0.70")),),
)
ON = date(2026, 3, 2)


class BoundedLedger(Ledger):
    """The in-memory ledger, remembering the bounds each reservation was made under."""

    def __init__(self) -> None:
        super().__init__()
        self.bounds: dict[str, Any] = {}

    def reserve(self, transaction: Transaction, bounds: Any = None) -> bool:
        self.bounds[transaction.id] = bounds
        return super().reserve(transaction)

    def transaction(self, transaction_id: str) -> Transaction | None:
        for entry in self.journal:
            if entry.kind in ("posted", "pending") and entry.transaction.id == transaction_id:
                return entry.transaction
        return None


def test_a_reservation_holds_each_share_bounded_by_its_sources_quota() -> None:
    # Given a ledger with nothing lent yet
    ledger = BoundedLedger()
    # When 100,000.00 is reserved for a loan
    shares = reserve_funding_shares(ledger, "app-1/funding", "app-1", Money.of("100000.00"), SOURCES, ON)
    # Then the partner takes its share, own capital the rest, held (pending) under the reservation's id
    assert shares == {BANK: Money.of("70000.00"), OWN_CAPITAL: Money.of("30000.00")}
    assert ledger.is_pending("app-1/funding")
    assert ledger.pending_balance(bookkeeping.funding_source(BANK)) == -Money.of("70000.00")
    assert ledger.bounds["app-1/funding"] == {
        bookkeeping.funding_source(BANK): Money.of("500000.00"),
        bookkeeping.funding_source(OWN_CAPITAL): Money.of("1000000.00"),
    }


def test_what_is_lent_or_held_counts_against_the_next_reservation() -> None:
    # Given the partner's quota nearly all held by an earlier reservation
    ledger = BoundedLedger()
    reserve_funding_shares(ledger, "app-1/funding", "app-1", Money.of("700000.00"), SOURCES, ON)
    # When another loan is reserved
    shares = reserve_funding_shares(ledger, "app-2/funding", "app-2", Money.of("100000.00"), SOURCES, ON)
    # Then the partner cannot take part (70,000.00 is over what it has left) and own capital funds it all
    assert shares == {OWN_CAPITAL: Money.of("100000.00")}


def test_a_retry_keeps_the_reservation_made_before_with_its_shares_and_its_date() -> None:
    # Given a reservation made yesterday with own capital alone
    ledger = BoundedLedger()
    yesterday = date(2026, 3, 1)
    made = bookkeeping.funding_reservation("dd_1/funding", "LINE-1", {OWN_CAPITAL: Money.of("1000.00")}, yesterday)
    ledger.reserve(made)
    # When the step is retried today, when a fresh choice would bring the partner in
    shares = reserve_funding_shares(ledger, "dd_1/funding", "LINE-1", Money.of("1000.00"), SOURCES, ON)
    # Then it answers the shares reserved, and reserves nothing more
    assert shares == {OWN_CAPITAL: Money.of("1000.00")}
    assert [entry.transaction for entry in ledger.journal] == [made]
    assert ledger.pending_balance(bookkeeping.funding_source(BANK)) == Money.ZERO
