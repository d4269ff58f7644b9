"""The sandbox credit bureau and bank/tax data vendor, called with the real clients."""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, tzinfo

import pytest

from infra.local.vendors import SandboxVendors
from infra.local.vendors.profiles import BORDERLINE, PROFILES
from lending import clock
from lending.adapters.vendors.applicant import subject
from lending.adapters.vendors.bank_data import BankDataClient
from lending.adapters.vendors.bureau import CreditBureauClient, CreditReport, Home, JobType
from lending.adapters.vendors.transport import VendorTransport
from lending.applicant import Applicant
from lending.calendar import add_months
from lending.errors import VendorRejected
from lending.money import Money, Rounding
from lending.risk.cash_flow import BankStatement, CashFlowSummary, summarise_cash_flow
from lending.risk.policy import DecisionPolicy, load_policy
from lending.risk.tax import compare_tax_filings

ID_NUMBER = "11010519491231002X"
ACCOUNT = "6222020200001234"
CONSENT = "consent-7f3a"
VARIABLE_FIELDS = {"report_id", "generated_at"}


@pytest.fixture(scope="module")
def policy() -> DecisionPolicy:
    return load_policy()


def _applicant(phone_suffix: str, id_number: str = ID_NUMBER) -> Applicant:
    return Applicant(
        name="Zhang Min", id_number=id_number, phone=f"+86139{phone_suffix.rjust(8, '3')}", bank_account=ACCOUNT
    )


def _report(vendors: SandboxVendors, applicant: Applicant) -> CreditReport:
    return CreditBureauClient(vendors.urls.credit_bureau, timeout=2).fetch_report(applicant, CONSENT)


def _figures(report: CreditReport) -> dict[str, object]:
    return report.model_dump(mode="json", exclude=VARIABLE_FIELDS)


def _cash_flow(vendors: SandboxVendors, applicant: Applicant, policy: DecisionPolicy) -> CashFlowSummary:
    statement = BankDataClient(vendors.urls.bank_data, timeout=2).fetch_statements(ACCOUNT, holder=applicant)
    return summarise_cash_flow(statement, policy.business_assessment)


def _tax_ratio(vendors: SandboxVendors, applicant: Applicant, cash_flow: CashFlowSummary) -> float:
    """Declared over banked revenue, over every month of the statement (each has its filing)."""
    filings = BankDataClient(vendors.urls.bank_data).fetch_tax_filings(applicant)
    comparison = compare_tax_filings(filings, cash_flow)
    assert comparison is not None
    assert comparison.months == cash_flow.months_covered
    assert comparison.ratio is not None
    return float(comparison.ratio)


# --------------------------------------------------------------------------------------------------------- bureau


def test_0001_has_a_strong_credit_profile(vendors: SandboxVendors) -> None:
    report = _report(vendors, _applicant("0001"))

    assert report.derogatory_records is False
    assert report.seniority_years >= 10
    assert report.job is JobType.FIXED
    assert report.home is Home.OWNER
    assert report.monthly_income > report.monthly_expenses + report.monthly_expenses
    assert report.debt == Money.ZERO


def test_0002_has_a_weak_credit_profile(vendors: SandboxVendors) -> None:
    strong, weak = _report(vendors, _applicant("0001")), _report(vendors, _applicant("0002"))

    assert weak.derogatory_records is True
    assert weak.seniority_years <= 1
    assert weak.monthly_income < weak.monthly_expenses
    assert weak.monthly_income < strong.monthly_income
    assert weak.debt > weak.monthly_income.times(12, Rounding.HALF_UP)


def test_0003_is_between_weak_and_strong(vendors: SandboxVendors) -> None:
    strong, weak = _report(vendors, _applicant("0001")), _report(vendors, _applicant("0002"))
    borderline = _report(vendors, _applicant("0003"))

    assert borderline.derogatory_records is False
    assert weak.seniority_years < borderline.seniority_years < strong.seniority_years
    assert weak.monthly_income < borderline.monthly_income < strong.monthly_income
    assert strong.debt < borderline.debt < weak.debt


def test_other_phones_get_a_profile_fixed_by_the_id_number(vendors: SandboxVendors) -> None:
    # Given the same ID number behind two ordinary phones, and another ID number
    first = _report(vendors, _applicant("1234"))
    again = _report(vendors, _applicant("5678"))
    other = _report(vendors, _applicant("1234", id_number="110105198001010016"))

    # Then the profile follows the ID number, and only the ID number
    assert _figures(first) == _figures(again)
    assert _figures(first) != _figures(other)


@pytest.mark.parametrize("phone_suffix", ["0001", "0002", "0003", "1234"])
def test_reports_are_deterministic(vendors: SandboxVendors, phone_suffix: str) -> None:
    first, second = _report(vendors, _applicant(phone_suffix)), _report(vendors, _applicant(phone_suffix))

    assert first.report_id == second.report_id
    assert _figures(first) == _figures(second)
    assert first.generated_at.utcoffset() is not None


def test_a_report_without_consent_is_refused(vendors: SandboxVendors) -> None:
    transport = VendorTransport("credit_bureau", vendors.urls.credit_bureau, timeout=2)

    with pytest.raises(VendorRejected) as refused:
        transport.send("POST", "/v1/reports", body={"subject": subject(_applicant("0001"))}, expect=(200,))

    assert refused.value.reason == "consent_required"
    with pytest.raises(ValueError, match="consent"):
        CreditBureauClient(vendors.urls.credit_bureau).fetch_report(_applicant("0001"), "")


# ------------------------------------------------------------------------------------------------ bank and tax data


def _last_whole_months(count: int, today: date | None = None) -> tuple[date, date]:
    """First and last day of the ``count`` whole calendar months before this one (on the platform's business date)."""
    this_month = (today or clock.today()).replace(day=1)
    last = add_months(this_month, -1)
    return add_months(this_month, -count), last.replace(day=calendar.monthrange(last.year, last.month)[1])


@pytest.mark.parametrize(("phone_suffix", "months"), [("0001", 12), ("0002", 12), ("0003", 5), ("1234", 12)])
def test_statements_are_well_formed_and_deterministic(vendors: SandboxVendors, phone_suffix: str, months: int) -> None:
    client = BankDataClient(vendors.urls.bank_data, timeout=2)

    statement = client.fetch_statements(ACCOUNT, holder=_applicant(phone_suffix))

    assert isinstance(statement, BankStatement)
    assert (statement.period_start, statement.period_end) == _last_whole_months(months)
    assert len(statement.whole_months()) == months
    assert all(transaction.amount for transaction in statement.transactions)
    assert {transaction.category for transaction in statement.transactions} >= {"sales", "rent", "payroll"}
    assert [t.on for t in statement.transactions] == sorted(t.on for t in statement.transactions)
    assert client.fetch_statements(ACCOUNT, holder=_applicant(phone_suffix)) == statement


def test_statements_cover_the_months_asked_for(vendors: SandboxVendors) -> None:
    statement = BankDataClient(vendors.urls.bank_data).fetch_statements(ACCOUNT, 6, holder=_applicant("0001"))

    assert (statement.period_start, statement.period_end) == _last_whole_months(6)


def test_a_strong_business_has_steady_inflows_and_honest_tax_filings(
    vendors: SandboxVendors, policy: DecisionPolicy
) -> None:
    applicant = _applicant("0001")
    flow = _cash_flow(vendors, applicant, policy)

    assert flow.negative_net_flow_months == 0
    assert flow.months_without_inflow == 0
    assert flow.revenue_cv is not None
    assert flow.revenue_cv < 0.1
    assert flow.revenue_trend is not None
    assert flow.revenue_trend >= 0
    assert abs(_tax_ratio(vendors, applicant, flow) - 1) <= 0.05


def test_a_weak_business_is_volatile_with_negative_months_and_a_tax_mismatch(
    vendors: SandboxVendors, policy: DecisionPolicy
) -> None:
    applicant = _applicant("0002")
    flow = _cash_flow(vendors, applicant, policy)

    assert flow.negative_net_flow_months > policy.business_assessment.max_negative_net_flow_months
    assert flow.revenue_cv is not None
    assert flow.revenue_cv > policy.business_assessment.max_revenue_cv
    assert not flow.average_monthly_net_flow.is_positive
    assert abs(_tax_ratio(vendors, applicant, flow) - 1) > float(policy.business_assessment.max_tax_mismatch)


def test_a_borderline_business_sits_in_between(vendors: SandboxVendors, policy: DecisionPolicy) -> None:
    strong = _cash_flow(vendors, _applicant("0001"), policy)
    weak = _cash_flow(vendors, _applicant("0002"), policy)
    applicant = _applicant("0003")
    borderline = _cash_flow(vendors, applicant, policy)

    assert borderline.revenue_cv is not None
    assert strong.revenue_cv is not None
    assert weak.revenue_cv is not None
    assert strong.revenue_cv < borderline.revenue_cv < weak.revenue_cv
    assert weak.average_monthly_net_flow < borderline.average_monthly_net_flow < strong.average_monthly_net_flow
    assert borderline.negative_net_flow_months == 0
    ratio = _tax_ratio(vendors, applicant, borderline)
    assert 0.05 < abs(ratio - 1) <= float(policy.business_assessment.max_tax_mismatch)


def test_a_borderline_business_banks_here_one_month_too_short_for_the_assessment_to_judge_alone(
    vendors: SandboxVendors, policy: DecisionPolicy
) -> None:
    """The referral that holds at any amount: a history shorter than the policy's minimum is a high finding the
    policy refers on, whatever the score; the test fails when the policy's minimum moves past the profile's."""
    # Given the borderline applicant, and the months the policy needs to judge a business alone
    needed = policy.business_assessment.min_history_months
    # When the platform asks for its 12 months and for its tax filings
    flow = _cash_flow(vendors, _applicant("0003"), policy)
    filings = BankDataClient(vendors.urls.bank_data).fetch_tax_filings(_applicant("0003"))
    # Then the statement covers one month fewer than that, every one of them in surplus, and the filings a year
    assert flow.months_covered == needed - 1 == PROFILES[BORDERLINE].cash_flow.history_months
    assert all(month.net.is_positive for month in flow.months)
    assert len(filings) == 12
    # And a statement asked for fewer months than the history still covers only those
    short = BankDataClient(vendors.urls.bank_data).fetch_statements(ACCOUNT, 3, holder=_applicant("0003"))
    assert (short.period_start, short.period_end) == _last_whole_months(3)


def test_tax_filings_are_monthly_and_deterministic(vendors: SandboxVendors) -> None:
    client = BankDataClient(vendors.urls.bank_data)
    applicant = _applicant("1234")

    filings = client.fetch_tax_filings(applicant, tax_id="91110105MA01234567")

    assert len(filings) == 12
    assert (filings[0].period_start, filings[-1].period_end) == _last_whole_months(12)
    assert all(filing.declared_revenue.is_positive for filing in filings)
    assert client.fetch_tax_filings(applicant, tax_id="91110105MA01234567") == filings


def test_a_bad_statement_request_is_rejected(vendors: SandboxVendors) -> None:
    transport = VendorTransport("bank_data", vendors.urls.bank_data, timeout=2)

    with pytest.raises(VendorRejected) as refused:
        transport.send("GET", "/v1/statements", query={"account": "12ab", "months": "99"}, expect=(200,))

    assert refused.value.reason == "invalid_request"
    assert refused.value.status == 422
    with pytest.raises(ValueError, match="months"):
        BankDataClient(vendors.urls.bank_data).fetch_statements(ACCOUNT, 0, holder=_applicant("0001"))


# ------------------------------------------------------------------------------------------------------- the clock


class _StillDatetime(datetime):
    """``datetime`` whose ``now`` is :data:`_StillDatetime.moment`: the system clock held still."""

    moment = datetime(2026, 2, 28, 16, 30, tzinfo=UTC)

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> _StillDatetime:
        return cls.fromtimestamp(cls.moment.timestamp(), tz)


@pytest.fixture
def still_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[_StillDatetime]]:
    """The platform's clock on a held system clock, not moved; put back as it was afterwards."""
    monkeypatch.setattr(clock, "datetime", _StillDatetime)
    ahead = clock._Shift.ahead
    clock._Shift.ahead = timedelta(0)
    yield _StillDatetime
    clock._Shift.ahead = ahead


def test_the_statement_window_follows_the_test_clock(
    vendors: SandboxVendors, still_clock: type[_StillDatetime]
) -> None:
    # Given the platform's business date, and the statement and filings the vendor gives on it
    client = BankDataClient(vendors.urls.bank_data, timeout=2)
    today = clock.today()
    before = client.fetch_statements(ACCOUNT, holder=_applicant("0001"))
    assert (before.period_start, before.period_end) == _last_whole_months(12, today)
    # When the test clock moves forward two months and a half
    moved = clock.advance_to(today + timedelta(days=75))
    # Then the next statement and filings end with the last whole month before the new business date
    after = client.fetch_statements(ACCOUNT, holder=_applicant("0001"))
    filings = client.fetch_tax_filings(_applicant("0001"))
    assert (after.period_start, after.period_end) == _last_whole_months(12, moved)
    assert (filings[0].period_start, filings[-1].period_end) == _last_whole_months(12, moved)
    assert after.period_end > before.period_end


def test_the_statement_window_turns_at_midnight_in_china_not_at_midnight_utc(
    vendors: SandboxVendors, still_clock: type[_StillDatetime]
) -> None:
    # Given 16:30 UTC on the last day of February: already 1 March in China, the platform's business date
    assert still_clock.moment.date() == date(2026, 2, 28)
    assert clock.today() == date(2026, 3, 1)
    # When the platform asks for a statement
    statement = BankDataClient(vendors.urls.bank_data, timeout=2).fetch_statements(ACCOUNT, holder=_applicant("0001"))
    # Then February is a whole month that has ended, as the platform's assessment sees it, and the last one covered
    assert (statement.period_start, statement.period_end) == (date(2025, 3, 1), date(2026, 2, 28))


def test_a_report_is_generated_at_the_platforms_moment(
    vendors: SandboxVendors, still_clock: type[_StillDatetime]
) -> None:
    # Given the platform's clock moved ten days past the held system clock
    clock.advance_to(clock.today() + timedelta(days=10))
    # When the bureau reports
    report = _report(vendors, _applicant("0001"))
    # Then the report's time is the platform's moment, to the second
    assert report.generated_at == (still_clock.moment + timedelta(days=10)).replace(microsecond=0)
