"""The business assessment: figures on a hand-computed year, findings, tax agreement and malformed inputs."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lending.calendar import add_months
from lending.errors import AssessmentInputError, InvalidAmount
from lending.money import Money
from lending.risk.business_assessment import assess_business
from lending.risk.cash_flow import BankStatement, BankTransaction, debt_service_coverage
from lending.risk.findings import Finding, Severity
from lending.risk.policy import DecisionPolicy, load_policy
from lending.risk.sources import AssessmentContext
from lending.risk.statistics import least_squares_slope, median, pearson_correlation, population_std
from lending.risk.tax import TaxFiling

JANUARY_2025 = date(2025, 1, 1)


def _month_end(month: date) -> date:
    return date.fromordinal(add_months(month, 1).toordinal() - 1)


def _statement(
    inflows: Sequence[int], outflows: Sequence[int], first: date = JANUARY_2025, extra: Sequence[BankTransaction] = ()
) -> BankStatement:
    """A statement of whole months from ``first``: each month's inflow in two equal receipts, its outflow in one."""
    transactions: list[BankTransaction] = list(extra)
    for index, (inflow, outflow) in enumerate(zip(inflows, outflows, strict=True)):
        month = add_months(first, index)
        if inflow:
            half = Money.of(inflow).split(2)
            transactions.append(BankTransaction(month.replace(day=3), half[0], "sales"))
            transactions.append(BankTransaction(month.replace(day=17), half[1], "sales"))
        if outflow:
            transactions.append(BankTransaction(month.replace(day=25), -Money.of(outflow), "suppliers"))
    return BankStatement(first, _month_end(add_months(first, len(inflows) - 1)), tuple(transactions))


def _quarter(start: date, declared: str) -> TaxFiling:
    return TaxFiling(start, _month_end(add_months(start, 2)), Money.of(declared))


# The hand-computed year, January–December 2025:
#   inflow of month k (k = 0 … 11) = 89,000 + 2,000·k: 89,000, 91,000, …, 111,000
#   outflow = 95,000 in January, 92,000 in February, 80,000 in every other month
YEAR_INFLOWS = [89_000 + 2_000 * k for k in range(12)]
YEAR_OUTFLOWS = [95_000, 92_000] + [80_000] * 10
# Quarterly VAT filings declaring 90% of each quarter's bank inflow:
#   Q1 0.9 × (89+91+93)k = 245,700; Q2 0.9 × 291k = 261,900; Q3 0.9 × 309k = 278,100; Q4 0.9 × 327k = 294,300
YEAR_FILINGS = (
    _quarter(date(2025, 1, 1), "245700.00"),
    _quarter(date(2025, 4, 1), "261900.00"),
    _quarter(date(2025, 7, 1), "278100.00"),
    _quarter(date(2025, 10, 1), "294300.00"),
)


def test_the_assessment_of_a_hand_computed_year(policy: DecisionPolicy) -> None:
    # Given a year of statements and the four quarterly filings above, and a proposed instalment of 10,000
    statement = _statement(YEAR_INFLOWS, YEAR_OUTFLOWS)

    # When the business is assessed
    assessment = assess_business(statement, YEAR_FILINGS, policy=policy, proposed_instalment=Money.of("10000.00"))

    # Then every figure is the hand-computed one
    assert assessment.months_covered == 12
    assert (assessment.first_month, assessment.last_month) == (date(2025, 1, 1), date(2025, 12, 1))
    # Σ inflow = 12 × 89,000 + 2,000 × (0 + 1 + … + 11) = 1,068,000 + 132,000 = 1,200,000; / 12
    assert assessment.average_monthly_inflow == Money.of("100000.00")
    # Σ outflow = 95,000 + 92,000 + 10 × 80,000 = 987,000; / 12 = 82,250
    assert assessment.average_monthly_outflow == Money.of("82250.00")
    # (1,200,000 − 987,000) / 12 = 213,000 / 12 = 17,750
    assert assessment.average_monthly_net_flow == Money.of("17750.00")
    # σ = 2,000 × √(Σ(k − 5.5)² / 12) = 2,000 × √(143 / 12) = 2,000 × 3.45205… = 6,904.1…; / 100,000 = 0.06904
    assert assessment.revenue_cv == Decimal("0.0690")
    # The inflows lie on a line of slope 2,000 a month; 2,000 / 100,000 = 0.02 of the mean a month
    assert assessment.revenue_trend == Decimal("0.0200")
    # January (89,000 − 95,000 = −6,000) and February (91,000 − 92,000 = −1,000)
    assert assessment.negative_net_flow_months == 2
    # Declared 245,700 + 261,900 + 278,100 + 294,300 = 1,080,000 against 1,200,000 banked: 0.9
    assert assessment.tax is not None
    assert (assessment.tax.months, assessment.tax.declared_revenue) == (12, Money.of("1080000.00"))
    assert assessment.tax.bank_inflow == Money.of("1200000.00")
    assert assessment.tax_revenue_ratio == Decimal("0.9000")
    # 17,750 / 10,000
    assert assessment.debt_service_coverage == Decimal("1.7750")
    # And nothing in it needs a person: 12 months, CV and trend within policy, 2 negative months, tax within ±20%
    assert assessment.findings == ()


def test_the_statistics_agree_with_the_hand_computation() -> None:
    # Given the year's inflows as decimals
    inflows = [Decimal(value) for value in YEAR_INFLOWS]
    # When the statistics are taken
    # Then σ² = 4,000,000 × 143 / 12, the slope is 2,000, the median is (99,000 + 101,000) / 2
    assert population_std(inflows) ** 2 == pytest.approx(Decimal(4_000_000 * 143) / 12)
    assert least_squares_slope(inflows) == Decimal(2000)
    assert median(inflows) == Decimal(100_000)
    assert pearson_correlation(inflows, [value * 3 for value in inflows]) == Decimal(1)
    assert pearson_correlation(inflows, [Decimal(5)] * 12) is None
    assert least_squares_slope([Decimal(1)]) is None


def test_partial_months_non_operating_flows_and_months_beyond_the_window_are_left_out(policy: DecisionPolicy) -> None:
    # Given a statement from 20 Nov 2024 to 12 Jan 2026 (13 whole months, Dec 2024 – Dec 2025), where
    # - the partial months (Nov 2024, Jan 2026) and Dec 2024 (the 13th month back) carry large receipts,
    # - March 2025 also holds loan proceeds of 50,000 and a transfer out to the owner's own account of 30,000
    year = _statement(YEAR_INFLOWS, YEAR_OUTFLOWS)
    noise = (
        BankTransaction(date(2024, 11, 25), Money.of("900000.00"), "sales"),
        BankTransaction(date(2024, 12, 5), Money.of("700000.00"), "sales"),
        BankTransaction(date(2026, 1, 5), Money.of("800000.00"), "sales"),
        BankTransaction(date(2025, 3, 10), Money.of("50000.00"), "Loan_Proceeds"),
        BankTransaction(date(2025, 3, 11), Money.of("-30000.00"), "own_account_transfer"),
    )
    statement = BankStatement(date(2024, 11, 20), date(2026, 1, 12), year.transactions + noise)

    # When the business is assessed
    assessment = assess_business(statement, YEAR_FILINGS, policy=policy)

    # Then the figures are those of the clean year: the window is the last 12 whole months, operating flows only
    assert assessment.months_covered == 12
    assert assessment.first_month == date(2025, 1, 1)
    assert assessment.average_monthly_inflow == Money.of("100000.00")
    assert assessment.average_monthly_net_flow == Money.of("17750.00")
    assert assessment.monthly[2].inflow == Money.of("93000.00")


def test_fewer_than_six_months_is_a_finding_not_a_crash(policy: DecisionPolicy) -> None:
    # Given a statement of four whole months (August–November 2025)
    statement = _statement([50_000, 52_000, 54_000, 56_000], [40_000] * 4, first=date(2025, 8, 1))

    # When the business is assessed
    assessment = assess_business(statement, [], policy=policy)

    # Then the figures are computed over the four months, and a high finding says the history is too short
    assert assessment.months_covered == 4
    assert assessment.average_monthly_inflow == Money.of("53000.00")
    codes = {finding.code: finding for finding in assessment.findings}
    assert codes["insufficient_history"].severity is Severity.HIGH
    assert "4 whole months" in codes["insufficient_history"].message
    assert codes["insufficient_history"].source == "bank_statements"
    # And without any filing, the tax check could not be made
    assert codes["tax_filings_missing"].severity is Severity.MEDIUM


def test_declared_revenue_far_below_bank_inflows_is_a_tax_mismatch(policy: DecisionPolicy) -> None:
    # Given the year, with one annual filing declaring 600,000 of the 1,200,000 that the bank saw
    annual = TaxFiling(date(2025, 1, 1), date(2025, 12, 31), Money.of("600000.00"))

    # When the business is assessed
    assessment = assess_business(_statement(YEAR_INFLOWS, YEAR_OUTFLOWS), [annual], policy=policy)

    # Then the ratio is 0.5, beyond the ±0.20 tolerance, and a high finding says so in figures
    assert assessment.tax_revenue_ratio == Decimal("0.5000")
    assert assessment.tax is not None
    assert assessment.tax.mismatch(policy.business_assessment.max_tax_mismatch)
    [finding] = [f for f in assessment.findings if f.code == "tax_mismatch"]
    assert finding.severity is Severity.HIGH
    assert "50.00%" in finding.message
    assert "20.00%" in finding.message


def test_declared_revenue_above_bank_inflows_is_also_a_mismatch(policy: DecisionPolicy) -> None:
    # Given an annual filing declaring 1,500,000 against 1,200,000 banked (ratio 1.25)
    annual = TaxFiling(date(2025, 1, 1), date(2025, 12, 31), Money.of("1500000.00"))
    # When the business is assessed
    assessment = assess_business(_statement(YEAR_INFLOWS, YEAR_OUTFLOWS), [annual], policy=policy)
    # Then it is a mismatch too: revenue declared that never reached the account
    assert assessment.tax_revenue_ratio == Decimal("1.2500")
    assert any(f.code == "tax_mismatch" for f in assessment.findings)


def test_revenue_declared_for_months_without_any_inflow_is_a_mismatch(policy: DecisionPolicy) -> None:
    # Given six months with outflows only, and a filing declaring 100,000 for them
    statement = _statement([0] * 6, [1_000] * 6)
    filing = TaxFiling(date(2025, 1, 1), date(2025, 6, 30), Money.of("100000.00"))
    # When the business is assessed
    assessment = assess_business(statement, [filing], policy=policy)
    # Then the ratio is undefined, the comparison still says mismatch, and there is no revenue nor surplus
    assert assessment.tax_revenue_ratio is None
    codes = {f.code for f in assessment.findings}
    assert {"tax_mismatch", "no_revenue", "no_operating_surplus"} <= codes
    assert assessment.revenue_cv is None
    assert assessment.revenue_trend is None


def test_a_filing_only_partly_inside_the_window_is_not_compared(policy: DecisionPolicy) -> None:
    # Given the year, and one filing for Q4 2024 – which the window does not cover – besides Q1 2025
    filings = [_quarter(date(2024, 10, 1), "999999.00"), YEAR_FILINGS[0]]
    # When the business is assessed
    assessment = assess_business(_statement(YEAR_INFLOWS, YEAR_OUTFLOWS), filings, policy=policy)
    # Then only Q1 2025 is compared: 245,700 / 273,000 = 0.9
    assert assessment.tax is not None
    assert assessment.tax.months == 3
    assert assessment.tax_revenue_ratio == Decimal("0.9000")


def test_falling_volatile_and_loss_making_months_are_findings(policy: DecisionPolicy) -> None:
    # Given inflows alternating 20,000 and 180,000 (mean 100,000, σ 80,000: CV 0.8) ...
    alternating = [20_000, 180_000] * 6
    # ... against outflows of 100,000 a month: six months below zero
    assessment = assess_business(_statement(alternating, [100_000] * 12), YEAR_FILINGS, policy=policy)
    codes = {f.code: f for f in assessment.findings}
    assert assessment.revenue_cv == Decimal("0.8000")
    assert codes["revenue_volatile"].severity is Severity.MEDIUM
    assert assessment.negative_net_flow_months == 6
    assert codes["negative_net_flow_months"].severity is Severity.MEDIUM

    # Given inflows falling 8,000 a month from 120,000 (mean 76,000: slope −8,000 / 76,000 = −0.1053)
    falling = [120_000 - 8_000 * k for k in range(12)]
    # When assessed
    assessment = assess_business(_statement(falling, [10_000] * 12), [], policy=policy)
    # Then the decline is beyond the 5% a month the policy tolerates
    assert assessment.revenue_trend == Decimal("-0.1053")
    declining = next(f for f in assessment.findings if f.code == "revenue_declining")
    assert "10.53%" in declining.message


def test_a_month_without_inflow_is_noted(policy: DecisionPolicy) -> None:
    # Given the year with nothing coming in during June
    inflows = [*YEAR_INFLOWS[:5], 0, *YEAR_INFLOWS[6:]]
    # When assessed
    assessment = assess_business(_statement(inflows, [10_000] * 12), YEAR_FILINGS[2:], policy=policy)
    # Then the empty month is a finding
    assert any(f.code == "months_without_inflow" and "1 of 12" in f.message for f in assessment.findings)


def test_the_assessment_serialises_money_to_two_places_and_ratios_to_four(policy: DecisionPolicy) -> None:
    # Given the assessed year
    assessment = assess_business(
        _statement(YEAR_INFLOWS, YEAR_OUTFLOWS), YEAR_FILINGS, policy=policy, proposed_instalment=Money.of(10_000)
    )
    # When it is turned into JSON
    document = json.loads(json.dumps(assessment.to_json_dict()))
    # Then amounts and ratios are strings of fixed places
    assert document["average_monthly_net_flow"] == "17750.00"
    assert document["revenue_cv"] == "0.0690"
    assert document["tax"]["ratio"] == "0.9000"
    assert document["debt_service_coverage"] == "1.7750"
    assert document["monthly"][0] == {
        "month": "2025-01",
        "inflow": "89000.00",
        "outflow": "95000.00",
        "net": "-6000.00",
    }


@dataclass(frozen=True)
class _SupplyChainInvoices:
    """A made-up plug-in: proves that any object with a name and assess() joins the assessment."""

    @property
    def name(self) -> str:
        return "invoices"

    def assess(self, context: AssessmentContext) -> list[Finding]:
        return [Finding("invoices_seen", Severity.INFO, f"{context.cash_flow.months_covered} months", self.name)]


def test_further_sources_plug_in_through_the_same_interface(policy: DecisionPolicy) -> None:
    # Given a further source
    # When the assessment runs with it
    assessment = assess_business(
        _statement(YEAR_INFLOWS, YEAR_OUTFLOWS), YEAR_FILINGS, policy=policy, sources=[_SupplyChainInvoices()]
    )
    # Then its findings join the others under its name
    assert assessment.findings == (Finding("invoices_seen", Severity.INFO, "12 months", "invoices"),)


def test_two_sources_with_one_name_are_refused(policy: DecisionPolicy) -> None:
    # Given two sources under one name
    # When the assessment runs
    # Then it is refused: the policy could not tell their findings apart
    with pytest.raises(AssessmentInputError, match="invoices"):
        assess_business(
            _statement(YEAR_INFLOWS, YEAR_OUTFLOWS),
            [],
            policy=policy,
            sources=[_SupplyChainInvoices(), _SupplyChainInvoices()],
        )


def test_a_statement_without_a_whole_month_is_a_clear_error(policy: DecisionPolicy) -> None:
    # Given a statement from 3 to 28 March
    statement = BankStatement(date(2025, 3, 3), date(2025, 3, 28), ())
    # When it is assessed
    # Then the error says what is missing
    with pytest.raises(AssessmentInputError, match="whole calendar month"):
        assess_business(statement, [], policy=policy)


@pytest.mark.parametrize(
    ("build", "words"),
    [
        (lambda: BankStatement(date(2025, 2, 1), date(2025, 1, 31), ()), "ends before it starts"),
        (
            lambda: BankStatement(
                date(2025, 1, 1), date(2025, 1, 31), (BankTransaction(date(2025, 2, 1), Money.of(1)),)
            ),
            "outside the statement period",
        ),
        (lambda: BankTransaction(date(2025, 1, 1), "100.00"), "must be Money"),  # type: ignore[arg-type]
        (lambda: BankTransaction("2025-01-01", Money.of(1)), "must be a date"),  # type: ignore[arg-type]
        (lambda: TaxFiling(date(2025, 1, 2), date(2025, 3, 31), Money.of(1)), "whole months"),
        (lambda: TaxFiling(date(2025, 1, 1), date(2025, 3, 30), Money.of(1)), "whole months"),
        (lambda: TaxFiling(date(2025, 1, 1), date(2025, 3, 31), Money.of(-1)), "negative"),
        (lambda: debt_service_coverage(Money.of(100), Money.ZERO), "positive"),
    ],
)
def test_malformed_inputs_are_clear_errors(build: object, words: str) -> None:
    # Given a statement, transaction, filing or instalment that cannot be assessed
    # When it is built or used
    # Then the error says what is wrong
    with pytest.raises(AssessmentInputError, match=words):
        build()  # type: ignore[operator]


def test_overlapping_filings_are_refused(policy: DecisionPolicy) -> None:
    # Given a quarterly filing and a monthly one for a month inside it
    filings = [YEAR_FILINGS[0], TaxFiling(date(2025, 2, 1), date(2025, 2, 28), Money.of(1))]
    # When assessed
    # Then the double count is refused, naming the month
    with pytest.raises(AssessmentInputError, match="2025-02"):
        assess_business(_statement(YEAR_INFLOWS, YEAR_OUTFLOWS), filings, policy=policy)


def test_a_float_amount_never_reaches_the_assessment() -> None:
    # Given an amount as a float
    # When a transaction is built with it
    # Then Money refuses it before the assessment sees it
    with pytest.raises(InvalidAmount):
        BankTransaction(date(2025, 1, 1), Money.of(12.5))  # type: ignore[arg-type]


transactions = st.lists(
    st.builds(
        BankTransaction,
        on=st.dates(min_value=date(2025, 1, 1), max_value=date(2025, 12, 31)),
        amount=st.integers(min_value=-5_000_000, max_value=5_000_000).map(Money),
        category=st.sampled_from([None, "sales", "suppliers", "loan_proceeds", "OWN_ACCOUNT_TRANSFER"]),
    ),
    max_size=60,
)


@given(lines=transactions)
def test_every_operating_fen_lands_in_exactly_one_month(lines: list[BankTransaction]) -> None:
    # Given any transactions over 2025, some of them non-operating
    statement = BankStatement(date(2025, 1, 1), date(2025, 12, 31), tuple(lines))
    policy = load_policy()

    # When the business is assessed
    assessment = assess_business(statement, [], policy=policy)

    # Then the months' inflows and outflows add up to the operating transactions, fen for fen
    operating = [
        line
        for line in lines
        if (line.category or "").lower() not in policy.business_assessment.non_operating_categories
    ]
    assert sum(flow.inflow.fen for flow in assessment.monthly) == sum(
        t.amount.fen for t in operating if t.amount.fen > 0
    )
    assert sum(flow.net.fen for flow in assessment.monthly) == sum(t.amount.fen for t in operating)
    # And the average net flow is never overstated: rounded down from the exact mean
    assert assessment.average_monthly_net_flow.fen * 12 <= sum(flow.net.fen for flow in assessment.monthly)
    assert assessment.months_covered == 12
