"""A loan's money history, derived: every movement with the balances after it, and a line's monthly statements.

Nothing here is a second bookkeeping. The history is the servicing replay (lending.servicing) walked one step at a
time: the same loan or line model, the same events in the same order, the same ledger transactions
(lending.bookkeeping, lending.ledger) the replay books, only taken apart at each due or statement date so that
each fact is its own movement. The balances after a movement are the loan's ledger accounts (principal, interest,
fee and penalty receivable, the borrower's credit) summed over the postings so far. The walk ends on the day the
replay ends, with the replay's balances (a unit test holds them equal).

Ids: a disbursement, drawdown or repayment carries the id of the ledger transaction that booked it
(``<loan>/disbursement``, ``<line>/<drawdown>``, ``payment/<event>``: the ledger books a fact with whatever became
owed on its day, in one transaction); interest, fees and penalty becoming owed carry ``<loan>/<kind>/<date>`` (the
ledger books them inside the day's close or the fact that arrived that day).

Kinds a loan has no fact for yet (reversal, write-off, recovery, refund) are part of the vocabulary and appear when
servicing books them; the in-order replay never reverses (a late payment re-dates history instead).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from lending import bookkeeping
from lending.credit_line import CreditLine
from lending.ledger import AccountCode, Transaction
from lending.loan import InstalmentLoan, PaymentApplied, Recognised
from lending.money import Money, total
from lending.servicing import EventKind, LoanTerms, ServicingEvent, ordered, restructure_loan

_DAY = timedelta(days=1)


class MovementKind(StrEnum):
    DISBURSEMENT = "disbursement"
    DRAWDOWN = "drawdown"
    REPAYMENT = "repayment"
    INTEREST = "interest"
    PENALTY = "penalty"
    FEE = "fee"
    REVERSAL = "reversal"
    WRITE_OFF = "write_off"
    RECOVERY = "recovery"
    REFUND = "refund"


@dataclass(frozen=True, slots=True)
class LoanBalances:
    """What the borrower owes, and what is held for them, after a movement."""

    principal: Money = Money.ZERO
    interest: Money = Money.ZERO
    fees: Money = Money.ZERO
    penalty: Money = Money.ZERO
    credit: Money = Money.ZERO


@dataclass(frozen=True, slots=True)
class Split:
    """Where a repayment went, in the waterfall's terms."""

    penalty: Money
    fees: Money
    interest: Money
    principal: Money
    credit: Money


@dataclass(frozen=True, slots=True)
class Movement:
    """One money movement on a loan, the ledger transaction behind it, and the balances after it."""

    id: str
    kind: MovementKind
    effective_on: date
    amount: Money
    balances: LoanBalances
    transaction: Transaction | None = None
    split: Split | None = None


@dataclass(frozen=True, slots=True)
class LineStatement:
    """One monthly statement of a line: the period it closes, what happened in it, and what it made due."""

    number: int
    period_start: date  # the day after the previous statement (the opening day for the first)
    period_end: date  # the statement date
    opening_balance: Money  # owed (principal, interest, penalty) at the end of the previous statement date
    drawn: Money
    repaid: Money  # of the repayments in the period, what paid what was owed (not what went to credit)
    interest: Money
    penalty: Money
    closing_balance: Money  # owed at the end of the statement date, before any payment made later that day
    minimum_due: Money  # what the statement made due: the period's interest (and all principal at maturity)
    due_date: date
    unpaid: Money  # of the minimum due, what is still unpaid as of the walk's last day

    @property
    def paid(self) -> bool:
        return not self.unpaid


#: The loan's own accounts, and the sign that turns each into what the borrower sees (credit: money we owe them).
_ACCOUNTS = {
    AccountCode.PRINCIPAL_RECEIVABLE: "principal",
    AccountCode.INTEREST_RECEIVABLE: "interest",
    AccountCode.FEE_RECEIVABLE: "fees",
    AccountCode.PENALTY_RECEIVABLE: "penalty",
    AccountCode.BORROWER_CREDIT: "credit",
}


@dataclass(slots=True)
class _Walk:
    """The movements so far and the loan's account balances they leave (fen, debit positive)."""

    loan_id: str
    movements: list[Movement] = field(default_factory=list)
    fen: dict[AccountCode, int] = field(default_factory=dict)
    ids: set[str] = field(default_factory=set)

    def balances(self) -> LoanBalances:
        values = {name: Money(self.fen.get(code, 0)) for code, name in _ACCOUNTS.items()}
        values["credit"] = -values["credit"]  # credit-normal
        return LoanBalances(**values)

    def owed(self) -> Money:
        b = self.balances()
        return b.principal + b.interest + b.fees + b.penalty

    def add(
        self,
        movement_id: str,
        kind: MovementKind,
        on: date,
        amount: Money,
        transaction: Transaction | None,
        split: Split | None = None,
    ) -> None:
        if transaction is not None:
            for posting in transaction.postings:
                if posting.account.key == self.loan_id and posting.account.code in _ACCOUNTS:
                    self.fen[posting.account.code] = self.fen.get(posting.account.code, 0) + posting.amount.fen
        unique, n = movement_id, 1
        while unique in self.ids:  # two facts of one kind on one day (a due date and a payment that day)
            n += 1
            unique = f"{movement_id}/{n}"
        self.ids.add(unique)
        self.movements.append(Movement(unique, kind, on, amount, self.balances(), transaction, split))

    def recognised(self, on: date, recognised: Recognised) -> None:
        """Interest, fees and penalty that became owed on ``on``: one movement each."""
        for kind, part in (
            (MovementKind.INTEREST, Recognised(interest=recognised.interest)),
            (MovementKind.FEE, Recognised(fee=recognised.fee)),
            (MovementKind.PENALTY, Recognised(penalty=recognised.penalty)),
        ):
            tx_id = f"{self.loan_id}/{kind}/{on}"
            transaction = bookkeeping.recognition(tx_id, self.loan_id, part, on)
            if transaction is not None:
                self.add(tx_id, kind, on, part.interest + part.fee + part.penalty, transaction)


def movements(
    terms: LoanTerms, record: Mapping[str, Any], events: Iterable[ServicingEvent], through: date
) -> list[Movement]:
    """Every movement on the loan or line from its booking through ``through``, oldest first."""
    history = ordered(events)
    if terms.kind == "revolving":
        walked = _line_walk(terms, history, through)[0]
    else:
        walked = _loan_walk(terms, record, history, through)
    return _written_off(walked, terms, through)


def _written_off(walked: list[Movement], terms: LoanTerms, through: date) -> list[Movement]:
    """The walk with the write-off in it, if the loan was written off: the lender took what was owed off its book
    that day, which the borrower still owes (their balances do not change), and what they pay after it is a
    recovery."""
    day = terms.written_off_on
    if day is None or through < day:
        return walked
    result: list[Movement] = []
    written = False
    for movement in walked:
        if not written and movement.effective_on > day:
            result.append(_write_off(terms.loan_id, day, result))
            written = True
        recovered = written and movement.kind is MovementKind.REPAYMENT
        result.append(replace(movement, kind=MovementKind.RECOVERY) if recovered else movement)
    if not written:
        result.append(_write_off(terms.loan_id, day, result))
    return result


def _write_off(loan_id: str, day: date, before: list[Movement]) -> Movement:
    balances = before[-1].balances if before else LoanBalances()
    owed = balances.principal + balances.interest + balances.fees + balances.penalty
    return Movement(f"{loan_id}/write-off", MovementKind.WRITE_OFF, day, owed, balances)


def statements(terms: LoanTerms, events: Iterable[ServicingEvent], through: date) -> list[LineStatement]:
    """A line's statements made through ``through``, oldest first (what is unpaid of each as of ``through``)."""
    if terms.kind != "revolving":
        raise ValueError(f"{terms.loan_id} is not a line: it has a schedule, not statements")
    return _line_walk(terms, ordered(events), through)[1]


def _loan_walk(
    terms: LoanTerms, record: Mapping[str, Any], history: list[ServicingEvent], through: date
) -> list[Movement]:
    assert terms.schedule is not None
    loan_id = terms.loan_id
    loan = InstalmentLoan(
        loan_id,
        terms.schedule,
        terms.penalty_annual_rate,
        terms.day_count_basis,
        terms.waterfall,
        terms.early_repayment,
        interest_method=terms.interest_method,
    )
    walk = _Walk(loan_id)
    principal = terms.schedule.principal
    fee = Money.of(str(record.get("upfront_fee") or "0"))
    disbursed = bookkeeping.disbursement(f"{loan_id}/disbursement", loan_id, principal, fee, terms.opened_on)
    walk.add(disbursed.id, MovementKind.DISBURSEMENT, terms.opened_on, principal, disbursed)
    if fee:
        # Kept from the payout (the borrower received principal less it): earned at once, never owed.
        walk.add(f"{loan_id}/disbursement/fee", MovementKind.FEE, terms.opened_on, fee, None)

    def advance(to: date, *, before: bool) -> None:
        # Each due date on its own, so interest and fees falling due are dated when they fell due.
        for row in list(loan.rows):
            due = row.due_date
            if loan.as_of < due and (due < to if before else due <= to):
                walk.recognised(due, loan.advance_to(due))

    restructures = list(terms.restructures)

    def restructure_through(day: date) -> None:
        # Each restructure after its day's payments, as the replay applies it (lending.servicing).
        while restructures and restructures[0].on <= day:
            restructure = restructures.pop(0)
            advance(restructure.on, before=False)
            walk.recognised(restructure.on, loan.advance_to(restructure.on))
            restructure_loan(terms, loan, restructure)

    for event in history:
        if event.kind is not EventKind.REPAYMENT:
            raise ValueError(f"{event.event_id}: an instalment loan takes repayments only")
        restructure_through(event.on - timedelta(days=1))
        advance(event.on, before=True)
        recognised, applied = loan.apply_payment(event.amount, event.on)
        walk.recognised(event.on, recognised)
        tx_id = f"payment/{event.event_id}"
        repaid = bookkeeping.repayment(tx_id, loan_id, applied, event.on)
        walk.add(tx_id, MovementKind.REPAYMENT, event.on, event.amount, repaid, _loan_split(applied))
    restructure_through(through)
    advance(through, before=False)
    walk.recognised(through, loan.advance_to(through))
    return walk.movements


def _loan_split(applied: PaymentApplied) -> Split:
    return Split(
        penalty=applied.penalty,
        fees=applied.fee_receivable + applied.fee_earned,
        interest=applied.interest_receivable + applied.interest_earned,
        principal=applied.principal,
        credit=applied.credit,
    )


def _line_walk(
    terms: LoanTerms, history: list[ServicingEvent], through: date
) -> tuple[list[Movement], list[LineStatement]]:
    assert terms.limit is not None
    loan_id = terms.loan_id
    line = CreditLine(
        loan_id,
        terms.limit,
        terms.annual_rate,
        terms.opened_on,
        terms.day_count_basis,
        term_months=terms.term_months,
        penalty_annual_rate=terms.penalty_annual_rate,
    )
    walk = _Walk(loan_id)
    closed: list[dict[str, Any]] = []  # each statement's figures, and the line's Statement it made
    period_start, opening, first = terms.opened_on, Money.ZERO, 0

    def accrue(to: date) -> None:
        interest, penalty = line.advance_to(to)
        walk.recognised(to, Recognised(interest=interest, penalty=penalty))

    def advance(to: date) -> None:
        nonlocal period_start, opening, first
        while (statement_on := line.next_statement_date) is not None and statement_on <= to:
            accrue(statement_on)
            number = len(closed) + 1
            in_period = walk.movements[first:]
            stated = line.statements[-1]
            closed.append(
                {
                    "number": number,
                    "period_start": period_start,
                    "period_end": statement_on,
                    "opening_balance": opening,
                    "drawn": total(m.amount for m in in_period if m.kind is MovementKind.DRAWDOWN),
                    "repaid": total(
                        m.amount - m.split.credit
                        for m in in_period
                        if m.kind is MovementKind.REPAYMENT and m.split is not None
                    ),
                    "interest": total(m.amount for m in in_period if m.kind is MovementKind.INTEREST),
                    "penalty": total(m.amount for m in in_period if m.kind is MovementKind.PENALTY),
                    "closing_balance": walk.owed(),
                    "minimum_due": stated.unpaid,
                    "due_date": stated.due_date,
                    "statement": stated,
                }
            )
            period_start = statement_on + _DAY
            opening = walk.owed()
            first = len(walk.movements)
        accrue(to)

    for event in history:
        advance(event.on)
        if event.kind is EventKind.DRAWDOWN:
            line.draw(event.amount, event.on, check=False)  # paid out: its checks were made on request
            tx_id = f"{loan_id}/{event.event_id}"
            drawn = Transaction.transfer(
                tx_id,
                "drawdown",
                event.on,
                bookkeeping.of_loan(AccountCode.PRINCIPAL_RECEIVABLE, loan_id),
                bookkeeping.SETTLEMENT_CASH,
                event.amount,
                memo=f"line {loan_id}",
            )
            walk.add(tx_id, MovementKind.DRAWDOWN, event.on, event.amount, drawn)
            continue
        repaid = line.repay(event.amount, event.on)
        tx_id = f"payment/{event.event_id}"
        transaction = Transaction.build(
            tx_id,
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
        )
        split = Split(repaid.penalty, Money.ZERO, repaid.interest, repaid.principal, repaid.credit)
        walk.add(tx_id, MovementKind.REPAYMENT, event.on, event.amount, transaction, split)
    advance(through)
    made_statements = [
        LineStatement(**{k: v for k, v in c.items() if k != "statement"}, unpaid=c["statement"].unpaid) for c in closed
    ]
    return walk.movements, made_statements
