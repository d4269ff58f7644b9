"""Schedules against figures worked out independently: by hand, or with exact fractions in the test itself.

The hand calculation follows the conventions the issue states (periodic rate = annual / 12 on regular months, daily rate
= annual / basis on a broken first period, every amount rounded half up to the fen, the remainder in the last
instalment) in exact rational arithmetic, never through the domain's Decimal code.
"""

from __future__ import annotations

import math
from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest

from lending.catalogue import Method
from lending.money import Money
from lending.schedule import Schedule, annuity_instalment, build_schedule


def _half_up(fen: Fraction) -> int:
    """Round a non-negative number of fen half up to a whole fen."""
    return math.floor(fen + Fraction(1, 2))


def _hand_annuity(principal_fen: int, monthly: Fraction, periods: int) -> int:
    """P·r·(1+r)^n / ((1+r)^n − 1), exactly, rounded half up to the fen."""
    growth = (1 + monthly) ** periods
    return _half_up(principal_fen * monthly * growth / (growth - 1))


def _hand_equal_instalments(principal_fen: int, annual: Fraction, months: int, grace: int = 0) -> list[tuple[int, int]]:
    """(principal, interest) in fen per month: interest-only for `grace` months, then the level instalment."""
    monthly = annual / 12
    level = _hand_annuity(principal_fen, monthly, months - grace)
    rows = []
    balance = principal_fen
    for k in range(months):
        interest = _half_up(balance * monthly)
        if k < grace:
            principal = 0
        elif k == months - 1:
            principal = balance
        else:
            principal = level - interest
        rows.append((principal, interest))
        balance -= principal
    return rows


def _rows(schedule: Schedule) -> list[tuple[int, int]]:
    return [(i.principal.fen, i.interest.fen) for i in schedule.instalments]


def test_120000_at_12_percent_over_12_months_is_10661_85_a_month_and_7942_26_interest() -> None:
    # Given 120,000.00 at 12% a year over 12 months, equal instalments, disbursed 15 January 2026
    schedule = build_schedule(Money.of("120000"), Decimal("0.12"), 12, Method.EQUAL_INSTALMENT, date(2026, 1, 15))

    # Then the instalment is 10,661.85. Source: the annuity formula with r = 1% a month,
    # 120,000 × 0.01 × 1.01^12 / (1.01^12 − 1) = 10,661.8548..., worked exactly with fractions below; a spreadsheet's
    # PMT(1%, 12, -120000) gives the same 10,661.85.
    assert _hand_annuity(12_000_000, Fraction(1, 100), 12) == 1_066_185
    assert annuity_instalment(Money.of("120000"), Decimal("0.01"), 12) == Money.of("10661.85")
    totals = [str(i.total) for i in schedule.instalments]
    assert totals[:11] == ["10661.85"] * 11

    # And the first month is 1,200.00 interest (1% of 120,000) and 9,461.85 principal
    first = schedule.instalments[0]
    assert (str(first.interest), str(first.principal)) == ("1200.00", "9461.85")

    # And the last instalment is 10,661.91: the six fen the rounded instalment left unpaid come back at the end, so
    # total interest = 11 × 10,661.85 + 10,661.91 − 120,000 = 7,942.26 (not 12 × 10,661.85 − 120,000 = 7,942.20)
    assert totals[11] == "10661.91"
    assert str(schedule.total_interest) == "7942.26"
    assert 11 * 1_066_185 + 1_066_191 - 12_000_000 == 794_226

    # And every row matches the month-by-month hand calculation
    assert _rows(schedule) == _hand_equal_instalments(12_000_000, Fraction(12, 100), 12)


def test_equal_principal_120000_over_12_months_at_12_80_percent() -> None:
    # Given 120,000.00 at 12.80% over 12 months, equal principal, disbursed 15 January 2026
    schedule = build_schedule(Money.of("120000"), Decimal("0.1280"), 12, Method.EQUAL_PRINCIPAL, date(2026, 1, 15))

    # Then each month repays 10,000.00 of principal (120,000 / 12)
    assert [str(i.principal) for i in schedule.instalments] == ["10000.00"] * 12

    # And month k's interest is the balance (13 − k) × 10,000 at 0.128 / 12 = 1.0666...% a month, i.e.
    # (13 − k) × 106.666..., rounded half up (worked by hand):
    assert [str(i.interest) for i in schedule.instalments] == [
        "1280.00",
        "1173.33",
        "1066.67",
        "960.00",
        "853.33",
        "746.67",
        "640.00",
        "533.33",
        "426.67",
        "320.00",
        "213.33",
        "106.67",
    ]
    assert str(schedule.instalments[0].total) == "11280.00"
    assert str(schedule.instalments[-1].total) == "10106.67"

    # And total interest is the textbook equal-principal figure P × r × (n + 1) / 2 = 120,000 × 0.128/12 × 13/2
    # = 8,320.00 (the roundings of ±1/3 fen cancel in pairs)
    assert Fraction(120_000) * Fraction(128, 1000) / 12 * Fraction(13, 2) == 8320
    assert str(schedule.total_interest) == "8320.00"


@pytest.mark.parametrize(
    ("start", "basis", "first_due", "days", "interest"),
    [
        # 150,000 × 0.0865 / 360 × 20 = 720.8333... → 720.83
        (date(2026, 3, 5), 360, date(2026, 3, 25), 20, "720.83"),
        # the same on a 365-day basis: 150,000 × 0.0865 / 365 × 20 = 710.9589... → 710.96
        (date(2026, 3, 5), 365, date(2026, 3, 25), 20, "710.96"),
        # 25 March is only 10 days after 15 March, so the first due date is 25 April, 41 days:
        # 150,000 × 0.0865 / 360 × 41 = 1,477.7083... → 1,477.71
        (date(2026, 3, 15), 360, date(2026, 4, 25), 41, "1477.71"),
    ],
)
def test_a_fixed_repayment_day_charges_the_broken_first_period_by_the_day(
    start: date, basis: int, first_due: date, days: int, interest: str
) -> None:
    # Given 150,000.00 at 8.65% over 12 months, equal principal, repaid on the 25th of each month
    schedule = build_schedule(
        Money.of("150000"),
        Decimal("0.0865"),
        12,
        Method.EQUAL_PRINCIPAL,
        start,
        repayment_day=25,
        day_count_basis=basis,
    )

    # Then the first period runs to the first 25th at least 15 days away and is charged principal × rate / basis × days
    first = schedule.instalments[0]
    assert first.due_date == first_due
    assert (first.due_date - start).days == days
    assert str(first.interest) == interest
    assert _half_up(Fraction(15_000_000) * Fraction(865, 10_000) * days / basis) == Money.of(interest).fen

    # And the second period is a regular month: 137,500 × 0.0865 / 12 = 991.1458... → 991.15
    second = schedule.instalments[1]
    assert second.due_date == date(first_due.year, first_due.month + 1, 25)
    assert str(second.interest) == "991.15"


def test_a_fixed_day_equal_instalment_loan_keeps_the_level_instalment_after_the_broken_period() -> None:
    # Given 100,000.00 at 12% over 6 months, equal instalments, disbursed 20 January 2026, repaid on the 10th
    schedule = build_schedule(
        Money.of("100000"), Decimal("0.12"), 6, Method.EQUAL_INSTALMENT, date(2026, 1, 20), repayment_day=10
    )

    # Then the first period is 20 January → 10 February, 21 days: 100,000 × 0.12 / 360 × 21 = 700.00 interest
    first = schedule.instalments[0]
    assert (first.due_date, str(first.interest)) == (date(2026, 2, 10), "700.00")
    # And the level instalment is the 6-month annuity at 1%: 100,000 × 0.01 × 1.01^6 / (1.01^6 − 1) = 17,254.837...
    level = _hand_annuity(10_000_000, Fraction(1, 100), 6)
    assert level == 1_725_484
    # so the first principal is that level less a regular month's interest (1,000.00): 16,254.84
    assert str(first.principal) == "16254.84"
    assert [i.total.fen for i in schedule.instalments[1:-1]] == [level] * 4


def test_the_last_equal_instalment_can_be_more_than_one_fen_a_month_off_the_level() -> None:
    # Given 297,256.87 at 24% over 36 months, equal instalments (found by searching for the worst carried rounding)
    schedule = build_schedule(Money.of("297256.87"), Decimal("0.24"), 36, Method.EQUAL_INSTALMENT, date(2026, 1, 15))

    # Then the hand calculation at 2% a month gives a level instalment of 11,662.23 (the exact annuity is
    # 11,662.2250...: rounded up by almost half a fen, 35 times over, compounding at 2% a month) and a last
    # instalment of 11,662.60: 37 fen off the level, more than one fen per month of the term
    hand = _hand_equal_instalments(29_725_687, Fraction(24, 100), 36)
    assert _rows(schedule) == hand
    totals = [i.total for i in schedule.instalments]
    assert str(totals[0]) == "11662.23"
    assert str(totals[-1]) == "11662.60"
    assert (totals[-1] - totals[0]).fen == 37


def test_interest_only_grace_then_equal_instalments_for_a_start_up_loan() -> None:
    # Given 100,000.00 at 9.60% over 12 months with 6 months interest-only, disbursed 31 January 2026
    schedule = build_schedule(
        Money.of("100000"), Decimal("0.0960"), 12, Method.INTEREST_ONLY_GRACE, date(2026, 1, 31), grace_months=6
    )

    # Then the first six instalments are 800.00 interest only (100,000 × 0.096 / 12), due on the clamped month ends
    assert [(str(i.principal), str(i.interest)) for i in schedule.instalments[:6]] == [("0.00", "800.00")] * 6
    assert [i.due_date for i in schedule.instalments[:3]] == [date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30)]

    # And the rest amortise the whole 100,000 over the remaining six months at 0.8%:
    # 100,000 × 0.008 × 1.008^6 / (1.008^6 − 1) = 800 × 1.048970... / 0.048970... = 17,136.43, the last carrying the
    # rounding
    level = _hand_annuity(10_000_000, Fraction(8, 1000), 6)
    assert level == 1_713_643
    assert [i.total.fen for i in schedule.instalments[6:11]] == [level] * 5
    assert _rows(schedule) == _hand_equal_instalments(10_000_000, Fraction(96, 1000), 12, grace=6)
