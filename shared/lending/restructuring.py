"""Hardship relief: the restructured plan of a booked instalment loan, built from its standing on a date.

Two kinds of relief, each of 1 to 6 months:
- ``payment_holiday``: nothing falls due during the holiday; every unpaid due date moves by the months, keeping its
  principal and interest. The interest the principal outstanding earns over the holiday (simple interest, the
  product's day count) is spread evenly over the remaining instalments, never added to the principal unless the
  product capitalises it (``capitalise_holiday_interest``; the plan is then re-amortised on the larger principal).
- ``term_extension``: the principal outstanding is re-amortised by the product's method over the remaining periods
  plus the months, at the contract rate.

What had fallen due by the restructure's day and is unpaid is folded into the new plan: its principal into the
instalments' principal, its interest and fees spread evenly over them as interest and fees (never capitalised).
The amounts spread as interest are the instalments' ``deferred`` interest: interest already earned, so a payment
before a due date may pay it, and what of it had already been recognised as receivable is ``carried`` (the
ledger does not recognise it twice). Every split leaves its rounding remainder in the last instalment.

The APR of the restructured plan is the IRR of what the borrower owed on the day (principal, interest earned and
unpaid, fees fallen due) against the new instalments; above the rate cap the relief cannot be offered.

Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

from lending.apr import CashFlow, annualise
from lending.calendar import add_months
from lending.catalogue import InterestMethod, Method
from lending.errors import ProductRuleViolation, RateCapExceeded
from lending.money import CONTEXT, Money, Rounding, total
from lending.rates import DISCLOSURE_PLACES, format_rate
from lending.schedule import Instalment, amortise, elapsed_months

MIN_RELIEF_MONTHS, MAX_RELIEF_MONTHS = 1, 6


class ReliefKind(StrEnum):
    PAYMENT_HOLIDAY = "payment_holiday"
    TERM_EXTENSION = "term_extension"


@dataclass(frozen=True, slots=True)
class Restructure:
    """An accepted relief as the loan keeps it: its inputs only; the plan is rebuilt from the standing on ``on``."""

    request_id: str
    kind: ReliefKind
    months: int
    on: date
    class_before: str | None = None  # the loan's classification when the restructure was applied

    def __post_init__(self) -> None:
        check_months(self.months)

    def to_record(self) -> dict[str, Any]:
        return {
            "request_id": self.request_id,
            "kind": self.kind.value,
            "months": self.months,
            "on": self.on.isoformat(),
            "class_before": self.class_before,
        }

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Restructure:
        before = record.get("class_before")
        return cls(
            str(record["request_id"]),
            ReliefKind(str(record["kind"])),
            int(record["months"]),
            date.fromisoformat(str(record["on"])),
            None if before is None else str(before),
        )


def check_months(months: int) -> None:
    if not MIN_RELIEF_MONTHS <= months <= MAX_RELIEF_MONTHS:
        raise ProductRuleViolation(f"relief runs {MIN_RELIEF_MONTHS}–{MAX_RELIEF_MONTHS} months, not {months}")


@dataclass(frozen=True, slots=True)
class Standing:
    """What a loan owes on the restructure's day, as the plan is built from it.

    ``upcoming`` are the instalments not yet due, with only their unpaid amounts; the first one's period runs from
    ``period_start``, and ``accrued`` is the interest it has earned by ``on`` and not been paid (so part of its
    unpaid interest), ``interest_paid`` what of its interest was paid before ``on``.
    """

    on: date
    principal_outstanding: Money
    overdue_principal: Money
    overdue_interest: Money  # fallen due, unpaid (recognised as receivable)
    overdue_fee: Money
    deferred_interest: Money  # spread by an earlier restructure into the upcoming rows, not yet recognised
    upcoming: tuple[Instalment, ...]
    period_start: date
    accrued: Money
    interest_paid: Money
    annual_rate: Decimal
    method: Method
    day_count_basis: int
    interest_method: InterestMethod
    per_instalment_fee: Money
    anchor_day: int  # the day of the month the loan falls due on


@dataclass(frozen=True, slots=True)
class PlannedInstalment:
    """An instalment of the restructured plan; ``deferred`` of its interest is spread (earned before its period),
    ``carried_interest`` / ``carried_fee`` of its interest and fee had been recognised before the restructure."""

    instalment: Instalment
    deferred: Money = Money.ZERO
    carried_interest: Money = Money.ZERO
    carried_fee: Money = Money.ZERO


@dataclass(frozen=True, slots=True)
class RestructuredPlan:
    kind: ReliefKind
    months: int
    on: date
    period_start: date  # where the first new instalment's period starts
    instalments: tuple[PlannedInstalment, ...]
    holiday_interest: Money  # what the principal earned over a holiday (zero for an extension)
    owed: Money  # principal, interest earned and unpaid, and fees fallen due, on ``on``
    apr: Decimal

    @property
    def principal(self) -> Money:
        return total(p.instalment.principal for p in self.instalments)

    @property
    def total_interest(self) -> Money:
        return total(p.instalment.interest for p in self.instalments)

    @property
    def total_fees(self) -> Money:
        return total(p.instalment.fee for p in self.instalments)

    @property
    def total_repayable(self) -> Money:
        return total(p.instalment.total for p in self.instalments)


def restructure_plan(
    standing: Standing,
    kind: ReliefKind,
    months: int,
    *,
    rate_cap: Decimal | None,
    capitalise_holiday_interest: bool = False,
) -> RestructuredPlan:
    """The plan that replaces the loan's unpaid instalments from ``standing.on``; RateCapExceeded when its APR is
    above ``rate_cap`` (None: not checked, for a plan accepted before)."""
    check_months(months)
    if not standing.principal_outstanding.is_positive:
        raise ProductRuleViolation("no principal is outstanding: there is nothing to restructure")
    upcoming = list(standing.upcoming) or [
        Instalment(1, add_months(standing.on, 1, standing.anchor_day), Money.ZERO, Money.ZERO)
    ]
    holiday_interest = Money.ZERO
    if kind is ReliefKind.PAYMENT_HOLIDAY:
        holiday_days = (add_months(standing.on, months) - standing.on).days
        # principal × annual × days / basis, divided last so the one rounding is to the fen
        accrual = CONTEXT.multiply(
            standing.principal_outstanding.to_decimal(), CONTEXT.multiply(standing.annual_rate, Decimal(holiday_days))
        )
        holiday_interest = Money.from_decimal(
            CONTEXT.divide(accrual, Decimal(standing.day_count_basis)), Rounding.HALF_UP
        )
        shifted = [_moved(i, add_months(i.due_date, months, standing.anchor_day)) for i in upcoming]
        if capitalise_holiday_interest:
            base = _reamortised(standing, standing.principal_outstanding + holiday_interest, shifted)
            spread_interest = Money.ZERO
        else:
            base = [_moved(i, i.due_date, principal=i.principal) for i in shifted]
            base = _add_principal(base, standing.overdue_principal)
            spread_interest = holiday_interest
    else:
        last = upcoming[-1].due_date
        extra = [add_months(last, k, standing.anchor_day) for k in range(1, months + 1)]
        dates = [i.due_date for i in upcoming] + extra
        base = _reamortised(
            standing, standing.principal_outstanding, [Instalment(0, d, Money.ZERO, Money.ZERO) for d in dates]
        )
        spread_interest = Money.ZERO
    planned = _spread(
        base, standing.overdue_interest, spread_interest + standing.deferred_interest, standing.overdue_fee
    )
    owed = (
        standing.principal_outstanding
        + standing.overdue_interest
        + standing.deferred_interest
        + standing.accrued
        + standing.overdue_fee
    )
    apr = plan_apr(standing.on, owed, [p.instalment for p in planned])
    if rate_cap is not None and apr.quantize(DISCLOSURE_PLACES, rounding=ROUND_HALF_UP) > rate_cap:
        raise RateCapExceeded(
            f"the restructured plan's APR {format_rate(apr)} is above the cap {format_rate(rate_cap)}"
        )
    return RestructuredPlan(
        kind, months, standing.on, standing.period_start, tuple(planned), holiday_interest, owed, apr
    )


def plan_apr(on: date, owed: Money, instalments: Sequence[Instalment]) -> Decimal:
    """12 × the monthly IRR of ``owed`` on ``on`` against the instalments (months counted as lending.apr does)."""
    flows = [CashFlow(Decimal(0), owed.to_decimal())]
    flows += [CashFlow(elapsed_months(on, i.due_date), -i.total.to_decimal()) for i in instalments if i.total]
    return annualise(flows).apr


def _moved(instalment: Instalment, due_date: date, *, principal: Money | None = None) -> Instalment:
    return Instalment(
        instalment.number,
        due_date,
        instalment.principal if principal is None else principal,
        instalment.interest,
        instalment.fee,
    )


def _add_principal(rows: list[Instalment], extra: Money) -> list[Instalment]:
    """Overdue principal folded into the instalments' principal, evenly (the remainder in the last)."""
    if not extra:
        return rows
    return [
        Instalment(r.number, r.due_date, r.principal + part, r.interest, r.fee)
        for r, part in zip(rows, extra.split(len(rows)), strict=True)
    ]


def _reamortised(standing: Standing, principal: Money, dated: Sequence[Instalment]) -> list[Instalment]:
    """``principal`` re-amortised by the product's method over the dates, from the first period's start at the
    contract rate; what of the first period's interest was paid already is not asked again."""
    leading_grace = 0
    for row in standing.upcoming:
        if row.principal:
            break
        leading_grace += 1
    if leading_grace >= len(dated):
        leading_grace = 0
    method = Method.EQUAL_INSTALMENT if standing.method is Method.INTEREST_ONLY_GRACE else standing.method
    rows = amortise(
        principal,
        standing.annual_rate,
        [r.due_date for r in dated],
        method,
        grace_periods=leading_grace,
        day_count_basis=standing.day_count_basis,
        per_instalment_fee=standing.per_instalment_fee,
        interest_method=standing.interest_method,
        period_start=standing.period_start,
    )
    first = rows[0]
    rows[0] = Instalment(
        first.number,
        first.due_date,
        first.principal,
        max(first.interest - standing.interest_paid, Money.ZERO),
        first.fee,
    )
    return rows


def _spread(
    rows: list[Instalment], carried_interest: Money, deferred_interest: Money, carried_fee: Money
) -> list[PlannedInstalment]:
    """Interest and fees spread evenly over the instalments (each split's remainder in the last), renumbered."""
    n = len(rows)
    carried = carried_interest.split(n)
    deferred = deferred_interest.split(n)
    fees = carried_fee.split(n)
    planned: list[PlannedInstalment] = []
    for number, (row, c, d, f) in enumerate(zip(rows, carried, deferred, fees, strict=True), start=1):
        planned.append(
            PlannedInstalment(
                Instalment(number, row.due_date, row.principal, row.interest + c + d, row.fee + f),
                deferred=c + d,
                carried_interest=c,
                carried_fee=f,
            )
        )
    return planned
