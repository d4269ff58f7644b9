"""A drawdown's life on a credit line: the statuses ``POST /v1/loans/{id}/drawdowns`` answers with, which status may
follow which, and what a drawdown holds against the line's available limit.

A drawdown is requested (the amount held against the limit), funded (its funding reserved), paid (disbursed to the
borrower), then booked on the line; or it fails and is released (its funding voided, its limit freed). Every step
moves it only from the statuses ``ALLOWED_FROM`` names, so a late or repeated step finds it elsewhere and leaves it.
Nothing here does I/O: the drawdown is kept on the loan (lending.serviced_loan), as a record of plain values.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import date
from enum import StrEnum
from typing import Any

from lending.calendar import add_months
from lending.money import Money
from lending.servicing import LoanTerms, Position


class DrawdownStatus(StrEnum):
    """Drawdown statuses, as the API shows them."""

    REQUESTED = "requested"
    FUNDED = "funded"
    PAID = "paid"
    BOOKED = "booked"
    FAILED = "failed"


#: For each status, the statuses a drawdown may move to it from.
ALLOWED_FROM: dict[DrawdownStatus, frozenset[DrawdownStatus]] = {
    DrawdownStatus.REQUESTED: frozenset(),
    DrawdownStatus.FUNDED: frozenset({DrawdownStatus.REQUESTED}),
    DrawdownStatus.PAID: frozenset({DrawdownStatus.FUNDED}),
    DrawdownStatus.BOOKED: frozenset({DrawdownStatus.PAID}),
    DrawdownStatus.FAILED: frozenset({DrawdownStatus.REQUESTED, DrawdownStatus.FUNDED}),
}
TERMINAL: frozenset[DrawdownStatus] = frozenset({DrawdownStatus.BOOKED, DrawdownStatus.FAILED})
#: The statuses in which the amount counts against the line's available limit (booked, it is principal drawn).
HOLDING: frozenset[DrawdownStatus] = frozenset({DrawdownStatus.REQUESTED, DrawdownStatus.FUNDED, DrawdownStatus.PAID})


def may_move(current: DrawdownStatus, target: DrawdownStatus) -> bool:
    """True when ``current`` may become ``target`` (staying put counts: retries are no-ops)."""
    return current == target or current in ALLOWED_FROM[target]


def drawdown_id_for(loan_id: str, idempotency_key: str) -> str:
    """The drawdown a request makes: one per line and Idempotency-Key, the same on every retry."""
    return "dd_" + hashlib.sha256(f"{loan_id}/{idempotency_key}".encode()).hexdigest()[:24]


def funding_id(drawdown_id: str) -> str:
    """The ledger id of the drawdown's funding reservation."""
    return f"{drawdown_id}/funding"


def held(drawdowns: Mapping[str, Mapping[str, Any]], but: str = "") -> Money:
    """What the drawdowns under way (all but ``but``) hold against the line's available limit."""
    return Money(
        sum(Money.of(str(d["amount"])).fen for i, d in drawdowns.items() if d["status"] in HOLDING and i != but)
    )


def refusal(terms: LoanTerms, position: Position, amount: Money, on: date, held: Money) -> str | None:
    """Why a drawdown cannot be made now, in words for the borrower; None when it can."""
    if terms.kind != "revolving":
        return "only a credit line can be drawn on"
    if terms.warning_frozen:
        return "drawdowns on the line are frozen after an early warning on the business; ask us to review it"
    if position.frozen:
        return "the line is frozen while a payment is overdue; bring it up to date to draw again"
    assert terms.term_months is not None
    matures_on = add_months(terms.opened_on, terms.term_months)
    if on >= matures_on:
        return f"the line matured on {matures_on}"
    available = max((position.available_limit or Money.ZERO) - held, Money.ZERO)
    if amount > available:
        return f"{amount} is over the available limit of {available}"
    return None
