"""Servicing a booked loan or line by replaying its events.

A loan's servicing history is a set of events (repayments; drawdowns on a line) and the date through which the
daily close has aged it. Its state is always the replay of those events in (business date, time, event id) order,
from the booking through that date, so events that arrive out of order converge on the state they would have
reached in order, and a duplicate is recognised by its id.

The ledger holds what the replay implies. The replay keeps ``booked``: the sum, per account, of every posting the
loan's servicing has made so far (balanced, since each posting comes from a balanced transaction). A new fact (a
payment, a drawdown, a day's close) is posted as ONE transaction: the replayed ``booked`` after it, less the
``booked`` already posted. When an earlier-dated payment arrives late, that difference also reverses the penalty the
loan no longer owes; the books end where the in-order history would have put them.

Nothing here does I/O: the loan as servicing keeps it is lending.serviced_loan; the adapters store it and post the
transactions (see lending.adapters.servicing).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal

from lending import bookkeeping
from lending.calendar import business_date
from lending.catalogue import (
    Catalogue,
    Classification,
    Component,
    DelinquencyBucket,
    EarlyRepayment,
    InterestMethod,
    LoanClass,
    Method,
)
from lending.classification import provision
from lending.credit_line import CreditLine
from lending.errors import InvalidAmount, ReliefNotAvailable, UnplaceablePayment
from lending.ledger import Account, AccountCode, Posting, Transaction
from lending.loan import InstalmentLoan
from lending.money import Money
from lending.restructuring import ReliefKind, Restructure, RestructuredPlan, restructure_plan
from lending.schedule import Instalment, Schedule

Kind = Literal["instalment", "revolving"]
_ONE_DAY = timedelta(days=1)
_DEFAULT_RULES = Classification()


class EventKind(StrEnum):
    REPAYMENT = "repayment"
    DRAWDOWN = "drawdown"


class LoanStatus(StrEnum):
    """A booked loan's or line's status, as ``GET /v1/loans/{id}`` shows it: CLOSED once nothing is owed."""

    ACTIVE = "ACTIVE"
    CLOSED = "CLOSED"
    WRITTEN_OFF = "WRITTEN_OFF"  # taken off the book; the borrower still owes it, and payments are recoveries


@dataclass(frozen=True, slots=True)
class ServicingEvent:
    """A fact of a loan's life after booking: money in (a repayment) or out (a drawdown)."""

    event_id: str
    kind: EventKind
    at: datetime  # when it happened (the provider's paid_at, the payout's time), timezone-aware
    amount: Money

    def __post_init__(self) -> None:
        if not self.amount.is_positive:
            raise InvalidAmount(f"{self.kind} {self.event_id}: the amount must be positive")
        if self.at.tzinfo is None:
            raise ValueError(f"{self.kind} {self.event_id}: the time needs a timezone")

    @property
    def on(self) -> date:
        """The business day (China Standard Time) it belongs to."""
        return business_date(self.at)

    @property
    def order(self) -> tuple[datetime, str]:
        return (self.at, self.event_id)

    def to_record(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "kind": self.kind.value,
            "at": self.at.astimezone(UTC).isoformat(),
            "amount": str(self.amount),
        }

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> ServicingEvent:
        return cls(
            str(record["event_id"]),
            EventKind(record["kind"]),
            datetime.fromisoformat(str(record["at"])),
            Money.of(str(record["amount"])),
        )


@dataclass(frozen=True, slots=True)
class LoanTerms:
    """What servicing needs of a booked loan or line (read from its record and the catalogue)."""

    loan_id: str
    kind: Kind
    opened_on: date
    annual_rate: Decimal
    penalty_annual_rate: Decimal
    day_count_basis: int
    buckets: tuple[DelinquencyBucket, ...]
    # An instalment loan:
    schedule: Schedule | None = None
    waterfall: tuple[Component, ...] = ()
    early_repayment: EarlyRepayment = EarlyRepayment.SHORTEN_TERM
    interest_method: InterestMethod = InterestMethod.MONTHLY
    restructures: tuple[Restructure, ...] = ()  # hardship relief applied, each from its day (lending.restructuring)
    capitalise_holiday_interest: bool = False
    # A line:
    limit: Money | None = None
    term_months: int | None = None
    freeze_when_past_due: bool = False
    # Risk: the grade the daily close last gave the loan (the replay books the allowance it implies), the rules,
    # the product's write-off threshold, and the day the loan was written off (None: on the book).
    classification: LoanClass = LoanClass.NORMAL
    rules: Classification = _DEFAULT_RULES
    write_off_days: int | None = None
    written_off_on: date | None = None
    # An early warning's actions on a line (lending.early_warning): the limit cut to what was drawn then, and a
    # freeze of drawdowns; both kept in the servicing state (``limit_cut``, ``warning_freeze``).
    limit_cut_to: Money | None = None
    warning_frozen: bool = False

    @classmethod
    def from_record(cls, loan: Mapping[str, Any], catalogue: Catalogue) -> LoanTerms:
        """Terms from a booked loan record (see lending.steps.disbursement.book) and the product in the catalogue."""
        product = catalogue.product(str(loan["product"]))
        annual = Decimal(str(loan["annual_rate"]))
        # The penalty rate is the contract rate times the product's multiplier, never above the cap.
        penalty = min(annual * product.penalty_rate_multiplier, catalogue.rate_cap.annual_rate)
        servicing = loan.get("servicing") or {}
        written_off = servicing.get("written_off") or {}
        common: dict[str, Any] = {
            "loan_id": str(loan["loan_id"]),
            "opened_on": date.fromisoformat(str(loan["opened_on"])),
            "annual_rate": annual,
            "penalty_annual_rate": penalty,
            "day_count_basis": product.day_count_basis,
            "buckets": catalogue.delinquency_buckets,
            "classification": LoanClass(str(servicing.get("classification") or LoanClass.NORMAL)),
            "rules": catalogue.classification,
            "write_off_days": product.write_off_days_past_due,
            "written_off_on": date.fromisoformat(str(written_off["on"])) if written_off else None,
        }
        if product.kind == "revolving":
            state = loan.get("servicing") or {}
            cut = state.get("limit_cut")
            return cls(
                kind="revolving",
                limit=Money.of(str(loan["limit"])),
                term_months=int(loan["term_months"]),
                freeze_when_past_due=product.freeze_drawdowns_when_past_due,
                limit_cut_to=None if not cut else Money.of(str(cut["to"])),
                warning_frozen=bool(state.get("warning_freeze")),
                **common,
            )
        instalments = tuple(
            Instalment(
                int(row["number"]),
                date.fromisoformat(str(row["due_date"])),
                Money.of(str(row["principal"])),
                Money.of(str(row["interest"])),
                Money.of(str(row.get("fee", "0.00"))),
            )
            for row in loan["schedule"]
        )
        schedule = Schedule(
            Money.of(str(loan["principal"])), annual, Method(str(loan["method"])), common["opened_on"], instalments
        )
        restructures = (loan.get("servicing") or {}).get("restructures") or []
        return cls(
            kind="instalment",
            schedule=schedule,
            waterfall=product.waterfall,
            early_repayment=product.early_repayment,
            interest_method=product.interest_method,
            restructures=tuple(sorted((Restructure.from_record(r) for r in restructures), key=lambda r: r.on)),
            capitalise_holiday_interest=product.capitalise_holiday_interest,
            **common,
        )


def schedule_record(schedule: Schedule) -> list[dict[str, Any]]:
    """A schedule as a booked loan record keeps it (what :meth:`LoanTerms.from_record` reads back)."""
    return [
        {
            "number": i.number,
            "due_date": i.due_date.isoformat(),
            "principal": str(i.principal),
            "interest": str(i.interest),
            "fee": str(i.fee),
        }
        for i in schedule.instalments
    ]


@dataclass(frozen=True, slots=True)
class ScheduleRow:
    """One instalment of the current schedule (a line: one statement) and how much of it is paid."""

    due_date: date
    principal: Money
    interest: Money
    paid: bool
    fee: Money = Money.ZERO
    principal_paid: Money = Money.ZERO
    interest_paid: Money = Money.ZERO
    fee_paid: Money = Money.ZERO


@dataclass(frozen=True, slots=True)
class Position:
    """A loan or line as of a date: balances, ageing, what the daily close must watch, and what is booked."""

    loan_id: str
    as_of: date
    status: LoanStatus
    principal_outstanding: Money
    interest_accrued: Money  # recognised and unpaid (a line: accrued daily; a loan: fallen due)
    fee_accrued: Money
    penalty_accrued: Money
    credit_balance: Money
    available_limit: Money | None  # a line only
    frozen: bool
    days_past_due: int
    bucket: str | None  # the delinquency bucket's code; None when current
    next_due_on: date | None  # the date from which the daily close must look at it; None: nothing will fall due
    schedule: tuple[ScheduleRow, ...]
    booked: Mapping[Account, int]  # every servicing posting so far, summed per account (debit positive)
    paid_in: Money
    drawn: Money
    payoff: Money  # what repays everything on ``as_of``, before any credit balance is used
    written_off: Money = Money.ZERO  # the principal taken off the book by a write-off
    provision: Money = Money.ZERO  # the loss allowance the loan's grade implies for the principal on the book

    @property
    def principal_on_book(self) -> Money:
        """The principal the ledger carries: none once written off (the borrower still owes it)."""
        return Money.ZERO if self.status is LoanStatus.WRITTEN_OFF else self.principal_outstanding


def bucket_for(days_past_due: int, buckets: Sequence[DelinquencyBucket]) -> str | None:
    """The bucket a number of days past due falls in (None when current)."""
    if days_past_due <= 0:
        return None
    for bucket in buckets:
        if days_past_due >= bucket.min_days and (bucket.max_days is None or days_past_due <= bucket.max_days):
            return bucket.code
    raise ValueError(f"no delinquency bucket holds {days_past_due} days past due")


def bucket_rank(code: str | None, buckets: Sequence[DelinquencyBucket]) -> int:
    """0 when current, then 1, 2, … in the catalogue's order (higher is worse)."""
    if code is None:
        return 0
    return 1 + [b.code for b in buckets].index(code)


def ordered(events: Iterable[ServicingEvent]) -> list[ServicingEvent]:
    """Events in the order they are applied: by time, then id (ties broken the same way everywhere)."""
    return sorted(events, key=lambda e: e.order)


class _Book:
    """Postings summed per account, from balanced transactions only.

    Once the loan is written off (:meth:`write_off`, on its day) nothing more is recognised on the book, and money
    coming in is a recovery: the loan's own model still runs, so the borrower's balances stay what they owe.
    """

    def __init__(self, terms: LoanTerms) -> None:
        self.fen: dict[Account, int] = {}
        self.loan_id = terms.loan_id
        self.written_off_on = terms.written_off_on
        self.off = False
        self.written_off = Money.ZERO

    def add(self, transaction: Transaction | None) -> None:
        if transaction is None:
            return
        for posting in transaction.postings:
            self.fen[posting.account] = self.fen.get(posting.account, 0) + posting.amount.fen

    def recognise(self, transaction: Transaction | None) -> None:
        """Income becoming receivable: booked while the loan is on the book."""
        if not self.off:
            self.add(transaction)

    def due_for_write_off(self, on: date) -> bool:
        """Is the loan written off before anything dated ``on`` happens (its write-off day has passed)?"""
        return not self.off and self.written_off_on is not None and on > self.written_off_on

    def write_off(self, principal: Money, interest: Money, fee: Money, penalty: Money) -> None:
        """Take every receivable (what the loan's model says is owed) off the book, as of the write-off day."""
        assert self.written_off_on is not None
        receivables = {
            AccountCode.PRINCIPAL_RECEIVABLE: principal,
            AccountCode.INTEREST_RECEIVABLE: interest,
            AccountCode.FEE_RECEIVABLE: fee,
            AccountCode.PENALTY_RECEIVABLE: penalty,
        }
        self.add(bookkeeping.write_off("write-off", self.loan_id, receivables, self.written_off_on))
        self.written_off = principal
        self.off = True

    def written_off_too(self, principal: Money, on: date) -> None:
        """Money paid out on a line already written off (a drawdown under way when it was): off the book at once."""
        if not self.off:
            return
        receivables = {AccountCode.PRINCIPAL_RECEIVABLE: principal}
        self.add(bookkeeping.write_off(f"write-off/{on}", self.loan_id, receivables, on))
        self.written_off += principal

    def paid(self, on_book: Transaction, amount: Money, credit: Money, on: date) -> None:
        """A payment: as booked on the loan, or a recovery once it is written off."""
        self.add(bookkeeping.recovery(on_book.id, self.loan_id, amount, credit, on) if self.off else on_book)

    def provide(self, grade: LoanClass, principal: Money, rules: Classification, on: date) -> Money:
        """Book the allowance the grade implies for the principal on the book (none once written off)."""
        allowance = provision(grade, Money.ZERO if self.off else principal, rules)
        self.add(bookkeeping.provision("provision", self.loan_id, allowance, on))
        return allowance


def replay(terms: LoanTerms, events: Iterable[ServicingEvent], through: date) -> Position:
    """The loan after its events, aged through ``through`` (at least the last event's day)."""
    history = ordered(events)
    if history and history[-1].on > through:
        raise ValueError(f"{terms.loan_id}: cannot age through {through}, before its last event")
    if through < terms.opened_on:
        raise ValueError(f"{terms.loan_id}: opened on {terms.opened_on}, after {through}")
    for event in history:
        if event.on < terms.opened_on:
            raise UnplaceablePayment(f"{event.event_id} is dated before {terms.loan_id} was opened")
    if terms.kind == "revolving":
        return _replay_line(terms, history, through)
    return _replay_loan(terms, history, through)


def _replay_loan(terms: LoanTerms, history: list[ServicingEvent], through: date) -> Position:
    assert terms.schedule is not None
    loan = InstalmentLoan(
        terms.loan_id,
        terms.schedule,
        terms.penalty_annual_rate,
        terms.day_count_basis,
        terms.waterfall,
        terms.early_repayment,
        interest_method=terms.interest_method,
    )
    book = _Book(terms)

    def write_off_before(on: date) -> None:
        if book.due_for_write_off(on):
            assert terms.written_off_on is not None
            book.recognise(bookkeeping.recognition("close", terms.loan_id, loan.advance_to(terms.written_off_on), on))
            book.write_off(
                loan.principal_outstanding, loan.interest_receivable, loan.fee_receivable, loan.penalty_receivable
            )

    paid_in = Money.ZERO
    restructures = list(terms.restructures)
    for event in history:
        if event.kind is not EventKind.REPAYMENT:
            raise InvalidAmount(f"{event.event_id}: an instalment loan takes repayments only")
        while restructures and restructures[0].on < event.on:  # a restructure applies after its day's payments
            _restructure(terms, loan, restructures.pop(0), book)
        write_off_before(event.on)
        recognised, applied = loan.apply_payment(event.amount, event.on)
        book.recognise(bookkeeping.recognition(f"{event.event_id}/recognition", terms.loan_id, recognised, event.on))
        book.paid(
            bookkeeping.repayment(event.event_id, terms.loan_id, applied, event.on),
            event.amount,
            applied.credit,
            event.on,
        )
        paid_in += event.amount
    while restructures and restructures[0].on <= through:
        _restructure(terms, loan, restructures.pop(0), book)
    write_off_before(through + _ONE_DAY)
    book.recognise(bookkeeping.recognition("close", terms.loan_id, loan.advance_to(through), through))
    dpd = loan.days_past_due(through)
    open_rows = [row for row in loan.rows if not row.settled]
    closed = loan.is_closed
    allowance = book.provide(terms.classification, loan.principal_outstanding, terms.rules, through)
    return Position(
        loan_id=terms.loan_id,
        as_of=through,
        status=_status(closed, book),
        principal_outstanding=loan.principal_outstanding,
        interest_accrued=loan.interest_receivable,
        fee_accrued=loan.fee_receivable,
        penalty_accrued=loan.penalty_receivable,
        credit_balance=loan.credit_balance,
        available_limit=None,
        frozen=False,
        days_past_due=dpd,
        bucket=bucket_for(dpd, terms.buckets),
        next_due_on=None if closed or not open_rows else open_rows[0].due_date,
        schedule=tuple(
            ScheduleRow(
                row.due_date,
                row.plan.principal,
                row.plan.interest,
                row.settled,
                row.plan.fee,
                row.principal_paid,
                row.interest_paid,
                row.fee_paid,
            )
            for row in loan.rows
        ),
        booked=book.fen,
        paid_in=paid_in,
        drawn=Money.ZERO,
        payoff=loan.payoff(through),
        written_off=book.written_off,
        provision=allowance,
    )


def _status(closed: bool, book: _Book) -> LoanStatus:
    if closed:
        return LoanStatus.CLOSED
    return LoanStatus.WRITTEN_OFF if book.off else LoanStatus.ACTIVE


def _restructure(terms: LoanTerms, loan: InstalmentLoan, restructure: Restructure, book: _Book) -> None:
    """Switch the loan to the plan rebuilt from its standing on the restructure's day (the restructure moves no
    money; what fell due by then is recognised first). A loan with no principal left by then (a late payment
    repaid it) has nothing to restructure."""
    on = restructure.on
    book.recognise(
        bookkeeping.recognition(f"{restructure.request_id}/recognition", terms.loan_id, loan.advance_to(on), on)
    )
    restructure_loan(terms, loan, restructure)


def restructure_loan(terms: LoanTerms, loan: InstalmentLoan, restructure: Restructure) -> None:
    """The loan, advanced to the restructure's day, switched to the plan rebuilt from its standing then."""
    if not loan.principal_outstanding.is_positive:
        return
    plan = restructure_plan(
        loan.standing(restructure.on),
        restructure.kind,
        restructure.months,
        rate_cap=None,  # checked when the plan was offered; what was accepted is serviced
        capitalise_holiday_interest=terms.capitalise_holiday_interest,
    )
    loan.restructure(plan)


def relief_plan(
    terms: LoanTerms,
    events: Iterable[ServicingEvent],
    on: date,
    kind: ReliefKind,
    months: int,
    *,
    rate_cap: Decimal | None,
) -> RestructuredPlan:
    """The plan a relief from ``on`` gives the loan after its events up to that day (applied as the replay applies
    them); RateCapExceeded above ``rate_cap``, ProductRuleViolation when nothing is left to restructure."""
    if terms.kind == "revolving" or terms.schedule is None:
        raise ReliefNotAvailable(f"{terms.loan_id} is a credit line: relief is for instalment loans")
    loan = InstalmentLoan(
        terms.loan_id,
        terms.schedule,
        terms.penalty_annual_rate,
        terms.day_count_basis,
        terms.waterfall,
        terms.early_repayment,
        interest_method=terms.interest_method,
    )
    restructures = [r for r in terms.restructures if r.on <= on]
    book = _Book(terms)
    for event in ordered(e for e in events if e.on <= on):
        while restructures and restructures[0].on < event.on:
            _restructure(terms, loan, restructures.pop(0), book)
        loan.apply_payment(event.amount, event.on)
    for restructure in restructures:
        _restructure(terms, loan, restructure, book)
    loan.advance_to(on)
    return restructure_plan(
        loan.standing(on),
        kind,
        months,
        rate_cap=rate_cap,
        capitalise_holiday_interest=terms.capitalise_holiday_interest,
    )


def _replay_line(terms: LoanTerms, history: list[ServicingEvent], through: date) -> Position:
    assert terms.limit is not None
    line = CreditLine(
        terms.loan_id,
        terms.limit,
        terms.annual_rate,
        terms.opened_on,
        terms.day_count_basis,
        term_months=terms.term_months,
        penalty_annual_rate=terms.penalty_annual_rate,
    )
    book = _Book(terms)
    paid_in = drawn = Money.ZERO
    loan_id = terms.loan_id

    def write_off_before(on: date) -> None:
        if book.due_for_write_off(on):
            assert terms.written_off_on is not None
            book.recognise(_line_recognition("close", loan_id, *line.advance_to(terms.written_off_on), on))
            book.write_off(line.principal_outstanding, line.interest_accrued, Money.ZERO, line.penalty_accrued)

    for event in history:
        write_off_before(event.on)
        book.recognise(
            _line_recognition(f"{event.event_id}/recognition", loan_id, *line.advance_to(event.on), event.on)
        )
        if event.kind is EventKind.DRAWDOWN:
            line.draw(event.amount, event.on, check=False)  # it was paid out: its checks were made on request
            book.add(
                Transaction.transfer(
                    event.event_id,
                    "drawdown",
                    event.on,
                    bookkeeping.of_loan(AccountCode.PRINCIPAL_RECEIVABLE, loan_id),
                    bookkeeping.SETTLEMENT_CASH,
                    event.amount,
                    memo=f"line {loan_id}",
                )
            )
            book.written_off_too(event.amount, event.on)
            drawn += event.amount
            continue
        repaid = line.repay(event.amount, event.on)
        book.paid(
            Transaction.build(
                event.event_id,
                "repayment",
                event.on,
                [(bookkeeping.SETTLEMENT_CASH, event.amount)],
                [
                    (bookkeeping.of_loan(AccountCode.PENALTY_RECEIVABLE, loan_id), repaid.penalty),
                    (bookkeeping.of_loan(AccountCode.INTEREST_RECEIVABLE, loan_id), repaid.interest),
                    (bookkeeping.of_loan(AccountCode.PRINCIPAL_RECEIVABLE, loan_id), repaid.principal),
                    (bookkeeping.of_loan(AccountCode.BORROWER_CREDIT, loan_id), repaid.credit),
                ],
                memo=f"line {loan_id}",
            ),
            event.amount,
            repaid.credit,
            event.on,
        )
        paid_in += event.amount
    write_off_before(through + _ONE_DAY)
    book.recognise(_line_recognition("close", loan_id, *line.advance_to(through), through))
    dpd = line.days_past_due(through)
    line.frozen = (terms.freeze_when_past_due and dpd > 0) or terms.warning_frozen or book.off
    owes = bool(line.principal_outstanding or line.interest_accrued or line.penalty_accrued)
    oldest = line.oldest_unpaid_due_date
    next_statement = line.next_statement_date
    available = line.available_limit
    if terms.limit_cut_to is not None:
        available = min(available, max(terms.limit_cut_to - line.principal_outstanding, Money.ZERO))
    allowance = book.provide(terms.classification, line.principal_outstanding, terms.rules, through)
    return Position(
        loan_id=loan_id,
        as_of=through,
        status=_status(line.is_closed, book),
        principal_outstanding=line.principal_outstanding,
        interest_accrued=line.interest_accrued,
        fee_accrued=Money.ZERO,
        penalty_accrued=line.penalty_accrued,
        credit_balance=line.credit_balance,
        available_limit=Money.ZERO if book.off else available,
        frozen=line.frozen,
        days_past_due=dpd,
        bucket=bucket_for(dpd, terms.buckets),
        next_due_on=oldest if oldest is not None else (next_statement if owes else None),
        schedule=tuple(
            ScheduleRow(s.due_date, s.unpaid_principal, s.unpaid_interest, not s.unpaid) for s in line.statements
        ),
        booked=book.fen,
        paid_in=paid_in,
        drawn=drawn,
        payoff=line.principal_outstanding + line.interest_accrued + line.penalty_accrued,
        written_off=book.written_off,
        provision=allowance,
    )


def _line_recognition(tx_id: str, loan_id: str, interest: Money, penalty: Money, on: date) -> Transaction | None:
    if not (interest or penalty):
        return None
    return Transaction.build(
        tx_id,
        "recognition",
        on,
        [
            (bookkeeping.of_loan(AccountCode.INTEREST_RECEIVABLE, loan_id), interest),
            (bookkeeping.of_loan(AccountCode.PENALTY_RECEIVABLE, loan_id), penalty),
        ],
        [(bookkeeping.INTEREST_INCOME, interest), (bookkeeping.PENALTY_INCOME, penalty)],
        memo=f"line {loan_id}",
    )


def difference(
    transaction_id: str, kind: str, on: date, before: Mapping[Account, int], after: Mapping[Account, int], memo: str
) -> Transaction | None:
    """The one transaction that takes the books from ``before`` to ``after`` (None when they are equal).

    Balanced because both sides are sums of balanced transactions.
    """
    postings = tuple(
        Posting(account, Money(after.get(account, 0) - before.get(account, 0)))
        for account in sorted({*before, *after}, key=str)
        if after.get(account, 0) != before.get(account, 0)
    )
    if not postings:
        return None
    return Transaction(transaction_id, kind, on, postings, memo)


def opening(terms: LoanTerms, transaction_id: str) -> tuple[Transaction | None, dict[str, Any]]:
    """What booking posts for a loan's own books on its first day (the allowance its grade implies), and the
    servicing state that remembers it, so the first servicing write posts only what changed since."""
    position = replay(terms, [], terms.opened_on)
    transaction = difference(transaction_id, "provision", terms.opened_on, {}, position.booked, f"loan {terms.loan_id}")
    state = {
        "booked": booked_to_record(position.booked),
        "classification": terms.classification.value,
        "provision": str(position.provision),
    }
    return transaction, state


def booked_to_record(booked: Mapping[Account, int]) -> dict[str, int]:
    return {str(account): fen for account, fen in booked.items() if fen}


def booked_from_record(record: Mapping[str, Any] | None) -> dict[Account, int]:
    return {Account.parse(name): int(fen) for name, fen in (record or {}).items()}
