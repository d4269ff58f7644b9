"""Electricity use as an assessment source: zero use, a sharp drop, and use that ignores a manufacturer's revenue."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

import pytest

from lending.calendar import add_months
from lending.errors import AssessmentInputError
from lending.money import Money
from lending.risk.business_assessment import assess_business
from lending.risk.cash_flow import BankStatement, BankTransaction
from lending.risk.electricity import ElectricityUse, MeterReading
from lending.risk.findings import Finding, Severity
from lending.risk.policy import DecisionPolicy

JANUARY_2025 = date(2025, 1, 1)
# Inflows 89,000 … 111,000 (2,000 more each month), outflows 80,000: a business of 100,000 a month on average.
INFLOWS = [89_000 + 2_000 * k for k in range(12)]


def _statement(inflows: Sequence[int]) -> BankStatement:
    transactions = []
    for index, inflow in enumerate(inflows):
        month = add_months(JANUARY_2025, index)
        transactions.append(BankTransaction(month.replace(day=10), Money.of(inflow), "sales"))
        transactions.append(BankTransaction(month.replace(day=20), Money.of(-80_000), "suppliers"))
    return BankStatement(JANUARY_2025, date(2025, 12, 31), tuple(transactions))


def _use(kwh: Sequence[int | str]) -> ElectricityUse:
    return ElectricityUse(
        tuple(MeterReading(add_months(JANUARY_2025, index), Decimal(value)) for index, value in enumerate(kwh))
    )


def _electricity_findings(
    policy: DecisionPolicy, kwh: Sequence[int | str], industry: str = "manufacturing", inflows: Sequence[int] = INFLOWS
) -> dict[str, Finding]:
    assessment = assess_business(_statement(inflows), [], policy=policy, industry=industry, sources=[_use(kwh)])
    return {finding.code: finding for finding in assessment.findings if finding.source == "electricity"}


def test_a_manufacturer_whose_power_tracks_revenue_raises_nothing(policy: DecisionPolicy) -> None:
    # Given a manufacturer drawing 1 kWh per 10 yuan of monthly inflow (8,900 … 11,100 kWh)
    kwh = [inflow // 10 for inflow in INFLOWS]
    # When its electricity use is assessed with the assessment
    findings = _electricity_findings(policy, kwh)
    # Then there is nothing to say
    assert findings == {}


def test_a_month_without_any_use_is_a_high_finding(policy: DecisionPolicy) -> None:
    # Given steady use of 10,000 kWh with nothing drawn in April 2025
    kwh = [10_000] * 12
    kwh[3] = 0
    # When assessed
    findings = _electricity_findings(policy, kwh, industry="retail")
    # Then the idle month is named in a high finding
    idle = findings["electricity_zero_use"]
    assert idle.severity is Severity.HIGH
    assert "1 of the last 12 months (2025-04)" in idle.message
    assert "electricity_sharp_drop" not in findings


def test_a_sharp_recent_drop_against_the_median_is_a_high_finding(policy: DecisionPolicy) -> None:
    # Given eleven months around 10,000 kWh and 3,000 kWh in December
    # (sorted: 3,000, 9,800 ×4, 10,000 ×3, 10,200 ×4: the median is the mean of the 6th and 7th, 10,000)
    kwh = [9_800, 10_200] * 4 + [10_000] * 3 + [3_000]
    # When assessed
    findings = _electricity_findings(policy, kwh, industry="retail")
    # Then a high finding gives the drop in figures
    drop = findings["electricity_sharp_drop"]
    assert drop.severity is Severity.HIGH
    assert "latest month (2025-12) averaged 3000 kWh" in drop.message
    assert "30.00%" in drop.message
    assert "10000 kWh" in drop.message


def test_a_dip_above_half_the_median_is_not_a_drop(policy: DecisionPolicy) -> None:
    # Given December at exactly half the median of 10,000 kWh
    kwh = [10_000] * 11 + [5_000]
    # When assessed
    # Then it is not a drop: only use below half the median is
    assert "electricity_sharp_drop" not in _electricity_findings(policy, kwh, industry="retail")


def test_a_manufacturer_whose_power_ignores_revenue_is_flagged(policy: DecisionPolicy) -> None:
    # Given a manufacturer whose use falls (11,100 … 8,900 kWh) while its inflows rise: correlation −1
    kwh = [11_100 - 200 * k for k in range(12)]
    # When assessed
    findings = _electricity_findings(policy, kwh)
    # Then the mismatch is a high finding, with the correlation in it
    mismatch = findings["electricity_revenue_mismatch"]
    assert mismatch.severity is Severity.HIGH
    assert "-1.0000" in mismatch.message


def test_the_relation_to_revenue_is_judged_only_for_power_hungry_industries(policy: DecisionPolicy) -> None:
    # Given the same uncorrelated use at a retailer
    kwh = [11_100 - 200 * k for k in range(12)]
    # When assessed
    # Then nothing is flagged: a shop's power does not follow its takings
    assert _electricity_findings(policy, kwh, industry="retail") == {}


def test_the_relation_to_revenue_is_judged_only_when_revenue_is_high(policy: DecisionPolicy) -> None:
    # Given a small manufacturer (inflows around 20,000, below the policy's 50,000) with uncorrelated use
    small = [19_000 + 200 * k for k in range(12)]
    kwh = [11_100 - 200 * k for k in range(12)]
    # When assessed
    # Then nothing is flagged: at that size the month-to-month noise hides the relation
    assert _electricity_findings(policy, kwh, inflows=small) == {}


def test_too_few_readings_is_a_low_finding_and_no_judgement(policy: DecisionPolicy) -> None:
    # Given four months of readings, the last a fraction of the others
    findings = _electricity_findings(policy, [10_000, 10_000, 10_000, 100])
    # Then the only finding is that there is too little data
    assert set(findings) == {"electricity_insufficient_data"}
    assert findings["electricity_insufficient_data"].severity is Severity.LOW


def test_no_readings_at_all_is_a_low_finding(policy: DecisionPolicy) -> None:
    # Given the source with no readings
    # When assessed
    # Then it says there is too little data, and nothing else
    assert set(_electricity_findings(policy, [])) == {"electricity_insufficient_data"}


def test_readings_are_taken_in_month_order_whatever_order_they_come_in(policy: DecisionPolicy) -> None:
    # Given the drop example with its readings shuffled
    ordered = _use([9_800, 10_200] * 4 + [10_000] * 3 + [3_000]).readings
    use = ElectricityUse(tuple(reversed(ordered)))
    # When assessed
    assessment = assess_business(_statement(INFLOWS), [], policy=policy, industry="retail", sources=[use])
    # Then December is still the recent month
    assert any(f.code == "electricity_sharp_drop" for f in assessment.findings)


@pytest.mark.parametrize(
    ("build", "words"),
    [
        (lambda: MeterReading(date(2025, 1, 15), Decimal(1)), "first day"),
        (lambda: MeterReading(date(2025, 1, 1), Decimal(-1)), "non-negative"),
        (lambda: MeterReading(date(2025, 1, 1), 12.5), "Decimal"),  # type: ignore[arg-type]
        (lambda: MeterReading(date(2025, 1, 1), Decimal("NaN")), "finite"),
        (
            lambda: ElectricityUse((MeterReading(JANUARY_2025, Decimal(1)), MeterReading(JANUARY_2025, Decimal(2)))),
            "same month",
        ),
    ],
)
def test_malformed_readings_are_clear_errors(build: object, words: str) -> None:
    # Given a reading or set of readings that cannot be assessed
    # When it is built
    # Then the error says what is wrong
    with pytest.raises(AssessmentInputError, match=words):
        build()  # type: ignore[operator]
