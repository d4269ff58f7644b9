"""What finance operations read about the funding sources and about one loan's funding (pure; the adapters read
the ledger and the kept reconciliation report).

- A source's position: its quota (``lending/data/funding.json``), what it has lent (the posted credit balance of
  its ledger funding account), what pending reservations hold of it, and what is left: quota - posted - reserved,
  exactly what :func:`lending.funding.allocate_funding` may still give out.
- The book's co-lending shares: each source's part of the principal outstanding, as the nightly reconciliation
  splits every loan by its funding shares (:func:`lending.reconciliation.split`), as of that report's close date.
- One loan's funding: each source's funded principal (the loan's own funding, and each booked drawdown's on a
  line), and its part of the principal outstanding now, split the same way.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from lending.drawdown import DrawdownStatus
from lending.funding import FundingSources
from lending.money import Money
from lending.reconciliation import split
from lending.serviced_loan import ServicedLoan


@dataclass(frozen=True, slots=True)
class SourcePosition:
    """One funding source's quota and use (credit amounts, positive)."""

    source: str
    name: str
    kind: str  # own_capital | partner
    co_lending_share: Decimal | None  # a partner's share of each loan it takes part in
    quota: Money
    posted: Money
    reserved: Money

    @property
    def available(self) -> Money:
        return self.quota - self.posted - self.reserved


def source_positions(sources: FundingSources, balances: Mapping[str, tuple[Money, Money]]) -> list[SourcePosition]:
    """Every configured source's position, own capital first, from its funding account's (posted, pending)
    balances, debit positive (a source in use stands below zero: funding accounts are credit-normal)."""
    zero = (Money.ZERO, Money.ZERO)
    own = sources.own_capital
    rows: list[tuple[str, str, str, Decimal | None, Money]] = [(own.id, own.name, "own_capital", None, own.quota)]
    rows += [(p.id, p.name, "partner", p.share, p.quota) for p in sources.partners]
    positions = []
    for source, name, kind, share, quota in rows:
        posted, pending = balances.get(source, zero)
        positions.append(SourcePosition(source, name, kind, share, quota, -posted, -pending))
    return positions


def book_shares(outstanding: Mapping[str, Money]) -> dict[str, Decimal]:
    """Each source's share of the book's principal outstanding (exact fractions; all zero for an empty book)."""
    whole = sum(amount.fen for amount in outstanding.values())
    return {source: Decimal(amount.fen) / whole if whole else Decimal(0) for source, amount in outstanding.items()}


def _shares(funding: Any) -> dict[str, Money]:
    return {str(source): Money.of(str(amount)) for source, amount in (funding or {}).get("shares", {}).items()}


def fundings_of(loan: ServicedLoan) -> tuple[dict[str, Money], ...]:
    """The shares of each funding booked for a loan: an instalment loan's own, and each booked drawdown's of a line
    (a drawdown still on its way, or released, funds nothing)."""
    fundings = []
    if loan.record.get("kind") != "revolving" and loan.record.get("funding"):
        fundings.append(_shares(loan.record["funding"]))
    for drawdown in loan.drawdowns.values():
        if drawdown["status"] is DrawdownStatus.BOOKED:
            fundings.append(_shares(drawdown.get("funding")))
    return tuple(fundings)


@dataclass(frozen=True, slots=True)
class FundingShare:
    """One source's part of one loan."""

    source: str
    funded: Money  # the principal it paid out for the loan
    principal_outstanding: Money  # its part of what the borrower still owes in principal
    share: Decimal  # funded / all funded


def loan_funding(loan: ServicedLoan, principal_outstanding: Money) -> list[FundingShare]:
    """Each source's part of the loan, by source id: what it funded, and its part of ``principal_outstanding``
    split by what each funded (as the reconciliation splits it)."""
    funded: Counter[str] = Counter()
    for funding in fundings_of(loan):
        for source, share in funding.items():
            funded[source] += share.fen
    parts = split(principal_outstanding, funded)
    whole = sum(funded.values())
    return [
        FundingShare(source, Money(fen), parts[source], Decimal(fen) / whole) for source, fen in sorted(funded.items())
    ]
