"""Collections: repayments the platform asks the payment provider to collect (the borrower's "repay" in the app, and
auto-debit on each due date with retries), and the reminders around a due date.

Pure: no I/O, no clock. What a step needs to decide for one loan on one day is here: which repayments exist and in
what states, the collection key that makes a retried call the same collection, which attempt (if any) is due today,
how much is due, and which reminders the day brings. The steps (lending.steps.collections) read and write.

Never collecting one due amount twice rests on two keys: a repayment's id, and the provider's idempotency key derived
from it. An auto-debit attempt is identified by its loan, the due date it collects and its attempt number (0 on the
due date, then 1, 2, … on the product's retry days), so the same day's job run again asks for the same collection;
an app repayment by its loan and the borrower's Idempotency-Key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from lending.money import Money, total
from lending.servicing import LoanStatus, Position

#: Reminder ahead of a due date: this many days before it.
NOTICE_DAYS = 3
#: The product's default retry days, counted from the due date (the catalogue may set others per product).
DEFAULT_RETRY_DAYS = (1, 3, 7)
#: The catalogue's default overdue milestones (days past due), one reminder each; they meet the delinquency buckets.
DEFAULT_OVERDUE_REMINDER_DAYS = (1, 7, 30, 60, 90)


class RepaymentSource(StrEnum):
    """Where a repayment came from: the borrower's app, the auto-debit job, or the provider pushing a payment."""

    APP = "app"
    AUTO_DEBIT = "auto_debit"
    PROVIDER = "provider"


class RepaymentStatus(StrEnum):
    """``PENDING`` until the provider's webhook settles it; ``SUCCEEDED`` is applied to the loan once."""

    PENDING = "PENDING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


class ReminderKind(StrEnum):
    DUE_SOON = "due_soon"
    DUE_TODAY = "due_today"
    OVERDUE = "overdue"


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:24]


def app_repayment_id(loan_id: str, borrower_id: str, idempotency_key: str) -> str:
    """An app repayment's id: the same loan, borrower and Idempotency-Key are the same repayment."""
    return f"rp-{_digest(loan_id, borrower_id, idempotency_key)}"


def auto_debit_repayment_id(loan_id: str, due_date: date, attempt: int) -> str:
    """An auto-debit attempt's id: one per loan, due date and attempt, however often the job runs."""
    if attempt < 0:
        raise ValueError("an attempt number is 0 or more")
    return f"ad-{_digest(loan_id, due_date.isoformat(), str(attempt))}"


def pushed_repayment_id(event_id: str) -> str:
    """The repayment a payment the provider pushed (no collection asked for) is listed as."""
    return f"pp-{_digest(event_id)}"


def collection_key(repayment_id: str) -> str:
    """The provider's idempotency key for a repayment's collection: a retry after a lost answer is the same one."""
    return f"collect-{repayment_id}"


def due_reference(loan_id: str, due_date: date) -> str:
    """The provider's reference of one due amount: every attempt at collecting it carries it."""
    return f"{loan_id}/due/{due_date.isoformat()}"


def app_reference(loan_id: str, amount: Money) -> str:
    """The provider's reference of an amount the borrower repays from the app: tapping "repay" again for the same
    amount after a failure is the retry of that amount."""
    return f"{loan_id}/app/{amount}"


def amount_due(position: Position, on: date) -> Money:
    """What is due on ``on``: every unpaid part of the rows due by then, and the penalty, less the credit held."""
    rows = [row for row in position.schedule if row.due_date <= on and not row.paid]
    unpaid = total(
        (row.principal - row.principal_paid) + (row.interest - row.interest_paid) + (row.fee - row.fee_paid)
        for row in rows
    )
    due = unpaid + position.penalty_accrued - position.credit_balance if rows else Money.ZERO
    return due if due.is_positive else Money.ZERO


def unpaid_due_dates(position: Position, on: date) -> list[date]:
    """Due dates of the rows not paid, oldest first, up to ``on``."""
    return sorted(row.due_date for row in position.schedule if not row.paid and row.due_date <= on)


@dataclass(frozen=True, slots=True)
class Attempt:
    """One auto-debit attempt: the due date it collects, its number (0 on the due date), and how much."""

    loan_id: str
    due_date: date
    attempt: int
    amount: Money

    @property
    def repayment_id(self) -> str:
        return auto_debit_repayment_id(self.loan_id, self.due_date, self.attempt)

    @property
    def previous_id(self) -> str | None:
        """The attempt before this one, which must have settled first (None for the due date's own)."""
        return None if self.attempt == 0 else auto_debit_repayment_id(self.loan_id, self.due_date, self.attempt - 1)


def attempt_on(position: Position, on: date, retry_days: Sequence[int]) -> Attempt | None:
    """The auto-debit attempt ``on`` brings, if any: ``on`` is an unpaid row's due date or one of its retry days,
    and something is due. Of several rows, the latest due date's attempt collects (it takes in all that is due)."""
    if position.status is not LoanStatus.ACTIVE:  # closed, or written off (collections agencies take it from there)
        return None
    offsets = (0, *retry_days)
    for due_date in reversed(unpaid_due_dates(position, on)):
        elapsed = (on - due_date).days
        if elapsed in offsets:
            amount = amount_due(position, on)
            if not amount.is_positive:
                return None
            return Attempt(position.loan_id, due_date, offsets.index(elapsed), amount)
    return None


@dataclass(frozen=True, slots=True)
class Reminder:
    """A reminder for the notifications topic: no personal data, only the loan, the kind, the date and the amount."""

    loan_id: str
    kind: ReminderKind
    due_date: date
    amount_due: Money
    days_past_due: int = 0

    @property
    def reminder_id(self) -> str:
        """Once per loan, kind, due date and milestone: a job run again finds it sent."""
        suffix = f"/{self.days_past_due}" if self.kind is ReminderKind.OVERDUE else ""
        return f"reminder/{self.loan_id}/{self.kind.value}/{self.due_date.isoformat()}{suffix}"

    def message(self) -> dict[str, str | int]:
        return {
            "reminder_id": self.reminder_id,
            "loan_id": self.loan_id,
            "kind": self.kind.value,
            "due_date": self.due_date.isoformat(),
            "amount_due": str(self.amount_due),
            "days_past_due": self.days_past_due,
        }


def reminders_on(position: Position, on: date, overdue_days: Iterable[int]) -> list[Reminder]:
    """The reminders ``on`` brings for a loan: three days before an unpaid due date, on an unpaid due date, and on
    each overdue milestone of days past due (counted from the oldest unpaid due date)."""
    if position.status is not LoanStatus.ACTIVE:
        return []
    found: list[Reminder] = []
    ahead = on + timedelta(days=NOTICE_DAYS)
    for row in position.schedule:
        if row.paid:
            continue
        if row.due_date == ahead:
            instalment = (
                (row.principal - row.principal_paid) + (row.interest - row.interest_paid) + (row.fee - row.fee_paid)
            )
            found.append(Reminder(position.loan_id, ReminderKind.DUE_SOON, row.due_date, instalment))
        elif row.due_date == on:
            found.append(Reminder(position.loan_id, ReminderKind.DUE_TODAY, row.due_date, amount_due(position, on)))
    unpaid = unpaid_due_dates(position, on)
    if unpaid:
        past_due = (on - unpaid[0]).days
        if past_due in set(overdue_days):
            found.append(
                Reminder(position.loan_id, ReminderKind.OVERDUE, unpaid[0], amount_due(position, on), past_due)
            )
    return found


def read_dates(on: date) -> tuple[date, date]:
    """The due-index dates a day's job reads: loans whose oldest unpaid due date is ``on`` or earlier (due,
    retried, overdue), and those due in exactly NOTICE_DAYS days (the reminder ahead)."""
    return on, on + timedelta(days=NOTICE_DAYS)
