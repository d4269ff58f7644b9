"""A revolving credit line: draw any time within the limit, interest daily on what is drawn, repay any time.

Interest counts the day of a drawdown and not the day of repayment: the principal outstanding at the end of each day
accrues ``principal × annual / basis`` for that day, rounded half up to the fen. The available limit is the limit
less principal outstanding, so interest owed never blocks a drawdown; a frozen line allows no drawdown at all.

Statements (when the line is serviced through :meth:`CreditLine.advance_to`): on each monthly anniversary of the
opening (the day clamped to the month's end) the interest accrued and not yet stated falls due that day; on the last
one (``term_months`` after opening) the principal falls due too, no more interest accrues and no drawdown is allowed
from then on (one paid out after it, requested before, is due the day it was paid). A stated amount unpaid after its
due date is overdue: it accrues penalty interest daily at the penalty rate (the day a payment arrives counts), and
the line is past due from the oldest such statement. A repayment pays penalty first, then stated amounts oldest
first (interest, then principal), then the rest of the interest, then principal; anything beyond is the borrower's
credit balance.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from lending.calendar import add_months
from lending.errors import DrawdownRefused, InvalidAmount
from lending.money import Money, Rounding, total
from lending.rates import daily_rate

_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class LineRepayment:
    """Where a repayment on a line went: penalty, interest accrued, principal, the rest to credit."""

    interest: Money
    principal: Money
    credit: Money
    penalty: Money = Money.ZERO


@dataclass(slots=True)
class Statement:
    """What one statement date made due, and how much of it is still unpaid."""

    due_date: date
    unpaid_interest: Money
    unpaid_principal: Money

    @property
    def unpaid(self) -> Money:
        return self.unpaid_interest + self.unpaid_principal


@dataclass(slots=True)
class CreditLine:
    """The state of one revolving line."""

    line_id: str
    limit: Money
    annual_rate: Decimal
    opened_on: date
    day_count_basis: int = 360
    frozen: bool = False
    term_months: int | None = None  # None: open-ended (no maturity)
    penalty_annual_rate: Decimal = Decimal(0)
    principal_outstanding: Money = field(init=False, default=Money.ZERO)
    interest_accrued: Money = field(init=False, default=Money.ZERO)
    credit_balance: Money = field(init=False, default=Money.ZERO)
    penalty_accrued: Money = field(init=False, default=Money.ZERO)
    accrued_until: date = field(init=False)  # interest is accrued for every day before this one
    statements: list[Statement] = field(init=False, default_factory=list)
    as_of: date = field(init=False)  # statements and penalty are brought up to this day
    _statements_made: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        if not self.limit.is_positive:
            raise InvalidAmount("a line needs a positive limit")
        self.accrued_until = self.opened_on
        self.as_of = self.opened_on

    @property
    def matures_on(self) -> date | None:
        return None if self.term_months is None else add_months(self.opened_on, self.term_months)

    def statement_date(self, number: int) -> date:
        """The ``number``-th statement date (1-based): a monthly anniversary of the opening."""
        return add_months(self.opened_on, number)

    @property
    def next_statement_date(self) -> date | None:
        """The next statement this line will make (None after its last one)."""
        number = self._statements_made + 1
        if self.term_months is not None and number > self.term_months:
            return None
        return self.statement_date(number)

    def _open_statements(self) -> list[Statement]:
        return [s for s in self.statements if s.unpaid]

    def overdue(self, on: date) -> Money:
        """Stated amounts unpaid after their due date, on ``on``."""
        return total(s.unpaid for s in self.statements if s.due_date < on)

    def days_past_due(self, on: date | None = None) -> int:
        """Days since the oldest statement still unpaid fell due (0 when none is overdue)."""
        on = on or self.as_of
        open_statements = self._open_statements()
        return max((on - open_statements[0].due_date).days, 0) if open_statements else 0

    @property
    def oldest_unpaid_due_date(self) -> date | None:
        open_statements = self._open_statements()
        return open_statements[0].due_date if open_statements else None

    @property
    def is_closed(self) -> bool:
        """Matured, and nothing owed."""
        return (
            self.term_months is not None
            and self._statements_made >= self.term_months
            and not (self.principal_outstanding or self.interest_accrued or self.penalty_accrued)
        )

    def advance_to(self, on: date) -> tuple[Money, Money]:
        """Make the statements due up to ``on``, accrue penalty through ``on`` and interest for the days before it;
        returns (interest, penalty) newly accrued. Idempotent per date."""
        if on < self.as_of:
            raise ValueError(f"line {self.line_id} is already at {self.as_of}; events must be applied in date order")
        interest = penalty = Money.ZERO
        while (statement_on := self.next_statement_date) is not None and statement_on <= on:
            penalty += self._accrue_penalty(statement_on)
            interest += self.accrue_to(statement_on)
            stated = total(s.unpaid_interest for s in self.statements)
            self._statements_made += 1
            matured = self.term_months is not None and self._statements_made == self.term_months
            principal = self.principal_outstanding if matured else Money.ZERO
            self.statements.append(Statement(statement_on, self.interest_accrued - stated, principal))
        penalty += self._accrue_penalty(on)
        interest += self.accrue_to(on)
        return interest, penalty

    def _accrue_penalty(self, through: date) -> Money:
        """Daily penalty on overdue stated amounts for the days after ``as_of`` through ``through``."""
        if through <= self.as_of:
            return Money.ZERO
        rate = daily_rate(self.penalty_annual_rate, self.day_count_basis)
        accrued = Money.ZERO
        day = self.as_of + _DAY
        while day <= through:
            # Overdue amounts change only when a statement's due date passes; spans between those are constant.
            later = [s.due_date + _DAY for s in self.statements if s.due_date + _DAY > day]
            span_end = min([through, *(d - _DAY for d in later)])
            overdue = self.overdue(day)
            if overdue and rate:
                accrued += Money(overdue.times(rate, Rounding.HALF_UP).fen * ((span_end - day).days + 1))
            day = span_end + _DAY
        self.penalty_accrued += accrued
        self.as_of = through
        return accrued

    @property
    def available_limit(self) -> Money:
        """Limit less principal outstanding (never below zero)."""
        return max(self.limit - self.principal_outstanding, Money.ZERO)

    def accrue_to(self, on: date) -> Money:
        """Accrue daily interest for the days before ``on`` (none from maturity on); returns the new interest."""
        if on < self.accrued_until:
            raise ValueError(f"line {self.line_id} has accrued to {self.accrued_until}; cannot go back to {on}")
        # Interest stops at maturity: the last statement states it, and what is unpaid from then on bears penalty.
        # (Interest accrued later would never be stated, so never due: the line could not close by paying what its
        # statements ask, and the overdue principal would bear interest and penalty together, above the cap.)
        matures_on = self.matures_on
        last_day = on if matures_on is None else min(on, matures_on)
        days = max((last_day - self.accrued_until).days, 0)
        daily = self.principal_outstanding.times(daily_rate(self.annual_rate, self.day_count_basis), Rounding.HALF_UP)
        interest = Money(daily.fen * days)
        self.interest_accrued += interest
        self.accrued_until = on
        return interest

    def refusal(self, amount: Money, on: date, held: Money = Money.ZERO) -> str | None:
        """Why a drawdown of ``amount`` on ``on`` cannot be made (``held``: drawdowns already under way), or None."""
        if self.frozen:
            return f"line {self.line_id} is frozen: no drawdowns until it is brought up to date"
        matures_on = self.matures_on
        if matures_on is not None and on >= matures_on:
            return f"line {self.line_id} matured on {matures_on}: no more drawdowns"
        available = max(self.available_limit - held, Money.ZERO)
        if amount > available:
            return f"{amount} is over the available limit of {available}"
        return None

    def draw(self, amount: Money, on: date, *, check: bool = True) -> Money:
        """Draw ``amount`` on ``on``; returns the interest accrued up to that day. A refused one changes nothing.

        ``check=False`` replays a drawdown that was already paid out (its checks were made when it was requested).
        """
        if not amount.is_positive:
            raise InvalidAmount("a drawdown must be positive")
        if check and (reason := self.refusal(amount, on)) is not None:
            raise DrawdownRefused(reason)  # checked first: a refused drawdown changes nothing, accrual included
        interest = self.accrue_to(on)
        self.principal_outstanding += amount
        if self.term_months is not None and self._statements_made >= self.term_months:
            # Paid out after the last statement (requested before maturity): no statement is left to ask for it,
            # so it is due the day it was paid, and overdue from the next.
            self.statements.append(Statement(on, Money.ZERO, amount))
        return interest

    def repay(self, amount: Money, on: date) -> LineRepayment:
        """Repay on ``on``: penalty, stated amounts oldest first, the rest of the interest accrued, principal; any
        rest to the credit balance. (Bring statements and penalty up to ``on`` first with :meth:`advance_to`.)"""
        if not amount.is_positive:
            raise InvalidAmount("a repayment must be positive")
        self.accrue_to(on)
        penalty = min(amount, self.penalty_accrued)
        left = amount - penalty
        interest = principal = Money.ZERO
        for statement in self._open_statements():
            part = min(left, statement.unpaid_interest)
            statement.unpaid_interest -= part
            interest += part
            left -= part
            part = min(left, statement.unpaid_principal)
            statement.unpaid_principal -= part
            principal += part
            left -= part
        more_interest = min(left, self.interest_accrued - interest)
        interest += more_interest
        left -= more_interest
        more_principal = min(left, self.principal_outstanding - principal)
        principal += more_principal
        left -= more_principal
        self.penalty_accrued -= penalty
        self.interest_accrued -= interest
        self.principal_outstanding -= principal
        self.credit_balance += left
        return LineRepayment(interest, principal, left, penalty)
