"""Five-category loan classification and the provision each grade implies.

The grade of a loan on a day (after the 2023 rules on the risk classification of financial assets; the thresholds
are configuration, ``Catalogue.classification``):

- by days past due: any amount overdue is at least ``special_mention``; more than 90 days at least ``substandard``,
  more than 270 ``doubtful``, more than 360 ``loss``;
- a restructured loan is at least ``special_mention`` during its observation period, at least ``substandard`` if it
  was non-performing when it was restructured; the observation period is the longer of two repayment periods and
  one year from the restructure;
- during the observation period a loan is never upgraded: its grade is at least the one it had the day before.

The provision a grade implies is its rate times the principal still on the book (none once written off), to the fen
(half up). Nothing here does I/O: the daily close keeps the grade on the loan, and the replay books the allowance.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from lending.calendar import add_months
from lending.catalogue import Classification, LoanClass
from lending.money import Money, Rounding


@dataclass(frozen=True, slots=True)
class Restructure:
    """What classification needs of one restructure of the loan: its day and the grade the loan had then."""

    on: date
    class_before: LoanClass


def by_days_past_due(days_past_due: int, rules: Classification) -> LoanClass:
    """The grade days past due alone give."""
    if days_past_due > rules.loss_after_days:
        return LoanClass.LOSS
    if days_past_due > rules.doubtful_after_days:
        return LoanClass.DOUBTFUL
    if days_past_due > rules.substandard_after_days:
        return LoanClass.SUBSTANDARD
    if days_past_due > 0:
        return LoanClass.SPECIAL_MENTION
    return LoanClass.NORMAL


def observation_ends(restructure: Restructure, rules: Classification, period_months: int = 1) -> date:
    """The first day after a restructured loan's observation period."""
    months = max(rules.observation_periods * period_months, rules.observation_months)
    return add_months(restructure.on, months)


def classify(
    days_past_due: int,
    on: date,
    rules: Classification,
    *,
    previous: LoanClass | None = None,
    restructures: Sequence[Restructure] = (),
    period_months: int = 1,
) -> LoanClass:
    """The loan's grade on ``on``: days past due, the floor of a restructure under observation, and no upgrade
    while it is observed (``previous``: the grade it had before)."""
    grade = by_days_past_due(days_past_due, rules)
    latest = max(restructures, key=lambda r: r.on, default=None)
    if latest is None or on >= observation_ends(latest, rules, period_months):
        return grade
    floor = LoanClass.SUBSTANDARD if latest.class_before.non_performing else LoanClass.SPECIAL_MENTION
    return worst(grade, floor, previous or LoanClass.NORMAL)


def worst(*grades: LoanClass) -> LoanClass:
    return max(grades, key=lambda grade: grade.rank)


def provision(grade: LoanClass, principal_on_book: Money, rules: Classification) -> Money:
    """The allowance a grade implies for the principal still on the book."""
    if not principal_on_book.is_positive:
        return Money.ZERO
    return principal_on_book.times(rules.provision_rates[grade], Rounding.HALF_UP)
