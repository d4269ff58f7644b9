"""The restructured plan (lending.restructuring) and its servicing (lending.loan, lending.servicing.replay): it
repays exactly the principal outstanding, a holiday adds only its own simple interest, due dates strictly increase,
the APR is checked against the cap, and a replay switches plans on the restructure's day."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lending.calendar import add_months
from lending.catalogue import InterestMethod, Method, load_catalogue
from lending.errors import ProductRuleViolation, RateCapExceeded
from lending.history import movements
from lending.ledger import Account, AccountCode
from lending.loan import InstalmentLoan
from lending.money import Money, total
from lending.pricing import make_offer
from lending.restructuring import ReliefKind, Restructure, restructure_plan
from lending.schedule import build_schedule
from lending.servicing import EventKind, LoanTerms, ServicingEvent, replay, schedule_record

CATALOGUE = load_catalogue()
OPENED = date(2026, 1, 10)
CAP = Decimal("0.24")
SETTINGS = settings(max_examples=60, deadline=None)


def _loan(
    principal: str, rate: str, months: int, method: Method, daily: bool = False, opened: date = OPENED
) -> InstalmentLoan:
    interest_method = InterestMethod.DAILY if daily else InterestMethod.MONTHLY
    basis = 365 if daily else 360
    schedule = build_schedule(
        Money.of(principal),
        Decimal(rate),
        months,
        method,
        opened,
        day_count_basis=basis,
        interest_method=interest_method,
    )
    return InstalmentLoan("L-1", schedule, Decimal(rate) * Decimal("1.5"), basis, interest_method=interest_method)


def _unpaid_interest(loan: InstalmentLoan) -> Money:
    return total(r.unpaid_interest for r in loan.rows if not r.settled)


loans = st.builds(
    _loan,
    principal=st.integers(min_value=1_000, max_value=500_000).map(str),
    rate=st.sampled_from(["0.0720", "0.1200", "0.1650", "0.2050"]),
    months=st.integers(min_value=3, max_value=36),
    method=st.sampled_from([Method.EQUAL_INSTALMENT, Method.EQUAL_PRINCIPAL]),
    daily=st.booleans(),
    # Month ends too: a loan falling due on the 29th-31st is clamped in shorter months, and so are its moved dates
    opened=st.sampled_from([OPENED, date(2026, 1, 31), date(2026, 3, 30), date(2027, 12, 29)]),
)


@SETTINGS
@given(
    loan=loans,
    kind=st.sampled_from(list(ReliefKind)),
    months=st.integers(min_value=1, max_value=6),
    paid_rows=st.integers(min_value=0, max_value=2),
    days_late=st.integers(min_value=0, max_value=75),
)
def test_the_plan_repays_the_principal_outstanding_and_a_holiday_adds_only_its_simple_interest(
    loan: InstalmentLoan, kind: ReliefKind, months: int, paid_rows: int, days_late: int
) -> None:
    # Given a loan with some instalments paid on their due dates, then a stretch unpaid
    for row in loan.schedule.instalments[:paid_rows]:
        loan.apply_payment(row.total, row.due_date)
    last_paid = loan.schedule.instalments[paid_rows - 1].due_date if paid_rows else loan.schedule.start
    on = last_paid + timedelta(days=days_late)
    loan.advance_to(on)
    standing = loan.standing(on)
    unpaid_interest = _unpaid_interest(loan)
    # When it is restructured
    plan = restructure_plan(standing, kind, months, rate_cap=Decimal("0.99"))
    # Then the plan repays exactly the principal outstanding, on strictly increasing dates after the day
    assert plan.principal == loan.principal_outstanding
    dates = [p.instalment.due_date for p in plan.instalments]
    assert all(a < b for a, b in itertools.pairwise(dates))
    assert dates[0] > on
    # and never capitalises interest or fees: what fell due is spread as interest and fee, carried as recognised
    assert total(p.carried_interest for p in plan.instalments) == standing.overdue_interest
    assert total(p.carried_fee for p in plan.instalments) == standing.overdue_fee
    if kind is ReliefKind.PAYMENT_HOLIDAY:
        # the holiday's interest is simple interest on the principal outstanding over its days, no compounding
        days = (add_months(on, months) - on).days
        fen = Fraction(loan.principal_outstanding.fen) * Fraction(loan.schedule.annual_rate) * days
        fen /= loan.day_count_basis
        expected = Money(int(fen) + (1 if fen - int(fen) >= Fraction(1, 2) else 0))
        assert plan.holiday_interest == expected
        assert plan.total_interest == unpaid_interest + plan.holiday_interest
        assert len(plan.instalments) == max(len(standing.upcoming), 1)
        assert dates[-1] == add_months(loan.schedule.instalments[-1].due_date, months, standing.anchor_day) or (
            not standing.upcoming
        )
    else:
        assert plan.holiday_interest == Money.ZERO
        assert len(plan.instalments) == max(len(standing.upcoming), 1) + months


@SETTINGS
@given(
    loan=loans,
    kind=st.sampled_from(list(ReliefKind)),
    months=st.integers(min_value=1, max_value=6),
    days_late=st.integers(min_value=0, max_value=75),
)
def test_paying_the_new_plan_on_its_due_dates_closes_the_loan_with_every_receivable_collected(
    loan: InstalmentLoan, kind: ReliefKind, months: int, days_late: int
) -> None:
    # Given a loan whose first instalment was missed, restructured some days after it fell due
    on = loan.schedule.instalments[0].due_date + timedelta(days=days_late)
    loan.advance_to(on)
    penalty = loan.penalty_receivable
    plan = restructure_plan(loan.standing(on), kind, months, rate_cap=Decimal("0.99"))
    loan.restructure(plan)
    assert loan.days_past_due(on) == 0
    # When the borrower pays the penalty and then each new instalment on its due date
    if penalty:
        loan.apply_payment(penalty, on)
    recognised_interest = Money.ZERO
    for planned in plan.instalments:
        row = planned.instalment
        recognised, applied = loan.apply_payment(row.total, row.due_date)
        recognised_interest += recognised.interest
        assert applied.credit == Money.ZERO
    # Then the loan is closed, nothing is receivable, and what was carried was never recognised twice
    assert loan.is_closed
    assert loan.interest_receivable == Money.ZERO
    assert loan.fee_receivable == Money.ZERO
    assert recognised_interest == plan.total_interest - total(p.carried_interest for p in plan.instalments)


@SETTINGS
@given(loan=loans, kind=st.sampled_from(list(ReliefKind)), months=st.integers(min_value=1, max_value=6))
def test_the_payoff_after_a_restructure_includes_the_spread_interest_and_closes_the_loan(
    loan: InstalmentLoan, kind: ReliefKind, months: int
) -> None:
    # Given a loan restructured 10 days after its first missed instalment
    on = loan.schedule.instalments[0].due_date + timedelta(days=10)
    loan.advance_to(on)
    plan = restructure_plan(loan.standing(on), kind, months, rate_cap=Decimal("0.99"))
    loan.restructure(plan)
    # When the borrower pays off everything some days later
    day = on + timedelta(days=5)
    loan.advance_to(day)
    payoff = loan.payoff(day)
    _, applied = loan.apply_payment(payoff, day)
    # Then nothing is left, no credit, nothing receivable
    assert applied.credit == Money.ZERO
    assert loan.is_closed
    assert loan.interest_receivable == Money.ZERO
    assert payoff >= plan.principal + total(p.deferred for p in plan.instalments)


def test_a_holiday_on_a_current_loan_moves_every_due_date_and_spreads_its_interest_evenly() -> None:
    # Given 12,000.00 over 3 months at 12%, restructured on the day after opening
    loan = _loan("12000.00", "0.1200", 3, Method.EQUAL_INSTALMENT)
    on = OPENED
    # When a 2-month holiday is built
    plan = restructure_plan(loan.standing(on), ReliefKind.PAYMENT_HOLIDAY, 2, rate_cap=CAP)
    # Then the dates move by two months, the principal and interest stay, and 2 months' interest is spread:
    # 12,000.00 × 0.12 / 360 × 59 days (10 Jan – 10 Mar) = 236.00, 78.66 + 78.66 + 78.68
    assert [p.instalment.due_date for p in plan.instalments] == [
        date(2026, 4, 10),
        date(2026, 5, 10),
        date(2026, 6, 10),
    ]
    assert plan.holiday_interest == Money.of("236.00")
    assert [p.deferred for p in plan.instalments] == [Money.of("78.66"), Money.of("78.66"), Money.of("78.68")]
    old = loan.schedule.instalments
    assert [p.instalment.principal for p in plan.instalments] == [i.principal for i in old]
    assert [p.instalment.interest - p.deferred for p in plan.instalments] == [i.interest for i in old]
    # and the simple interest spread later makes the APR lower than the contract rate, never above the cap
    assert Decimal("0.08") < plan.apr < Decimal("0.12")


def test_a_term_extension_reamortises_the_principal_over_more_periods_at_the_contract_rate() -> None:
    # Given the same loan, its first instalment missed, restructured 5 days after
    loan = _loan("12000.00", "0.1200", 3, Method.EQUAL_INSTALMENT)
    on = date(2026, 2, 15)
    loan.advance_to(on)
    standing = loan.standing(on)
    # When 3 months are added
    plan = restructure_plan(standing, ReliefKind.TERM_EXTENSION, 3, rate_cap=CAP)
    # Then 12,000.00 less nothing paid is spread over 2 + 3 = 5 instalments from 10 Mar, the first instalment's
    # interest being carried (fallen due on 10 Feb) and spread, and the APR is about the contract rate
    assert [p.instalment.due_date for p in plan.instalments] == [
        date(2026, 3, 10),
        date(2026, 4, 10),
        date(2026, 5, 10),
        date(2026, 6, 10),
        date(2026, 7, 10),
    ]
    assert plan.principal == Money.of("12000.00")
    assert total(p.carried_interest for p in plan.instalments) == loan.schedule.instalments[0].interest
    assert abs(plan.apr - Decimal("0.12")) < Decimal("0.01")


def test_a_plan_above_the_rate_cap_is_refused_and_relief_runs_one_to_six_months() -> None:
    loan = _loan("12000.00", "0.2050", 12, Method.EQUAL_INSTALMENT)
    with pytest.raises(RateCapExceeded):
        restructure_plan(loan.standing(OPENED), ReliefKind.TERM_EXTENSION, 3, rate_cap=Decimal("0.1800"))
    for months in (0, 7):
        with pytest.raises(ProductRuleViolation):
            restructure_plan(loan.standing(OPENED), ReliefKind.PAYMENT_HOLIDAY, months, rate_cap=CAP)
    with pytest.raises(ProductRuleViolation):
        Restructure("hr_1", ReliefKind.PAYMENT_HOLIDAY, 9, OPENED)


def test_capitalised_holiday_interest_compounds_only_when_the_product_says_so() -> None:
    loan = _loan("12000.00", "0.1200", 6, Method.EQUAL_INSTALMENT)
    spread = restructure_plan(loan.standing(OPENED), ReliefKind.PAYMENT_HOLIDAY, 3, rate_cap=CAP)
    capitalised = restructure_plan(
        loan.standing(OPENED), ReliefKind.PAYMENT_HOLIDAY, 3, rate_cap=CAP, capitalise_holiday_interest=True
    )
    # Capitalised, the holiday's interest is principal and earns interest itself: more interest in all
    assert capitalised.principal == spread.principal + spread.holiday_interest
    assert capitalised.total_repayable > spread.total_repayable
    assert spread.principal == Money.of("12000.00")


# The replay (lending.servicing)

CST = timedelta(hours=8)


def _at(day: date) -> datetime:
    return datetime.combine(day, time(10), tzinfo=UTC) - CST


def _terms(restructures: tuple[Restructure, ...] = ()) -> LoanTerms:
    offer = make_offer(
        CATALOGUE, "business_instalment", Money.of("12000.00"), 6, Method.EQUAL_INSTALMENT, OPENED, Decimal("0.12")
    )
    record = {
        "loan_id": "L-1",
        "product": "business_instalment",
        "opened_on": OPENED.isoformat(),
        "annual_rate": "0.1200",
        "term_months": 6,
        "principal": "12000.00",
        "method": "equal_instalment",
        "schedule": schedule_record(offer.schedule),
        "servicing": {"restructures": [r.to_record() for r in restructures]},
    }
    return LoanTerms.from_record(record, CATALOGUE)


def test_the_replay_switches_to_the_new_plan_on_the_restructure_day_and_a_late_earlier_payment_converges() -> None:
    # Given a 6-month loan whose second instalment is missed, then a 2-month holiday from 20 Mar
    on = date(2026, 3, 20)
    holiday = Restructure("hr_1", ReliefKind.PAYMENT_HOLIDAY, 2, on, "special_mention")
    terms = _terms((holiday,))
    first = terms.schedule.instalments[0] if terms.schedule else None
    assert first is not None
    paid_first = ServicingEvent("p1", EventKind.REPAYMENT, _at(first.due_date), first.total)
    # When the replay runs to a day after the restructure
    position = replay(terms, [paid_first], date(2026, 4, 1))
    # Then the first instalment is paid on the old schedule; the missed one (10 Mar) is folded into the four not
    # yet due (10 Apr – 10 Jul), each moved two months; nothing is overdue
    assert position.schedule[0].paid
    assert position.schedule[0].due_date == first.due_date
    assert [r.due_date for r in position.schedule[1:]] == [add_months(date(2026, 6, 10), k) for k in range(4)]
    assert position.days_past_due == 0
    assert position.principal_outstanding == Money.of("12000.00") - first.principal
    # And the books balance, the restructure itself having moved no cash
    assert sum(position.booked.values()) == 0
    cash = Account.parse(str(next(a for a in position.booked if a.code is AccountCode.SETTLEMENT_CASH)))
    assert position.booked[cash] == first.total.fen
    # And a payment dated before the restructure, arriving after it, is applied on the old schedule first
    second = terms.schedule.instalments[1] if terms.schedule else None
    assert second is not None
    # (with 5 days' penalty on it, and a little more that prepays principal)
    late = ServicingEvent("p2", EventKind.REPAYMENT, _at(date(2026, 3, 15)), second.total + Money.of("50.00"))
    later = replay(terms, [late, paid_first], date(2026, 4, 1))
    assert later.principal_outstanding < Money.of("12000.00") - first.principal - second.principal
    assert later.schedule[1].paid
    assert later.schedule[1].due_date == second.due_date
    assert [r.due_date for r in later.schedule[2:]] == [add_months(date(2026, 6, 10), k) for k in range(4)]
    assert replay(terms, [paid_first, late], date(2026, 4, 1)) == later


def test_a_restructure_of_a_loan_a_late_payment_repaid_is_skipped() -> None:
    on = date(2026, 3, 20)
    terms = _terms((Restructure("hr_1", ReliefKind.TERM_EXTENSION, 3, on),))
    payoff = replay(_terms(), [], date(2026, 3, 1)).payoff
    position = replay(terms, [ServicingEvent("p1", EventKind.REPAYMENT, _at(date(2026, 3, 1)), payoff)], on)
    assert position.principal_outstanding == Money.ZERO
    assert position.status.value == "CLOSED"


def test_the_transactions_of_a_restructured_loan_sum_to_the_replays_books() -> None:
    # Given the loan with a holiday from 20 Mar, its first instalment paid, another payment after the restructure
    on = date(2026, 3, 20)
    terms = _terms((Restructure("hr_1", ReliefKind.PAYMENT_HOLIDAY, 2, on),))
    first = terms.schedule.instalments[0] if terms.schedule else None
    assert first is not None
    events = [
        ServicingEvent("p1", EventKind.REPAYMENT, _at(first.due_date), first.total),
        ServicingEvent("p2", EventKind.REPAYMENT, _at(date(2026, 6, 10)), Money.of("2500.00")),
    ]
    through = date(2026, 6, 20)
    record = {"upfront_fee": "0.00"}
    # When the transactions are listed
    listed = movements(terms, record, events, through)
    # Then their postings (the disbursement aside) sum to what the replay booked, account by account
    summed: dict[Account, int] = {}
    for movement in listed:
        if movement.transaction is None or movement.kind.value == "disbursement":
            continue
        for posting in movement.transaction.postings:
            summed[posting.account] = summed.get(posting.account, 0) + posting.amount.fen
    booked = replay(terms, events, through).booked
    # (the loss allowance is the lender's estimate, not a movement on the borrower's account)
    risk = {AccountCode.LOAN_LOSS_ALLOWANCE, AccountCode.PROVISION_EXPENSE}
    assert {a: f for a, f in summed.items() if f} == {a: f for a, f in booked.items() if f and a.code not in risk}
