"""Schedules: principal sums exactly, the remainder lands last, interest is never negative; oracles agree."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import numpy_financial as npf
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lending.catalogue import Method
from lending.errors import ProductRuleViolation
from lending.money import Money, total
from lending.schedule import Schedule, build_schedule

amounts = st.integers(100_000, 50_000_000).map(Money)  # 1,000.00 to 500,000.00 CNY
terms = st.integers(1, 36)
rates = st.integers(0, 2400).map(lambda bp: Decimal(bp) / Decimal(10_000))
starts = st.dates(date(2024, 1, 1), date(2030, 12, 31))
methods = st.sampled_from([Method.EQUAL_INSTALMENT, Method.EQUAL_PRINCIPAL])


def _principal_total(schedule: Schedule) -> Money:
    return total(i.principal for i in schedule.instalments)


@settings(max_examples=200, deadline=None)
@given(amounts, terms, rates, starts, methods)
def test_principal_sums_exactly_to_the_amount_and_nothing_is_negative(
    amount: Money, months: int, rate: Decimal, start: date, method: Method
) -> None:
    schedule = build_schedule(amount, rate, months, method, start)
    assert _principal_total(schedule) == amount
    assert len(schedule.instalments) == months
    assert all(not i.interest.is_negative and not i.principal.is_negative for i in schedule.instalments)


@settings(max_examples=200, deadline=None)
@given(amounts, terms, rates, starts)
def test_equal_instalments_are_equal_but_the_last_which_takes_the_rounding_remainder(
    amount: Money, months: int, rate: Decimal, start: date
) -> None:
    # The instalment is rounded to the fen once, so each period's principal is off by at most half a fen, and
    # each period's interest rounding moves the balance by at most half a fen more: after n - 1 periods the last
    # instalment differs from the others by at most n fen.
    totals = [i.total for i in build_schedule(amount, rate, months, Method.EQUAL_INSTALMENT, start).instalments]
    assert len(set(totals[:-1])) <= 1
    assert abs(totals[-1].fen - totals[0].fen) <= months


@settings(max_examples=100, deadline=None)
@given(amounts, st.integers(2, 36), rates, starts, st.integers(1, 28))
def test_fixed_day_schedules_also_sum_exactly(amount: Money, months: int, rate: Decimal, start: date, day: int) -> None:
    schedule = build_schedule(amount, rate, months, Method.EQUAL_INSTALMENT, start, repayment_day=day)
    assert _principal_total(schedule) == amount
    assert all(i.due_date.day == day for i in schedule.instalments)


@settings(max_examples=100, deadline=None)
@given(amounts, st.integers(2, 36), rates, starts, st.data())
def test_interest_only_grace_pays_no_principal_during_the_grace(
    amount: Money, months: int, rate: Decimal, start: date, data: st.DataObject
) -> None:
    grace = data.draw(st.integers(1, months - 1))
    schedule = build_schedule(amount, rate, months, Method.INTEREST_ONLY_GRACE, start, grace_months=grace)
    assert [i.principal for i in schedule.instalments[:grace]] == [Money.ZERO] * grace
    assert all(i.principal.is_positive for i in schedule.instalments[grace:])
    assert _principal_total(schedule) == amount


@settings(max_examples=150, deadline=None)
@given(amounts, terms, st.integers(1, 2400).map(lambda bp: Decimal(bp) / Decimal(10_000)), starts)
def test_equal_instalments_agree_with_numpy_financial_within_a_fen(
    amount: Money, months: int, rate: Decimal, start: date
) -> None:
    # Given numpy-financial's float annuity as an independent oracle
    periodic = float(rate) / 12
    principal = float(amount.to_decimal())
    schedule = build_schedule(amount, rate, months, Method.EQUAL_INSTALMENT, start)
    for instalment in schedule.instalments[:-1]:
        k = instalment.number
        # Then every instalment but the last matches within 0.01 (the oracle does not round to the fen);
        assert abs(float(instalment.total.to_decimal()) - float(npf.pmt(periodic, months, -principal))) <= 0.01
        # principal and interest parts drift by the rounding carried in the balance, at most half a fen a period
        tolerance = 0.01 + 0.005 * k
        assert (
            abs(float(instalment.interest.to_decimal()) - float(npf.ipmt(periodic, k, months, -principal))) <= tolerance
        )
        assert (
            abs(float(instalment.principal.to_decimal()) - float(npf.ppmt(periodic, k, months, -principal)))
            <= tolerance
        )
    # and the last one closes the loan within the rounding carried over all periods
    last = schedule.instalments[-1]
    assert abs(float(last.total.to_decimal()) - float(npf.pmt(periodic, months, -principal))) <= 0.01 * months


def test_known_answer_120000_at_12_percent_over_12_months() -> None:
    # Expected figures worked independently with exact fractions: the annuity formula B·r / (1 − (1 + r)^−n) with
    # r = 0.12 / 12 = 0.01 gives 10,661.8546…, rounded half up to 10,661.85; the interest of each month is the
    # balance × 0.01 rounded half up, and the last instalment takes the principal left (10,556.35).
    r = Fraction(1, 100)
    annuity = Fraction(120_000) * r / (1 - (1 + r) ** -12)
    assert Fraction("10661.845") <= annuity < Fraction("10661.855")
    schedule = build_schedule(Money.of("120000"), Decimal("0.12"), 12, Method.EQUAL_INSTALMENT, date(2026, 1, 15))
    totals = [str(i.total) for i in schedule.instalments]
    assert totals[:11] == ["10661.85"] * 11
    assert totals[11] == "10661.91"
    assert str(schedule.instalments[0].interest) == "1200.00"
    assert str(schedule.instalments[-1].principal) == "10556.35"
    # total interest: 11 × 10,661.85 + 10,661.91 − 120,000
    assert str(schedule.total_interest) == "7942.26"
    assert schedule.instalments[0].due_date == date(2026, 2, 15)


def test_known_answer_equal_principal_at_12_80_percent() -> None:
    # 120,000 / 12 = 10,000 a month; interest = balance × 0.128 / 12: 1,280.00, then 110,000 × 0.0106666… = 1,173.33
    schedule = build_schedule(Money.of("120000"), Decimal("0.1280"), 12, Method.EQUAL_PRINCIPAL, date(2026, 1, 31))
    assert {str(i.principal) for i in schedule.instalments} == {"10000.00"}
    assert [str(i.interest) for i in schedule.instalments[:3]] == ["1280.00", "1173.33", "1066.67"]
    assert str(schedule.total_interest) == "8320.00"  # 0.128/12 × 10,000 × (12 + 11 + … + 1) = 8,320


def test_known_answer_broken_first_period_charges_the_daily_rate() -> None:
    # Disbursed 31 Jan 2026 with repayment day 10: 10 Feb is only 10 days away, so the first due date is 10 Mar,
    # 38 days on; its interest is 50,000 × 0.12 / 360 × 38 = 633.333… → 633.33
    schedule = build_schedule(
        Money.of("50000"),
        Decimal("0.12"),
        24,
        Method.INTEREST_ONLY_GRACE,
        date(2026, 1, 31),
        grace_months=6,
        repayment_day=10,
    )
    first = schedule.instalments[0]
    assert first.due_date == date(2026, 3, 10)
    assert (first.due_date - date(2026, 1, 31)) == timedelta(days=38)
    assert str(first.interest) == "633.33"
    assert str(schedule.instalments[1].interest) == "500.00"  # then regular months: 50,000 × 0.01


@pytest.mark.parametrize(
    ("method", "grace"),
    [(Method.EQUAL_INSTALMENT, 2), (Method.INTEREST_ONLY_GRACE, 0), (Method.INTEREST_ONLY_GRACE, 12)],
)
def test_a_grace_period_outside_the_rules_is_refused(method: Method, grace: int) -> None:
    with pytest.raises(ProductRuleViolation):
        build_schedule(Money.of("1000"), Decimal("0.1"), 12, method, date(2026, 1, 1), grace_months=grace)
