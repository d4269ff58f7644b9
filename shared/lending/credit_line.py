"""A revolving credit line: draw any time within the limit, interest daily on what is drawn, repay any time.

Interest counts the day of a drawdown and not the day of repayment: the principal outstanding at the end of each day
accrues ``principal × annual / basis`` for that day, rounded half up to the fen. The available limit is the limit
less principal outstanding, so interest owed never blocks a drawdown; a frozen line allows no drawdown at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from lending.errors import InvalidAmount, LendingError
from lending.money import Money, Rounding
from lending.rates import daily_rate


class DrawdownRefused(LendingError):
    """A drawdown over the available limit, or on a frozen line."""

    code = "drawdown_refused"


@dataclass(frozen=True, slots=True)
class LineRepayment:
    """Where a repayment on a line went: interest accrued first, then principal, the rest to credit."""

    interest: Money
    principal: Money
    credit: Money


@dataclass(slots=True)
class CreditLine:
    """The state of one revolving line."""

    line_id: str
    limit: Money
    annual_rate: Decimal
    opened_on: date
    day_count_basis: int = 360
    frozen: bool = False
    principal_outstanding: Money = field(init=False, default=Money.ZERO)
    interest_accrued: Money = field(init=False, default=Money.ZERO)
    credit_balance: Money = field(init=False, default=Money.ZERO)
    accrued_until: date = field(init=False)  # interest is accrued for every day before this one

    def __post_init__(self) -> None:
        if not self.limit.is_positive:
            raise InvalidAmount("a line needs a positive limit")
        self.accrued_until = self.opened_on

    @property
    def available_limit(self) -> Money:
        """Limit less principal outstanding (never below zero)."""
        return max(self.limit - self.principal_outstanding, Money.ZERO)

    def accrue_to(self, on: date) -> Money:
        """Accrue daily interest for the days before ``on``; returns the new interest."""
        if on < self.accrued_until:
            raise ValueError(f"line {self.line_id} has accrued to {self.accrued_until}; cannot go back to {on}")
        days = (on - self.accrued_until).days
        daily = self.principal_outstanding.times(daily_rate(self.annual_rate, self.day_count_basis), Rounding.HALF_UP)
        interest = Money(daily.fen * days)
        self.interest_accrued += interest
        self.accrued_until = on
        return interest

    def draw(self, amount: Money, on: date) -> Money:
        """Draw ``amount`` on ``on``; returns the interest accrued up to that day. A refused one changes nothing."""
        if not amount.is_positive:
            raise InvalidAmount("a drawdown must be positive")
        if self.frozen:
            raise DrawdownRefused(f"line {self.line_id} is frozen: no drawdowns until it is brought up to date")
        if amount > self.available_limit:  # checked first: a refused drawdown changes nothing, accrual included
            raise DrawdownRefused(f"{amount} is over the available limit of {self.available_limit}")
        interest = self.accrue_to(on)
        self.principal_outstanding += amount
        return interest

    def repay(self, amount: Money, on: date) -> LineRepayment:
        """Repay on ``on``: accrued interest first, then principal, any rest to the credit balance."""
        if not amount.is_positive:
            raise InvalidAmount("a repayment must be positive")
        self.accrue_to(on)
        interest = min(amount, self.interest_accrued)
        principal = min(amount - interest, self.principal_outstanding)
        credit = amount - interest - principal
        self.interest_accrued -= interest
        self.principal_outstanding -= principal
        self.credit_balance += credit
        return LineRepayment(interest, principal, credit)
