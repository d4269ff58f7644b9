"""A credit line's statement cycle (lending.credit_line.CreditLine.advance_to and friends), by known answers worked
by hand beside each assertion: interest stated on each monthly anniversary (clamped to the month's end), principal
due at maturity, penalty on overdue stated amounts, days past due, refusals, the repayment waterfall, and advancing
being idempotent per date."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lending.catalogue import Catalogue
from lending.credit_line import CreditLine, DrawdownRefused, LineRepayment
from lending.money import Money
from lending.servicing import EventKind, LoanTerms, ServicingEvent, replay

# The line most answers below use: opened on 31 January 2026 (so every anniversary needs clamping), 50,000.00 at
# 18% a year on a 360-day basis, three months. 10,000.00 drawn costs 10,000 × 0.18 / 360 = 5.00 a day.
OPENED = date(2026, 1, 31)
PENALTY = Decimal("0.24")  # the credit line product: min(0.18 × 1.5, cap 0.24) = 0.24 (checked below)


def _half_up(fen: Fraction) -> int:
    return math.floor(fen + Fraction(1, 2))


def _line(opened: date = OPENED, *, months: int | None = 3, rate: str = "0.18", limit: str = "50000") -> CreditLine:
    return CreditLine(
        "CL-1", Money.of(limit), Decimal(rate), opened, 360, term_months=months, penalty_annual_rate=PENALTY
    )


def _drawn(amount: str = "10000", opened: date = OPENED, **options: Any) -> CreditLine:
    """The line with ``amount`` drawn on its opening day (advanced there first, as replay does)."""
    line = _line(opened, **options)
    line.advance_to(opened)
    line.draw(Money.of(amount), opened)
    return line


def _stated(line: CreditLine) -> list[tuple[date, str, str]]:
    return [(s.due_date, str(s.unpaid_interest), str(s.unpaid_principal)) for s in line.statements]


# Statement dates


@pytest.mark.parametrize(
    ("opened", "expected"),
    [
        # 31 Jan: February has no 31st (28 in 2026), March does, April does not
        (date(2026, 1, 31), [date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30)]),
        # a leap year: 29 February
        (date(2028, 1, 31), [date(2028, 2, 29), date(2028, 3, 31), date(2028, 4, 30)]),
        # always from the opening day, never from the previous (clamped) statement: 30 Apr → 31 May, not 30 May
        (date(2026, 3, 31), [date(2026, 4, 30), date(2026, 5, 31), date(2026, 6, 30)]),
        # across the year end
        (date(2026, 11, 30), [date(2026, 12, 30), date(2027, 1, 30), date(2027, 2, 28)]),
    ],
)
def test_statements_fall_on_monthly_anniversaries_of_the_opening_clamped_to_the_month_end(
    opened: date, expected: list[date]
) -> None:
    # Given a three-month line with something drawn on its opening day
    line = _drawn(opened=opened)
    # When it is advanced past its maturity
    line.advance_to(expected[-1] + timedelta(days=3))
    # Then it made exactly three statements, on the anniversaries
    assert [s.due_date for s in line.statements] == expected
    assert [line.statement_date(n) for n in (1, 2, 3)] == expected
    assert line.matures_on == expected[-1]
    assert line.next_statement_date is None


def test_each_statement_states_the_interest_of_the_days_before_it() -> None:
    # Given 10,000.00 drawn on 31 January at 5.00 a day
    line = _drawn()

    # When the line reaches the first anniversary, 28 February
    interest, penalty = line.advance_to(date(2026, 2, 28))
    # Then 31 Jan … 27 Feb (28 days × 5.00 = 140.00) accrued and is stated, due that day; nothing is overdue yet
    assert (interest, penalty) == (Money.of("140.00"), Money.ZERO)
    assert _stated(line) == [(date(2026, 2, 28), "140.00", "0.00")]
    assert line.days_past_due(date(2026, 2, 28)) == 0
    assert line.next_statement_date == date(2026, 3, 31)

    # And on 31 March, 28 Feb … 30 Mar (31 days = 155.00) is stated; the February statement is still unpaid
    line.advance_to(date(2026, 3, 31))
    assert _stated(line) == [(date(2026, 2, 28), "140.00", "0.00"), (date(2026, 3, 31), "155.00", "0.00")]


def test_interest_accrued_between_statements_is_owed_but_not_yet_due() -> None:
    # Given 10,000.00 drawn on 31 January
    line = _drawn()
    # When it is advanced to 10 March
    line.advance_to(date(2026, 3, 10))
    # Then 140.00 is stated (to 27 Feb) and 28 Feb … 9 Mar (10 days = 50.00) is accrued, not stated
    assert line.interest_accrued == Money.of("190.00")
    assert sum(s.unpaid_interest.fen for s in line.statements) == 14_000


def test_the_principal_falls_due_at_maturity_with_the_last_interest_and_not_before() -> None:
    # Given 10,000.00 drawn on 31 January on a three-month line
    line = _drawn()
    # When it reaches its maturity, 30 April
    line.advance_to(date(2026, 4, 30))
    # Then only the last statement asks for principal: all of it, with 31 Mar … 29 Apr (30 days = 150.00)
    assert _stated(line) == [
        (date(2026, 2, 28), "140.00", "0.00"),
        (date(2026, 3, 31), "155.00", "0.00"),
        (date(2026, 4, 30), "150.00", "10000.00"),
    ]
    assert line.next_statement_date is None
    assert not line.is_closed  # matured, but owed


def test_a_line_repaid_on_its_maturity_closes() -> None:
    # Given the line at maturity (445.00 of interest stated, 140.00 and 155.00 of it overdue since 28 Feb / 31 Mar)
    line = _drawn()
    line.advance_to(date(2026, 4, 30))
    owed = line.principal_outstanding + line.interest_accrued + line.penalty_accrued
    # When all of it is repaid that day
    repaid = line.repay(owed, date(2026, 4, 30))
    # Then nothing is owed, nothing is credit, and the line is closed
    assert repaid.credit == Money.ZERO
    assert line.is_closed
    assert line.days_past_due(date(2026, 4, 30)) == 0


def test_after_maturity_the_overdue_principal_bears_penalty_not_more_interest_and_can_be_closed() -> None:
    # Given the line matured on 30 April with everything unpaid
    line = _drawn()
    line.advance_to(date(2026, 4, 30))
    interest_at_maturity = line.interest_accrued
    assert interest_at_maturity == Money.of("445.00")

    # When it is advanced to 3 May
    interest, penalty = line.advance_to(date(2026, 5, 3))

    # Then no ordinary interest accrues after maturity (it would never be stated, so never due, and the line could
    # never close by paying what its statements ask); the overdue 10,445.00 bears penalty instead:
    # 10,445.00 × 0.24 / 360 = 6.9633 → 6.96 a day, for 1, 2 and 3 May = 20.88
    assert interest == Money.ZERO
    assert line.interest_accrued == interest_at_maturity
    assert _half_up(Fraction(1_044_500) * Fraction(24, 100) / 360) == 696
    assert penalty == Money(696 * 3)

    # And paying what the statements and penalty ask closes it
    line.repay(line.overdue(date(2026, 5, 3)) + line.penalty_accrued, date(2026, 5, 3))
    assert line.is_closed
    assert line.days_past_due() == 0


def test_a_drawdown_paid_out_after_maturity_is_due_at_once() -> None:
    # Given a line that matured on 30 April with 10,000.00 drawn, repaid in full that day
    line = _drawn()
    line.advance_to(date(2026, 4, 30))
    line.repay(line.principal_outstanding + line.interest_accrued + line.penalty_accrued, date(2026, 4, 30))
    assert line.is_closed

    # When a drawdown requested before maturity is replayed as paid out on 2 May (its checks were made on request)
    line.advance_to(date(2026, 5, 2))
    line.draw(Money.of("1000"), date(2026, 5, 2), check=False)

    # Then there is no later statement to ask for it, so it falls due the day it was paid, and is overdue after
    assert line.oldest_unpaid_due_date == date(2026, 5, 2)
    assert not line.is_closed
    line.advance_to(date(2026, 5, 12))
    assert line.days_past_due() == 10
    # 1,000.00 × 0.24 / 360 = 0.6667 → 0.67 a day for 3 … 12 May = 6.70
    assert line.penalty_accrued == Money.of("6.70")


# Penalty


def test_penalty_accrues_daily_on_the_overdue_stated_amounts_at_the_penalty_rate() -> None:
    # Given 10,000.00 drawn on 31 January and nothing repaid
    line = _drawn()

    # When it is advanced to 5 April
    interest, penalty = line.advance_to(date(2026, 4, 5))

    # Then, by hand, at 0.24 / 360 a day, each day rounded half up:
    # 1 – 31 Mar: 140.00 overdue (the February statement): 0.0933 → 0.09 a day × 31 = 2.79
    # 1 – 5 Apr: 140.00 + 155.00 = 295.00 overdue: 0.1967 → 0.20 a day × 5 = 1.00
    february = _half_up(Fraction(14_000) * Fraction(24, 100) / 360)
    both = _half_up(Fraction(29_500) * Fraction(24, 100) / 360)
    assert (february, both) == (9, 20)
    assert penalty == Money(february * 31 + both * 5) == Money.of("3.79")
    # And interest for 31 Jan … 4 Apr (64 days × 5.00) accrued on the principal
    assert interest == Money.of("320.00")
    # And the line is past due from the oldest unpaid statement: 28 Feb → 5 Apr is 36 days
    assert line.days_past_due() == 36
    assert line.overdue(date(2026, 4, 5)) == Money.of("295.00")


def test_the_day_a_statement_falls_due_is_not_overdue_and_the_day_a_payment_arrives_is() -> None:
    # Given the February statement (140.00, 0.09 a day of penalty once overdue)
    line = _drawn()
    line.advance_to(date(2026, 2, 28))
    assert line.penalty_accrued == Money.ZERO
    # When it is paid on 3 March (1, 2 and 3 March overdue: 0.27 of penalty first, then the 140.00)
    line.advance_to(date(2026, 3, 3))
    repaid = line.repay(Money.of("140.27"), date(2026, 3, 3))
    assert (repaid.penalty, repaid.interest) == (Money.of("0.27"), Money.of("140.00"))
    # Then no penalty accrues any more
    assert line.advance_to(date(2026, 3, 20))[1] == Money.ZERO
    assert line.days_past_due() == 0


def test_the_penalty_rate_is_the_annual_rate_times_the_multiplier_capped(
    catalogue: Catalogue, booked_line: Callable[..., dict[str, Any]]
) -> None:
    # Given the credit line product: multiplier 1.5, cap 0.24
    product = catalogue.product("credit_line")
    assert (product.penalty_rate_multiplier, catalogue.rate_cap.annual_rate) == (Decimal("1.5"), Decimal("0.24"))
    # Then 12% gives 18% (under the cap) and 18% gives 24% (27% capped)
    assert LoanTerms.from_record(booked_line(annual_rate="0.12"), catalogue).penalty_annual_rate == Decimal("0.18")
    assert LoanTerms.from_record(booked_line(annual_rate="0.18"), catalogue).penalty_annual_rate == Decimal("0.24")


def test_a_replayed_line_charges_penalty_at_the_capped_rate(
    catalogue: Catalogue, booked_line: Callable[..., dict[str, Any]], at: Callable[..., Any]
) -> None:
    # Given a 12% line (penalty 18%) opened 31 January with 10,000.00 drawn that day: 10,000 × 0.12 / 360 = 3.3333
    # → 3.33 a day, so the February statement is 28 × 3.33 = 93.24
    terms = LoanTerms.from_record(booked_line(annual_rate="0.12", opened_on=OPENED, limit="50000"), catalogue)
    draw = ServicingEvent("d-1", EventKind.DRAWDOWN, at(OPENED), Money.of("10000"))
    # When it is replayed to 10 March
    position = replay(terms, [draw], date(2026, 3, 10))
    # Then penalty for 1 … 10 March on 93.24 at 0.18 / 360: 0.04662 → 0.05 a day × 10 = 0.50
    assert _half_up(Fraction(9_324) * Fraction(18, 100) / 360) == 5
    assert position.penalty_accrued == Money.of("0.50")
    assert position.days_past_due == 10
    assert position.bucket == "dpd_1_30"
    assert position.frozen  # the credit line product freezes a line that is past due
    assert position.schedule[0].due_date == date(2026, 2, 28)
    assert position.schedule[0].interest == Money.of("93.24")


# Days past due


def test_days_past_due_count_from_the_oldest_statement_still_unpaid() -> None:
    # Given both the February and March statements unpaid on 5 April (36 days past due)
    line = _drawn()
    line.advance_to(date(2026, 4, 5))
    assert line.days_past_due() == 36
    # When the penalty (3.79) and the February statement (140.00) are paid
    line.repay(Money.of("143.79"), date(2026, 4, 5))
    # Then the line is past due from 31 March only: 5 days
    assert line.oldest_unpaid_due_date == date(2026, 3, 31)
    assert line.days_past_due() == 5
    # And once the March statement is paid too, it is current, however much principal is still drawn
    line.repay(Money.of("155.00"), date(2026, 4, 5))
    assert line.days_past_due() == 0
    assert line.principal_outstanding == Money.of("10000")


# Refusals


def test_a_frozen_line_refuses_any_drawdown() -> None:
    line = _line()
    line.frozen = True
    assert line.refusal(Money.of("0.01"), OPENED) == "line CL-1 is frozen: no drawdowns until it is brought up to date"
    with pytest.raises(DrawdownRefused, match="frozen"):
        line.draw(Money.of("0.01"), OPENED)
    assert line.principal_outstanding == Money.ZERO


def test_a_matured_line_refuses_drawdowns_from_its_maturity_day_on() -> None:
    # Given a three-month line opened 31 January: it matures on 30 April
    line = _line()
    assert line.matures_on == date(2026, 4, 30)
    # Then a drawdown on 29 April is allowed, and from 30 April on refused
    assert line.refusal(Money.of("100"), date(2026, 4, 29)) is None
    assert line.refusal(Money.of("100"), date(2026, 4, 30)) == "line CL-1 matured on 2026-04-30: no more drawdowns"
    assert line.refusal(Money.of("100"), date(2026, 6, 1)) is not None
    # And an open-ended line never matures
    assert _line(months=None).refusal(Money.of("100"), date(2030, 1, 1)) is None


def test_drawdowns_under_way_count_against_the_available_limit() -> None:
    # Given 30,000.00 of the 50,000.00 drawn and 15,000.00 held by drawdowns not yet booked: 5,000.00 available
    line = _drawn("30000")
    held = Money.of("15000")
    # Then 5,000.00 may be drawn, 5,000.01 may not
    assert line.refusal(Money.of("5000.00"), OPENED, held) is None
    assert line.refusal(Money.of("5000.01"), OPENED, held) == "5000.01 is over the available limit of 5000.00"
    # And holds beyond what is available leave nothing (never a negative limit)
    assert line.refusal(Money.of("0.01"), OPENED, Money.of("25000")) == "0.01 is over the available limit of 0.00"
    # And interest owed does not reduce the limit
    line.advance_to(date(2026, 2, 20))
    assert line.available_limit == Money.of("20000")


def test_a_replayed_drawdown_skips_the_checks_made_when_it_was_requested() -> None:
    # Given a frozen line with its limit in use
    line = _drawn("50000")
    line.frozen = True
    # When a drawdown already paid out is replayed
    line.draw(Money.of("100"), OPENED, check=False)
    # Then it is on the line (the available limit floors at zero)
    assert line.principal_outstanding == Money.of("50100")
    assert line.available_limit == Money.ZERO


# The waterfall


def test_a_repayment_pays_penalty_then_the_oldest_statement_then_the_next() -> None:
    # Given on 5 April: penalty 3.79, February statement 140.00, March statement 155.00, 25.00 accrued since
    # 31 March (5 days), principal 10,000.00
    line = _drawn()
    line.advance_to(date(2026, 4, 5))
    assert line.interest_accrued == Money.of("320.00")

    # When 100.00 is repaid: 3.79 to penalty, the other 96.21 to the February statement
    first = line.repay(Money.of("100.00"), date(2026, 4, 5))
    assert first == LineRepayment(Money.of("96.21"), Money.ZERO, Money.ZERO, Money.of("3.79"))
    assert _stated(line) == [(date(2026, 2, 28), "43.79", "0.00"), (date(2026, 3, 31), "155.00", "0.00")]

    # And when 10,300.00 is repaid: 43.79 + 155.00 stated, the 25.00 not stated, 10,000.00 principal, 76.21 credit
    second = line.repay(Money.of("10300.00"), date(2026, 4, 5))
    assert second == LineRepayment(Money.of("223.79"), Money.of("10000.00"), Money.of("76.21"), Money.ZERO)
    assert line.credit_balance == Money.of("76.21")
    assert line.interest_accrued == Money.ZERO
    assert line.available_limit == Money.of("50000")


def test_stated_principal_is_paid_before_interest_not_yet_stated() -> None:
    # Given a two-month line (opened 31 Jan, matures 31 Mar) with 10,000.00 drawn, advanced to 3 April:
    # statements 28 Feb (140.00) and 31 Mar (155.00 + 10,000.00 principal); no interest after maturity.
    # Penalty: 1–31 Mar on 140.00 at 0.09 = 2.79; 1–3 Apr on 10,295.00: 6.8633 → 6.86 a day = 20.58; 23.37 in all.
    line = _drawn(months=2)
    line.advance_to(date(2026, 4, 3))
    assert _half_up(Fraction(1_029_500) * Fraction(24, 100) / 360) == 686
    assert line.penalty_accrued == Money.of("23.37")

    # When 5,000.00 is repaid
    repaid = line.repay(Money.of("5000.00"), date(2026, 4, 3))

    # Then penalty 23.37, then February's 140.00, then March's interest 155.00, then its principal: 4,681.63
    assert repaid == LineRepayment(Money.of("295.00"), Money.of("4681.63"), Money.ZERO, Money.of("23.37"))
    assert _stated(line)[-1] == (date(2026, 3, 31), "0.00", "5318.37")


def test_before_any_statement_a_repayment_pays_accrued_interest_then_principal() -> None:
    # Given 10,000.00 drawn on 31 January, 10 days of interest (50.00) by 10 February, nothing stated
    line = _drawn()
    line.advance_to(date(2026, 2, 10))
    # When 1,050.00 is repaid
    repaid = line.repay(Money.of("1050.00"), date(2026, 2, 10))
    # Then 50.00 interest and 1,000.00 principal
    assert repaid == LineRepayment(Money.of("50.00"), Money.of("1000.00"), Money.ZERO, Money.ZERO)


# Idempotence


def test_advancing_to_the_same_date_again_changes_nothing() -> None:
    line = _drawn()
    first = line.advance_to(date(2026, 4, 5))
    snapshot = (_stated(line), line.interest_accrued, line.penalty_accrued, line.as_of, line.accrued_until)
    # When advanced to 5 April again (twice)
    assert line.advance_to(date(2026, 4, 5)) == (Money.ZERO, Money.ZERO)
    assert line.advance_to(date(2026, 4, 5)) == (Money.ZERO, Money.ZERO)
    # Then nothing was stated, accrued or charged twice
    assert first == (Money.of("320.00"), Money.of("3.79"))
    assert (_stated(line), line.interest_accrued, line.penalty_accrued, line.as_of, line.accrued_until) == snapshot
    # And going back is refused
    with pytest.raises(ValueError, match="date order"):
        line.advance_to(date(2026, 4, 4))


_STEPS = st.lists(
    st.tuples(st.integers(0, 25), st.sampled_from(["draw", "repay", "none"]), st.integers(1, 2_000_000)),
    min_size=1,
    max_size=12,
)


@settings(max_examples=120, deadline=None)
@given(steps=_STEPS, extra=st.lists(st.integers(0, 25), max_size=12), months=st.sampled_from([1, 2, 3, None]))
def test_advancing_in_any_steps_gives_what_advancing_straight_to_each_event_gives(
    steps: list[tuple[int, str, int]], extra: list[int], months: int | None
) -> None:
    # Given two copies of a line, and the same drawdowns and repayments on the same days
    straight, stepped = _line(months=months), _line(months=months)
    reported = {id(straight): [Money.ZERO, Money.ZERO], id(stepped): [Money.ZERO, Money.ZERO]}

    def advance(line: CreditLine, on: date) -> None:
        interest, penalty = line.advance_to(on)
        reported[id(line)][0] += interest
        reported[id(line)][1] += penalty

    on = OPENED
    for index, (gap, kind, fen) in enumerate(steps):
        target = on + timedelta(days=gap)
        # When one copy goes straight to each event's day, and the other stops on the way, and repeats each stop
        advance(straight, target)
        stop = on + timedelta(days=min(extra[index], gap)) if index < len(extra) else on
        for day in (stop, stop, target, target):
            advance(stepped, day)
        on = target
        for line in (straight, stepped):
            if kind == "draw":
                line.draw(Money(fen), on, check=False)
            elif kind == "repay":
                line.repay(Money(fen), on)
    final = on + timedelta(days=40)
    advance(straight, final)
    advance(stepped, final)

    # Then both hold the same statements, interest, penalty, principal and credit
    assert _stated(stepped) == _stated(straight)
    for name in ("interest_accrued", "penalty_accrued", "principal_outstanding", "credit_balance", "as_of"):
        assert getattr(stepped, name) == getattr(straight, name), name
    # And each reported the same interest and penalty in all, and never anything twice
    assert reported[id(stepped)] == reported[id(straight)]
    assert stepped.penalty_accrued <= reported[id(stepped)][1]
