"""The servicing state of an instalment loan: what is due, overdue and paid, penalty, prepayment and credit.

Rules:
- An instalment falls due on its due date and is overdue from the next day. Its interest and fee are recognised as
  receivable on the due date; paid earlier, they are income when paid.
- Interest is earned day by day over a period on the principal not yet overdue. By the day (``InterestMethod.DAILY``)
  each day earns ``balance × annual / basis``; a monthly period earns its interest evenly over its days, so a period
  run at one balance earns exactly the schedule's interest. Each accrual is rounded half up to the fen.
- Penalty interest accrues daily on overdue principal at the penalty rate / day-count basis, each day's amount
  rounded half up; the day a payment arrives counts as a day overdue.
- A payment runs down the product's waterfall over overdue instalments (oldest first) and the current one (the
  next not yet overdue); the rest prepays principal not yet due (the product chooses a shorter term or a smaller
  instalment); anything beyond all principal becomes the borrower's credit balance.
- A payment before the current instalment's due date never pays interest not yet earned: of the current
  instalment it pays only the interest earned to the payment's day (its fee falls due on the due date); the rest
  prepays principal from that day, and the current and later instalments are re-planned on the new balance — the
  current one's interest being what was earned before the payment plus what the new balance earns to its due date.
  Repaid in full, the loan owes nothing more: the current instalment's fee is not charged.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from lending.allocation import Allocation, allocate
from lending.catalogue import DEFAULT_WATERFALL, Component, EarlyRepayment, InterestMethod, Method
from lending.errors import InvalidAmount
from lending.money import CONTEXT, Money, Rounding, total
from lending.rates import daily_rate, monthly_rate
from lending.restructuring import RestructuredPlan, Standing
from lending.schedule import Instalment, Schedule, annuity_instalment, reschedule_after_prepayment

_DAY = timedelta(days=1)

#: For each component of an instalment: does it pay overdue rows or the current one, and which amount.
_TARGETS: dict[Component, tuple[bool, str]] = {
    Component.OVERDUE_FEE: (True, "fee"),
    Component.OVERDUE_INTEREST: (True, "interest"),
    Component.OVERDUE_PRINCIPAL: (True, "principal"),
    Component.CURRENT_FEE: (False, "fee"),
    Component.CURRENT_INTEREST: (False, "interest"),
    Component.CURRENT_PRINCIPAL: (False, "principal"),
}


@dataclass(slots=True)
class InstalmentState:
    """A planned instalment and what is still unpaid on it (kept as running amounts: reads are hot).

    Its period runs from ``period_start`` (the previous due date, or the payout) to its due date. Interest earned
    in it before ``accrual_start`` (the last prepayment's day) is ``earned_before``; from then to the due date the
    balance in force earns ``projected`` — together, the plan's interest.
    """

    plan: Instalment
    period_start: date
    due_date: date = field(init=False)
    unpaid_principal: Money = field(init=False)
    unpaid_interest: Money = field(init=False)
    unpaid_fee: Money = field(init=False)
    recognised: bool = False
    accrual_start: date = field(init=False)
    earned_before: Money = field(init=False, default=Money.ZERO)
    # After a restructure (lending.restructuring): interest spread into this row (earned before its period, so
    # counted in ``earned_before``), and what of the row's interest and fee was recognised before it (unpaid).
    deferred: Money = field(init=False, default=Money.ZERO)
    carried_interest: Money = field(init=False, default=Money.ZERO)
    carried_fee: Money = field(init=False, default=Money.ZERO)

    def __post_init__(self) -> None:
        self.due_date = self.plan.due_date
        self.unpaid_principal = self.plan.principal
        self.unpaid_interest = self.plan.interest
        self.unpaid_fee = self.plan.fee
        self.accrual_start = self.period_start

    def pay_interest(self, paid: Money) -> tuple[Money, Money]:
        """Pay ``paid`` of the row's interest: (of it receivable, of it income on receipt); carried goes first."""
        self.unpaid_interest -= paid
        if self.recognised:
            return paid, Money.ZERO
        carried = min(paid, self.carried_interest)
        self.carried_interest -= carried
        return carried, paid - carried

    def pay_fee(self, paid: Money) -> tuple[Money, Money]:
        """Pay ``paid`` of the row's fee: (of it receivable, of it income on receipt); carried goes first."""
        self.unpaid_fee -= paid
        if self.recognised:
            return paid, Money.ZERO
        carried = min(paid, self.carried_fee)
        self.carried_fee -= carried
        return carried, paid - carried

    @property
    def settled(self) -> bool:
        return not (self.unpaid_principal.fen or self.unpaid_interest.fen or self.unpaid_fee.fen)

    @property
    def principal_paid(self) -> Money:
        return self.plan.principal - self.unpaid_principal

    @property
    def interest_paid(self) -> Money:
        return self.plan.interest - self.unpaid_interest

    @property
    def fee_paid(self) -> Money:
        return self.plan.fee - self.unpaid_fee

    @property
    def unpaid_deferred(self) -> Money:
        """The spread interest still unpaid (a row's interest payments pay it first)."""
        return max(self.deferred - self.interest_paid, Money.ZERO)

    @property
    def remaining(self) -> Instalment:
        """The instalment as it stands: its unpaid amounts, less what a restructure spread into it."""
        return Instalment(
            self.plan.number,
            self.due_date,
            self.unpaid_principal,
            self.unpaid_interest - self.unpaid_deferred,
            self.unpaid_fee - self.carried_fee,
        )

    @property
    def projected(self) -> Money:
        """What the balance in force earns from ``accrual_start`` to the due date."""
        return self.plan.interest - self.earned_before


def _states(instalments: Sequence[Instalment], period_start: date) -> list[InstalmentState]:
    """Rows for planned instalments, each period starting where the one before it fell due."""
    rows: list[InstalmentState] = []
    start = period_start
    for instalment in instalments:
        rows.append(InstalmentState(instalment, start))
        start = instalment.due_date
    return rows


@dataclass(frozen=True, slots=True)
class Recognised:
    """Interest, fee and penalty that became receivable while the loan advanced to a date."""

    interest: Money = Money.ZERO
    fee: Money = Money.ZERO
    penalty: Money = Money.ZERO

    def __bool__(self) -> bool:
        return bool(self.interest or self.fee or self.penalty)


@dataclass(frozen=True, slots=True)
class PaymentApplied:
    """How one payment changed the loan, split the way the ledger needs it."""

    allocation: Allocation
    principal: Money
    interest_receivable: Money  # interest already recognised, now collected
    interest_earned: Money  # interest paid before its due date: income on receipt
    fee_receivable: Money
    fee_earned: Money
    penalty: Money
    credit: Money


@dataclass(slots=True)
class InstalmentLoan:
    """An instalment loan being serviced; advance it through time and apply payments in date order."""

    loan_id: str
    schedule: Schedule
    penalty_annual_rate: Decimal
    day_count_basis: int = 360
    waterfall: tuple[Component, ...] = DEFAULT_WATERFALL
    early_repayment: EarlyRepayment = EarlyRepayment.SHORTEN_TERM
    grace_periods: int | None = None  # None: read from the schedule (its leading interest-only months)
    interest_method: InterestMethod = InterestMethod.MONTHLY
    rows: list[InstalmentState] = field(init=False)
    penalty_receivable: Money = field(init=False, default=Money.ZERO)
    credit_balance: Money = field(init=False, default=Money.ZERO)
    interest_receivable: Money = field(init=False, default=Money.ZERO)
    fee_receivable: Money = field(init=False, default=Money.ZERO)
    as_of: date = field(init=False)
    _open_from: int = field(init=False, default=0)  # every row before this index is settled
    _penalty_daily_rate: Decimal = field(init=False)
    _interest_daily_rate: Decimal = field(init=False)

    def __post_init__(self) -> None:
        self.rows = _states(self.schedule.instalments, self.schedule.start)
        self.as_of = self.schedule.start
        if self.grace_periods is None:
            self.grace_periods = 0
        if self.schedule.method is Method.INTEREST_ONLY_GRACE and not self.grace_periods:
            self.grace_periods = next(
                (n for n, i in enumerate(self.schedule.instalments) if i.principal), len(self.schedule.instalments)
            )
        self._penalty_daily_rate = daily_rate(self.penalty_annual_rate, self.day_count_basis)
        self._interest_daily_rate = daily_rate(self.schedule.annual_rate, self.day_count_basis)

    def _open_rows(self) -> list[InstalmentState]:
        """The rows from the first unsettled one on (a custom waterfall may settle a later row first)."""
        while self._open_from < len(self.rows) and self.rows[self._open_from].settled:
            self._open_from += 1
        return self.rows[self._open_from :]

    # What the loan owes

    @property
    def principal_outstanding(self) -> Money:
        return total(r.unpaid_principal for r in self._open_rows())

    @property
    def is_closed(self) -> bool:
        """Every instalment settled and no penalty left."""
        return not self._open_rows() and not self.penalty_receivable

    def days_past_due(self, on: date | None = None) -> int:
        """Days since the oldest unsettled instalment fell due (0 when nothing is overdue)."""
        on = on or self.as_of
        open_rows = self._open_rows()
        return max((on - open_rows[0].due_date).days, 0) if open_rows else 0

    def _position(self, on: date) -> tuple[list[InstalmentState], InstalmentState | None, list[InstalmentState]]:
        """Unsettled rows overdue on ``on`` (oldest first), the current row, and the rows after it."""
        overdue: list[InstalmentState] = []
        rows = self._open_rows()
        for index, row in enumerate(rows):
            if row.settled:
                continue
            if row.due_date < on:
                overdue.append(row)
            else:
                return overdue, row, rows[index + 1 :]
        return overdue, None, []

    def dues(self, on: date) -> dict[Component, Money]:
        """What is owed on ``on`` by waterfall component (call :meth:`advance_to` first)."""
        overdue, current, later = self._position(on)
        return self._dues(overdue, current, later, on)[0]

    def _dues(
        self, overdue: list[InstalmentState], current: InstalmentState | None, later: list[InstalmentState], on: date
    ) -> tuple[dict[Component, Money], Money]:
        """What is owed on ``on`` by component, and the principal a payment on ``on`` may prepay."""
        not_due = total(r.unpaid_principal for r in later)
        if current is None or current.due_date <= on:
            current_fee = current.unpaid_fee if current else Money.ZERO
            current_interest = current.unpaid_interest if current else Money.ZERO
            current_principal = current.unpaid_principal if current else Money.ZERO
        else:  # before its due date the current instalment owes only the interest earned so far
            current_fee = current_principal = Money.ZERO
            earned = self._earned(current, on, current.unpaid_principal + not_due)
            current_interest = min(max(earned - current.interest_paid, Money.ZERO), current.unpaid_interest)
            not_due += current.unpaid_principal
        dues = {
            Component.OVERDUE_PENALTY: self.penalty_receivable,
            Component.OVERDUE_FEE: total(r.unpaid_fee for r in overdue),
            Component.OVERDUE_INTEREST: total(r.unpaid_interest for r in overdue),
            Component.OVERDUE_PRINCIPAL: total(r.unpaid_principal for r in overdue),
            Component.CURRENT_FEE: current_fee,
            Component.CURRENT_INTEREST: current_interest,
            Component.CURRENT_PRINCIPAL: current_principal,
        }
        # What a restructure spread into later rows was earned already: a prepayment pays it before principal.
        return dues, not_due + total(r.unpaid_deferred + r.carried_fee for r in later)

    def principal_not_due(self, on: date) -> Money:
        """Principal a payment on ``on`` would prepay: all of it not yet due (call :meth:`advance_to` first)."""
        overdue, current, later = self._position(on)
        return self._dues(overdue, current, later, on)[1]

    def payoff(self, on: date) -> Money:
        """What repays everything on ``on``: principal, interest earned to that day, fees and penalty due."""
        overdue, current, later = self._position(on)
        dues, not_due = self._dues(overdue, current, later, on)
        return total(dues.values()) + not_due

    def _earned(self, row: InstalmentState, on: date, balance: Money) -> Money:
        """Interest ``row`` has earned in its period by the end of ``on``, ``balance`` being the principal in force."""
        span = (row.due_date - row.accrual_start).days
        elapsed = min(max((on - row.accrual_start).days, 0), span)
        if elapsed >= span:
            return row.plan.interest
        if self.interest_method is InterestMethod.DAILY:
            part = balance.times(CONTEXT.multiply(self._interest_daily_rate, Decimal(elapsed)), Rounding.HALF_UP)
        else:
            part = row.projected.times(CONTEXT.divide(Decimal(elapsed), Decimal(span)), Rounding.HALF_UP)
        return row.earned_before + part

    # Time

    def advance_to(self, on: date) -> Recognised:
        """Recognise instalments falling due up to ``on`` and accrue penalty through ``on``; idempotent per date."""
        if on < self.as_of:
            raise ValueError(f"loan {self.loan_id} is already at {self.as_of}; events must be applied in date order")
        penalty = self._accrue_penalty(self.as_of + _DAY, on)
        interest = fee = Money.ZERO
        for row in self._open_rows():
            if row.due_date > on:
                break
            if not row.recognised:
                row.recognised = True
                interest += row.unpaid_interest - row.carried_interest  # carried: recognised before
                fee += row.unpaid_fee - row.carried_fee
                row.carried_interest = row.carried_fee = Money.ZERO
        self.interest_receivable += interest
        self.fee_receivable += fee
        self.penalty_receivable += penalty
        self.as_of = on
        return Recognised(interest, fee, penalty)

    def _accrue_penalty(self, first_day: date, last_day: date) -> Money:
        """Daily penalty on overdue principal, by spans over which the overdue principal is constant."""
        rate = self._penalty_daily_rate
        accrued = Money.ZERO
        rows = self._open_rows()
        if not rows or rows[0].due_date >= last_day:
            return accrued  # nothing is overdue on any of these days
        day = first_day
        while day <= last_day:
            overdue = total(r.unpaid_principal for r in rows if r.due_date < day)
            next_change = min((r.due_date + _DAY for r in rows if r.due_date >= day), default=last_day + _DAY)
            span_end = min(last_day, next_change - _DAY)
            days = (span_end - day).days + 1
            if overdue:
                accrued += Money(overdue.times(rate, Rounding.HALF_UP).fen * days)
            day = span_end + _DAY
        return accrued

    # Payments

    def apply_payment(self, amount: Money, on: date) -> tuple[Recognised, PaymentApplied]:
        """Advance to ``on``, then apply a payment by the waterfall; returns what was recognised and applied."""
        if not amount.is_positive:
            raise InvalidAmount("a payment must be positive")
        recognised = self.advance_to(on)
        overdue, current, later = self._position(on)
        dues, not_due = self._dues(overdue, current, later, on)
        allocation = allocate(amount, dues, not_due, self.waterfall)
        current_rows = [current] if current else []
        principal = interest_recv = interest_earned = fee_recv = fee_earned = Money.ZERO
        for component, part in allocation.applied:
            if component is Component.OVERDUE_PENALTY:
                self.penalty_receivable -= part
                continue
            is_overdue, kind = _TARGETS[component]
            rows = overdue if is_overdue else current_rows
            for row, paid in self._spread(rows, kind, part):
                if kind == "principal":
                    row.unpaid_principal -= paid
                    principal += paid
                elif kind == "interest":
                    recv, earned = row.pay_interest(paid)
                    interest_recv += recv
                    interest_earned += earned
                else:
                    recv, earned = row.pay_fee(paid)
                    fee_recv += recv
                    fee_earned += earned
        prepaid = allocation.prepaid_principal
        for row in later:  # what a restructure spread into later rows goes first
            if not prepaid:
                break
            part = min(prepaid, row.unpaid_deferred)
            recv, earned = row.pay_interest(part)
            interest_recv += recv
            interest_earned += earned
            fee_part = min(prepaid - part, row.carried_fee)
            recv, earned = row.pay_fee(fee_part)
            fee_recv += recv
            fee_earned += earned
            prepaid -= part + fee_part
        self.interest_receivable -= interest_recv
        self.fee_receivable -= fee_recv
        if prepaid:
            if current is not None and current.due_date > on:
                self._prepay_within(current, later, prepaid, on)
            else:
                self._prepay(prepaid, later)
            principal += prepaid
        self.credit_balance += allocation.credit
        return recognised, PaymentApplied(
            allocation,
            principal,
            interest_recv,
            interest_earned,
            fee_recv,
            fee_earned,
            allocation.to(Component.OVERDUE_PENALTY),
            allocation.credit,
        )

    @staticmethod
    def _spread(rows: Sequence[InstalmentState], kind: str, amount: Money) -> Iterator[tuple[InstalmentState, Money]]:
        """Split ``amount`` of one kind over rows, oldest first."""
        left = amount
        for row in rows:
            if not left:
                return
            unpaid = getattr(row, f"unpaid_{kind}")
            part = min(left, unpaid)
            if part:
                left -= part
                yield row, part
        if left:
            raise AssertionError(f"{left} of {kind} had no instalment to go to")

    def _prepay(self, amount: Money, future: list[InstalmentState]) -> None:
        """Reduce principal not yet due and re-plan the instalments after the current one (paid on its due date)."""
        if not future:
            return
        balance = total(r.unpaid_principal for r in future) - amount
        self.rows[len(self.rows) - len(future) :] = _states(
            self._replan(balance, [r.remaining for r in future], future[0].period_start), future[0].period_start
        )

    def _replan(self, balance: Money, plans: Sequence[Instalment], period_start: date) -> list[Instalment]:
        """Instalments on the remaining due dates for ``balance``, by the product's early-repayment rule."""
        grace_left = sum(1 for plan in plans if plan.number <= (self.grace_periods or 0))
        return reschedule_after_prepayment(
            balance,
            self.schedule.annual_rate,
            self._amortising_method,
            plans,
            self.early_repayment,
            grace_periods=grace_left,
            interest_method=self.interest_method,
            day_count_basis=self.day_count_basis,
            period_start=period_start,
        )

    @property
    def _amortising_method(self) -> Method:
        method = self.schedule.method
        return Method.EQUAL_INSTALMENT if method is Method.INTEREST_ONLY_GRACE else method

    def _prepay_within(self, current: InstalmentState, later: list[InstalmentState], amount: Money, on: date) -> None:
        """Prepay ``amount`` on ``on``, before ``current`` falls due, and re-plan it and the instalments after it.

        Everything ``current`` earned up to ``on`` was paid first (principal comes last in every waterfall). From
        ``on`` the lower balance earns the rest of the period; the current instalment keeps its due date, and its
        principal follows the early-repayment rule as a later instalment's would.
        """
        before = current.unpaid_principal + total(r.unpaid_principal for r in later)
        balance = before - amount
        earned = self._earned(current, on, before)
        left_days = (current.due_date - on).days
        if not balance.is_positive:
            projected = Money.ZERO
        elif self.interest_method is InterestMethod.DAILY:
            projected = balance.times(CONTEXT.multiply(self._interest_daily_rate, Decimal(left_days)), Rounding.HALF_UP)
        else:  # the rest of the period's even share, scaled to the new balance
            span = (current.due_date - current.accrual_start).days
            share = CONTEXT.divide(Decimal(left_days * balance.fen), Decimal(span * before.fen))
            projected = current.projected.times(share, Rounding.HALF_UP)
        interest = earned + projected
        principal = self._principal_within(current, later, balance, interest)
        fee = current.plan.fee if balance.is_positive else Money.ZERO  # repaid in full: no fee for the period
        row = InstalmentState(
            Instalment(current.plan.number, current.due_date, principal, interest, fee), current.period_start
        )
        row.accrual_start = on
        row.earned_before = earned
        row.unpaid_interest = interest - current.interest_paid
        row.unpaid_fee = max(fee - current.fee_paid, Money.ZERO)
        index = len(self.rows) - len(later) - 1
        row.carried_interest = min(current.carried_interest, row.unpaid_interest)
        row.carried_fee = min(current.carried_fee, row.unpaid_fee)
        row.deferred = current.deferred
        rest = self._replan(balance - principal, [r.remaining for r in later], current.due_date) if later else []
        self.rows[index:] = [row, *_states(rest, current.due_date)]

    def _principal_within(
        self, current: InstalmentState, later: list[InstalmentState], balance: Money, interest: Money
    ) -> Money:
        """The current instalment's principal after a prepayment within its period left ``balance``."""
        if not later or not balance.is_positive:
            return balance
        if current.plan.number <= (self.grace_periods or 0):
            return Money.ZERO
        equal_principal = self._amortising_method is Method.EQUAL_PRINCIPAL
        level: Money | None = None
        if self.early_repayment is EarlyRepayment.SHORTEN_TERM:
            level = current.plan.principal
            if not equal_principal:
                level += current.plan.interest - current.deferred
            if not level.is_positive:
                level = None
        if level is None:  # reduce the instalment: the level that repays the balance over the periods left
            periods = 1 + sum(1 for r in later if r.plan.number > (self.grace_periods or 0))
            if equal_principal:
                level = balance.split(periods)[0]
            else:
                level = annuity_instalment(balance, monthly_rate(self.schedule.annual_rate), periods)
        principal = level if equal_principal else level - interest
        return min(max(principal, Money.ZERO), balance)

    # Restructuring (lending.restructuring builds the plan)

    def standing(self, on: date) -> Standing:
        """What the loan owes on ``on`` as a restructure's plan is built from it (call :meth:`advance_to` first)."""
        due = [r for r in self._open_rows() if not r.settled and r.due_date <= on]
        upcoming = [r for r in self._open_rows() if not r.settled and r.due_date > on]
        first = upcoming[0] if upcoming else None
        accrued = Money.ZERO
        if first is not None:
            balance = total(r.unpaid_principal for r in upcoming)
            earned = max(self._earned(first, on, balance) - first.interest_paid, Money.ZERO)
            accrued = max(min(earned, first.unpaid_interest) - first.unpaid_deferred, Money.ZERO)
        return Standing(
            on=on,
            principal_outstanding=self.principal_outstanding,
            overdue_principal=total(r.unpaid_principal for r in due),
            # Fallen due, or spread by an earlier restructure and recognised before it: receivable already.
            overdue_interest=total(r.unpaid_interest for r in due) + total(r.carried_interest for r in upcoming),
            overdue_fee=total(r.unpaid_fee for r in due) + total(r.carried_fee for r in upcoming),
            deferred_interest=total(r.unpaid_deferred - r.carried_interest for r in upcoming),
            upcoming=tuple(r.remaining for r in upcoming),
            period_start=first.period_start if first is not None else on,
            accrued=accrued,
            interest_paid=first.interest_paid - min(first.deferred, first.interest_paid) if first else Money.ZERO,
            annual_rate=self.schedule.annual_rate,
            method=self.schedule.method,
            day_count_basis=self.day_count_basis,
            interest_method=self.interest_method,
            per_instalment_fee=self.schedule.instalments[0].fee if self.schedule.instalments else Money.ZERO,
            anchor_day=max(i.due_date.day for i in self.schedule.instalments),
        )

    def restructure(self, plan: RestructuredPlan) -> None:
        """Replace every unsettled instalment by the plan's, from ``plan.on`` (the loan is advanced to it first).

        Nothing is paid or recognised: what had fallen due stays receivable, carried by the rows it was spread
        into; the grace period ends with the old rows (the plan says which rows pay interest only)."""
        if plan.on < self.as_of:
            raise ValueError(f"loan {self.loan_id} is already at {self.as_of}; a restructure on {plan.on} is late")
        self.advance_to(plan.on)
        kept = [r for r in self.rows if r.settled]
        start = plan.period_start
        new_rows: list[InstalmentState] = []
        for planned in plan.instalments:
            row = InstalmentState(planned.instalment, start)
            row.deferred = planned.deferred
            row.earned_before = planned.deferred
            row.carried_interest = planned.carried_interest
            row.carried_fee = planned.carried_fee
            new_rows.append(row)
            start = planned.instalment.due_date
        self.rows = kept + new_rows
        self._open_from = 0
        grace = 0
        for row in new_rows[:-1]:  # the leading rows paying interest only (a start-up plan still in its grace)
            if row.plan.principal:
                break
            grace += 1
        self.grace_periods = grace
