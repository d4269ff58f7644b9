"""The sandbox's early-warning triggers, through the real clients, on a clock the test moves: each counts from the
sandbox bank's own first payout to the borrower, and nothing changes for anyone else."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from infra.local.vendors import SandboxVendors
from lending.adapters.vendors.bank_data import BankDataClient
from lending.adapters.vendors.bureau import CreditBureauClient
from lending.adapters.vendors.electricity import ElectricityDataClient
from lending.adapters.vendors.payouts import PayoutClient
from lending.applicant import Applicant
from lending.money import Money, Rounding
from lending.risk.cash_flow import summarise_cash_flow
from lending.risk.policy import load_policy

ID_NUMBER = "11010519491231002X"
PAID_ON = date(2026, 12, 5)


class Clock:
    """The vendors' moment, moved by the test (noon in China on ``day``)."""

    def __init__(self) -> None:
        self.day = PAID_ON

    def __call__(self) -> datetime:
        return datetime(self.day.year, self.day.month, self.day.day, 4, tzinfo=UTC)


@pytest.fixture
def moment() -> Clock:
    return Clock()


@pytest.fixture
def vendors(moment: Clock) -> Iterator[SandboxVendors]:
    with SandboxVendors(callback_delay=0.05, clock=moment) as running:
        yield running


def _person(phone: str, account: str) -> Applicant:
    return Applicant(name="Zhang Min", id_number=ID_NUMBER, phone=f"+8613900{phone}", bank_account=account)


def _onboarded(vendors: SandboxVendors, holder: Applicant) -> None:
    """What origination does with the sandbox bank: the statement asked for, then the payout."""
    BankDataClient(vendors.urls.bank_data, timeout=2).fetch_statements(holder.bank_account, 12, holder=holder)
    PayoutClient(vendors.urls.payouts, timeout=2).pay(
        f"payout-{holder.bank_account}-{holder.phone}", Money.of("10000.00"), holder.bank_account, "app-1"
    )


def _latest_inflow(vendors: SandboxVendors, holder: Applicant) -> Money:
    statement = BankDataClient(vendors.urls.bank_data, timeout=2).fetch_statements(
        holder.bank_account, 1, holder=holder
    )
    return summarise_cash_flow(statement, load_policy().business_assessment).months[-1].inflow


def test_an_account_ending_5555_sees_inflows_fall_by_60_percent_from_the_second_month(
    vendors: SandboxVendors, moment: Clock
) -> None:
    falling, steady = _person("000001", "6222020200005555"), _person("000001", "6222020200005678")
    _onboarded(vendors, falling)
    moment.day = date(2027, 1, 3)  # the latest whole month is December, the payout's month
    december = _latest_inflow(vendors, falling)
    assert december == _latest_inflow(vendors, steady)
    moment.day = date(2027, 2, 3)  # January: the second month
    assert _latest_inflow(vendors, falling) == december.times(Decimal("0.4"), Rounding.HALF_UP)
    assert _latest_inflow(vendors, steady) == december


def test_a_phone_ending_0005_shows_a_new_default_from_30_days_after_payout(
    vendors: SandboxVendors, moment: Clock
) -> None:
    holder = _person("000005", "6222020200001234")
    bureau = CreditBureauClient(vendors.urls.credit_bureau, timeout=2)
    assert bureau.fetch_report(holder, "c-1").defaults == ()  # never paid: nothing to count from
    _onboarded(vendors, holder)
    moment.day = PAID_ON + timedelta(days=29)
    assert bureau.fetch_report(holder, "c-1").defaults == ()
    moment.day = PAID_ON + timedelta(days=30)
    [default] = bureau.fetch_report(holder, "c-1").defaults
    assert default.reported_on == PAID_ON + timedelta(days=30)
    # And a 0001 borrower paid the same day never shows one
    other = _person("000001", "6222020200004321")
    _onboarded(vendors, other)
    assert bureau.fetch_report(other, "c-2").defaults == ()


def test_a_power_business_uses_70_percent_less_electricity_from_the_second_month(
    vendors: SandboxVendors, moment: Clock
) -> None:
    holder = _person("000001", "6222020200001234")
    _onboarded(vendors, holder)
    electricity = ElectricityDataClient(vendors.urls.electricity, timeout=2)
    moment.day = date(2027, 2, 3)
    power = electricity.fetch_readings("Hua POWER Works", 12, holder=holder)
    grid = electricity.fetch_readings("华东电力设备厂", 12, holder=holder)
    trading = electricity.fetch_readings("Hua Trading", 12, holder=holder)
    assert [r.month for r in power] == [date(2026, m, 1) for m in range(2, 13)] + [date(2027, 1, 1)]
    # The months before January as the ordinary business's; January 70% down
    assert [r.kwh for r in power[:-1]] == [r.kwh for r in trading[:-1]] == [r.kwh for r in grid[:-1]]
    assert abs(power[-1].kwh - trading[-1].kwh * Decimal("0.3")) <= Decimal("0.1")
    assert grid[-1].kwh == power[-1].kwh
    # And steady use wobbles within 5% of its level
    kwh = [r.kwh for r in trading]
    assert max(kwh) / min(kwh) < Decimal("1.11")
