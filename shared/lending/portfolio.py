"""The portfolio as operations read it, kept as running figures so that reading it never grows with the book.

Every loan stands in one **cell**: its product, industry, status, delinquency state (``current``, a bucket,
``closed`` or ``written_off``), grade and vintage (the month it was booked). A cell holds the number of loans in it
and their principal on the book, loss allowance and principal written off. Each write that changes a loan (its
booking, every servicing write) moves the loan's figures out of the cell it stood in and into the one it stands in
now, in the same all-or-nothing write: the cells always add up to the book.

**Roll rates** by month: the first write to a loan in a month remembers the state it started the month in; the
loan then counts in the month's roll from that state to the one it is in now. A loan nobody wrote to in a month
stayed where it was. The rate from state A to B in a month is the loans that rolled A → B over the loans in A when
the month began (taken from the last snapshot of the month before).

**Vintage curves**: for each booking month, at each month on book, the share of its loans more than 30 days past
due or written off.

The daily close writes one **snapshot** a day from the cells (their number depends on the products, industries and
months, not on the number of loans) and the previous day's snapshot (which carries the curves and the month's
starting counts). Nothing here does I/O (see lending.adapters.portfolio).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from lending.catalogue import DelinquencyBucket, LoanClass
from lending.money import Money

CURRENT, CLOSED, WRITTEN_OFF, NEW, UNGRADED = "current", "closed", "written_off", "new", "none"
_SHARE = Decimal("0.0001")


@dataclass(frozen=True, slots=True, order=True)
class Cell:
    """Where a loan stands in the portfolio."""

    product: str
    industry: str
    status: str
    state: str  # current, a delinquency bucket's code, closed or written_off
    classification: str
    vintage: str  # YYYY-MM

    @property
    def key(self) -> str:
        return "|".join((self.product, self.industry, self.status, self.state, self.classification, self.vintage))

    @classmethod
    def parse(cls, key: str) -> Cell:
        product, industry, status, state, classification, vintage = key.split("|")
        return cls(product, industry, status, state, classification, vintage)


@dataclass(frozen=True, slots=True)
class Figures:
    """What a cell holds (or what one loan adds to it), in fen."""

    loans: int = 0
    principal: int = 0
    provision: int = 0
    written_off: int = 0

    def __add__(self, other: Figures) -> Figures:
        return Figures(
            self.loans + other.loans,
            self.principal + other.principal,
            self.provision + other.provision,
            self.written_off + other.written_off,
        )

    def __neg__(self) -> Figures:
        return Figures(-self.loans, -self.principal, -self.provision, -self.written_off)

    def __bool__(self) -> bool:
        return bool(self.loans or self.principal or self.provision or self.written_off)


def standing(record: Mapping[str, Any], state: Mapping[str, Any]) -> tuple[Cell, Figures]:
    """The cell a loan stands in and what it adds there, from its record and servicing state."""
    status = str(record.get("status") or "ACTIVE")
    if status == "CLOSED":
        where = CLOSED
    elif status == "WRITTEN_OFF":
        where = WRITTEN_OFF
    else:
        where = str(state.get("bucket") or CURRENT)
    cell = Cell(
        str(record["product"]),
        str(record.get("industry") or "unknown"),
        status,
        where,
        # Graded while on the book; a closed or written-off loan is out of the five categories.
        str(state.get("classification") or LoanClass.NORMAL.value) if status == "ACTIVE" else UNGRADED,
        str(record["opened_on"])[:7],
    )
    on_book = status == "ACTIVE"
    principal = state.get("principal_outstanding", record.get("principal_outstanding")) or "0"
    figures = Figures(
        1,
        Money.of(str(principal)).fen if on_book else 0,
        Money.of(str(state.get("provision") or "0")).fen if on_book else 0,
        Money.of(str(state.get("written_off_principal") or "0")).fen,
    )
    return cell, figures


def moves(before: tuple[Cell, Figures] | None, after: tuple[Cell, Figures]) -> dict[Cell, Figures]:
    """What a write adds to each cell (a loan leaving one cell for another, or its figures changing in one)."""
    changes: dict[Cell, Figures] = defaultdict(Figures)
    if before is not None:
        changes[before[0]] += -before[1]
    changes[after[0]] += after[1]
    return {cell: figures for cell, figures in changes.items() if figures}


@dataclass(frozen=True, slots=True, order=True)
class Roll:
    """A loan's month: the state it began the month in, and the one it is in now."""

    month: str
    start: str
    now: str

    @property
    def key(self) -> str:
        return f"{self.month}|{self.start}|{self.now}"

    @classmethod
    def parse(cls, key: str) -> Roll:
        month, start, now = key.split("|")
        return cls(month, start, now)


def rolled(
    remembered: Mapping[str, Any] | None, before: str | None, after: str, month: str
) -> tuple[dict[Roll, int], dict[str, str]]:
    """The roll counts a write changes, and what the loan remembers of its month (``{"month", "start"}``).

    ``remembered``: what the loan remembered before the write; ``before``/``after``: its state before and after it
    (``before`` None: the write books it, and it counts as ``new`` in its first month)."""
    if remembered is not None and remembered.get("month") == month:
        start = str(remembered["start"])
        previous = before if before is not None else NEW
        if previous == after:
            return {}, {"month": month, "start": start}
        return {Roll(month, start, previous): -1, Roll(month, start, after): 1}, {"month": month, "start": start}
    start = before if before is not None else NEW
    return {Roll(month, start, after): 1}, {"month": month, "start": start}


def _money(fen: int) -> str:
    return str(Money(fen))


def _share(part: int, whole: int) -> str:
    return str((Decimal(part) / Decimal(whole)).quantize(_SHARE)) if whole else "0.0000"


def _months_between(start: str, end: str) -> int:
    return (int(end[:4]) - int(start[:4])) * 12 + int(end[5:7]) - int(start[5:7])


def build_snapshot(
    day: date,
    cells: Iterable[tuple[Cell, Figures]],
    rolls: Iterable[tuple[Roll, int]],
    previous: Mapping[str, Any] | None,
    buckets: Sequence[DelinquencyBucket],
) -> dict[str, Any]:
    """The day's portfolio from the cells, the month's rolls and the day before's snapshot."""
    month = day.isoformat()[:7]
    totals = Figures()
    dimensions: dict[str, dict[str, Figures]] = {
        name: defaultdict(Figures) for name in ("status", "product", "industry", "state", "classification")
    }
    vintage_loans: Counter[str] = Counter()
    vintage_bad: Counter[str] = Counter()
    late = {b.code for b in buckets if b.min_days > 30}
    for cell, figures in cells:
        if not figures:
            continue
        totals += figures
        for name, groups in dimensions.items():
            if name != "classification" or cell.classification != UNGRADED:
                groups[getattr(cell, name)] += figures
        vintage_loans[cell.vintage] += figures.loans
        if cell.state in late or cell.state == WRITTEN_OFF:
            vintage_bad[cell.vintage] += figures.loans
    state_counts = {state: figures.loans for state, figures in dimensions["state"].items()}
    # The counts the month's rates divide by: those at the end of the month before (carried while the month lasts).
    if previous is not None and previous.get("month_start", {}).get("month") == month:
        month_start = dict(previous["month_start"])
    elif previous is not None:
        month_start = {"month": month, "states": dict(previous.get("state_counts", {}))}
    else:
        month_start = {"month": month, "states": {}}
    starting: Mapping[str, int] = month_start["states"]
    rates = [
        dict(entry) for entry in (previous or {}).get("roll_rates", []) if entry["month"] != month
    ]  # earlier months, as their last day left them
    for roll, count in sorted(rolls):
        if roll.month != month or roll.start in (NEW, roll.now) or count <= 0:
            continue
        rates.append(
            {
                "month": month,
                "from_state": roll.start,
                "to_state": roll.now,
                "loans": count,
                "rate": _share(count, int(starting.get(roll.start, 0))),
            }
        )
    curves: dict[str, dict[int, str]] = {
        entry["vintage"]: {int(p["month_on_book"]): p["share_30_plus"] for p in entry["points"]}
        for entry in (previous or {}).get("vintages", [])
    }
    for vintage, loans in vintage_loans.items():
        curves.setdefault(vintage, {})[_months_between(vintage, month)] = _share(vintage_bad[vintage], loans)

    def grouped(name: str) -> dict[str, dict[str, Any]]:
        return {
            key: {
                "loans": figures.loans,
                "principal_outstanding": _money(figures.principal),
                "provision": _money(figures.provision),
                "written_off": _money(figures.written_off),
            }
            for key, figures in sorted(dimensions[name].items())
        }

    return {
        "date": day.isoformat(),
        "loans": totals.loans,
        "principal_outstanding": _money(totals.principal),
        "provisions": _money(totals.provision),
        "written_off": _money(totals.written_off),
        "by_status": grouped("status"),
        "by_product": grouped("product"),
        "by_industry": grouped("industry"),
        "buckets": grouped("state"),
        "classification": grouped("classification"),
        "roll_rates": rates,
        "vintages": [
            {
                "vintage": vintage,
                "loans": vintage_loans.get(vintage, 0),
                "points": [{"month_on_book": k, "share_30_plus": v} for k, v in sorted(points.items())],
            }
            for vintage, points in sorted(curves.items())
        ],
        "state_counts": state_counts,
        "month_start": month_start,
    }
