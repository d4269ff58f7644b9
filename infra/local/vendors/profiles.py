"""The sandbox applicants: one table of credit profiles, and the bureau, bank and tax data each one produces.

The applicant's phone picks a named profile (``0001`` strong, ``0002`` weak, ``0003`` borderline); any other phone
gets a profile derived from a SHA-256 of the ID number, between weak and strong. Everything here is a pure function
of the profile, the applicant's data and the date: the same applicant always gets the same report, statement and
filings. To move a sandbox outcome against new model cut-offs or assessment policy, tune :data:`PROFILES`.

The vendors never see the application: no request to them carries the amount, the term or the product. So each
named profile earns its phone's outcome at every amount and term of every product, as a payment provider's test
card does whatever the basket (the contract's promise, held by ``tests/integration/vendors/test_sandbox_outcomes``):
its person scores on the right side of the cut-offs wherever the model puts the amount, and its business banks
enough to service the largest payment any product can ask for at that product's coverage floor.

All amounts are CNY. The bureau's are the person's (monthly income and expenses, assets, debt); the scoring step
converts them to the units of the ``credit_data`` set its model was trained on (``lending.scoring.features``).
Bank and tax amounts are the business's.
"""

from __future__ import annotations

import calendar
import hashlib
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from lending.adapters.vendors.bureau import Home, JobType, Marital
from lending.calendar import add_months
from lending.money import CONTEXT, Money, Rounding

STRONG = "strong"
WEAK = "weak"
BORDERLINE = "borderline"
DERIVED = "derived"

#: The last four digits of the phone that pick a named profile (``0005``: approved like ``0001``, then the bureau
#: reports a new default at another lender, see :func:`bureau_defaults`).
PHONE_SUFFIX_PROFILES: dict[str, str] = {"0001": STRONG, "0002": WEAK, "0003": BORDERLINE, "0005": STRONG}

# ------------------------------------------------------------------ early-warning triggers (on the test clock)
# Each counts from the sandbox bank's first payout to the borrower (infra.local.vendors.bank_book), the loan's
# first month being the payout's: "the second month" is the calendar month after it.

#: A bank account ending so: operating inflows fall by CASH_FLOW_FALL from the second month.
CASH_FLOW_DROP_ACCOUNT_SUFFIX = "5555"
CASH_FLOW_FALL = Decimal("0.60")
#: A phone ending so: from NEW_DEFAULT_AFTER_DAYS after the payout, the bureau reports a default at another lender.
NEW_DEFAULT_PHONE_SUFFIX = "0005"
NEW_DEFAULT_AFTER_DAYS = 30
NEW_DEFAULT_AMOUNT = Money.of("80000.00")
#: A business name containing one of these: electricity use falls by ELECTRICITY_FALL from the second month.
POWER_NAME_MARKERS = ("电力", "POWER")
ELECTRICITY_FALL = Decimal("0.70")


@dataclass(frozen=True, slots=True)
class BureauFigures:
    """What the credit bureau reports about the person."""

    seniority_years: int
    home: Home
    marital: Marital
    derogatory_records: bool
    job: JobType
    monthly_expenses: Money
    monthly_income: Money
    assets: Money
    debt: Money


@dataclass(frozen=True, slots=True)
class CashFlow:
    """How the business's bank account moves, month by month.

    Operating inflow of a month is ``average_revenue × revenue_shape[i]`` (the shape's last value is the latest
    month); outflow is ``fixed_costs + variable_cost_share × inflow``, so a month is negative when its inflow falls
    below ``fixed_costs / (1 − variable_cost_share)``. Tax filings declare ``tax_declared_share`` of the inflow.
    """

    average_revenue: Money
    revenue_shape: tuple[Decimal, ...]
    fixed_costs: Money
    variable_cost_share: Decimal
    tax_declared_share: Decimal
    #: Borrowed money paid in once, mid-window: not revenue, and labelled so (the assessment leaves it out).
    loan_proceeds: Money = Money.ZERO
    #: Whole months the account has been with this bank: a statement covers no more of them, however many are
    #: asked for (None: as many as asked). Tax filings still cover the months asked: the business is older.
    history_months: int | None = None


@dataclass(frozen=True, slots=True)
class SandboxProfile:
    """One sandbox applicant type: the person (bureau) and the business (bank, tax)."""

    name: str
    bureau: BureauFigures
    cash_flow: CashFlow


def _shape(*values: str) -> tuple[Decimal, ...]:
    return tuple(Decimal(value) for value in values)


#: Measured with the champion model (credit_gbdt_v2) and the 2026-11-28.1 catalogue and policy (cut-offs 545 approve,
#: 509 decline) over every cell where the model's inputs change: amounts 1,000–500,000, terms 1–36, ages 18–65.
#: Scores: strong 564–679, borderline 525–635, weak 326–403. The largest payment any product asks for is a
#: 500,000 line drawn in full and repaid in one month: 504,625.00 at grade B's rate in the dearest industry, so
#: 630,781.25 a month at the line's 1.25 floor (632,447.91 at grade C's); the instalment products' hardest, 500,000
#: over 3 months, needs 215,781.24. test_sandbox_outcomes re-checks it all after a model, catalogue or policy change.
PROFILES: dict[str, SandboxProfile] = {
    # Long employment (past the model's last seniority split, 19.5 years), own home, no records, income far above
    # expenses, assets past the model's last split (2.05 million), no debt: at least 564 at any amount, term and
    # age, so approved automatically. The business clears 750,000 a month on average (714,000 in its weakest month
    # in the window), every month in surplus: coverage of at least 1.48 on the hardest payment of any product, so
    # every request is granted in full. Tax declared at 98% of banked revenue.
    STRONG: SandboxProfile(
        STRONG,
        BureauFigures(
            seniority_years=20,
            home=Home.OWNER,
            marital=Marital.MARRIED,
            derogatory_records=False,
            job=JobType.FIXED,
            monthly_expenses=Money.of("6000.00"),
            monthly_income=Money.of("60000.00"),
            assets=Money.of("2100000.00"),
            debt=Money.of("0.00"),
        ),
        CashFlow(
            average_revenue=Money.of("2000000.00"),
            revenue_shape=_shape(
                "0.96", "0.98", "0.97", "0.99", "1.00", "0.98", "1.01", "1.02", "1.00", "1.03", "1.02", "1.04"
            ),
            fixed_costs=Money.of("150000.00"),
            variable_cost_share=Decimal("0.55"),
            tax_declared_share=Decimal("0.98"),
        ),
    ),
    # Short employment, records, low income, high debt: scores 403 at best, below the decline cut-off at any amount.
    # Volatile falling inflows, seven months in deficit, a loss on average, and barely half the banked revenue
    # declared to the tax office: a tax mismatch, the hard rule that declines before any score or amount is read.
    WEAK: SandboxProfile(
        WEAK,
        BureauFigures(
            seniority_years=0,
            home=Home.RENT,
            marital=Marital.SEPARATED,
            derogatory_records=True,
            job=JobType.PARTIME,
            monthly_expenses=Money.of("9000.00"),
            monthly_income=Money.of("6000.00"),
            assets=Money.of("0.00"),
            debt=Money.of("450000.00"),
        ),
        CashFlow(
            average_revenue=Money.of("40000.00"),
            revenue_shape=_shape(
                "1.60", "0.45", "1.40", "0.35", "1.35", "0.50", "1.20", "0.30", "1.05", "0.40", "0.90", "0.30"
            ),
            fixed_costs=Money.of("18000.00"),
            variable_cost_share=Decimal("0.55"),
            tax_declared_share=Decimal("0.55"),
            loan_proceeds=Money.of("30000.00"),
        ),
    ),
    # Referred to an underwriter, whatever is asked. No score can do that alone: the referral band is 509–544, and
    # the amount alone moves a score further (searched: at 12 months and age 40, the narrowest any profile came was
    # 508–544, and only with expenses in the hundreds of thousands; across every term and age, the narrowest was 47
    # points, 502–549). So the referral comes from the business, which moved its account here five months ago: a
    # statement of five whole months, one short of the policy's six, is a high finding the policy refers on, and
    # nothing the assessment declines on. The person in between the others (mid-career freelancer, some debt, no
    # records) scores 525 or more at any amount, term and age: never declined, and approved but for the history.
    # The business clears 698,400 a month over those five months, every month in surplus: coverage of at least 1.38
    # on the hardest payment of any product at grade C, so the underwriter sees the request itself as the terms.
    # Tax declared at 88% of banked revenue (within tolerance).
    BORDERLINE: SandboxProfile(
        BORDERLINE,
        BureauFigures(
            seniority_years=12,
            home=Home.OWNER,
            marital=Marital.MARRIED,
            derogatory_records=False,
            job=JobType.FREELANCE,
            monthly_expenses=Money.of("5500.00"),
            monthly_income=Money.of("28000.00"),
            assets=Money.of("400000.00"),
            debt=Money.of("20000.00"),
        ),
        CashFlow(
            average_revenue=Money.of("2200000.00"),
            revenue_shape=_shape(
                "1.10", "0.85", "1.00", "1.15", "0.80", "0.95", "1.10", "0.90", "0.75", "1.05", "1.00", "0.95"
            ),
            fixed_costs=Money.of("120000.00"),
            variable_cost_share=Decimal("0.60"),
            tax_declared_share=Decimal("0.88"),
            history_months=5,
        ),
    ),
}

_DERIVED_HOMES = (Home.OWNER, Home.RENT, Home.PARENTS, Home.PRIV, Home.OTHER)
_DERIVED_JOBS = (JobType.FREELANCE, JobType.PARTIME, JobType.OTHERS)
_SHAPE_PLACES = Decimal("0.01")
_SHARE_PLACES = Decimal("0.0001")


def _lerp(low: Decimal, high: Decimal, t: Decimal) -> Decimal:
    return CONTEXT.add(low, CONTEXT.multiply(CONTEXT.subtract(high, low), t))


def _lerp_money(low: Money, high: Money, t: Decimal) -> Money:
    return Money.from_decimal(_lerp(low.to_decimal(), high.to_decimal(), t), Rounding.HALF_UP)


def derived_profile(id_number: str) -> SandboxProfile:
    """A profile between weak and strong, fixed by the SHA-256 of the ID number (byte 0: how strong)."""
    digest = hashlib.sha256(id_number.encode()).digest()
    t = CONTEXT.divide(Decimal(digest[0]), Decimal(255))
    weak, strong = PROFILES[WEAK], PROFILES[STRONG]
    swing = _lerp(Decimal("0.50"), Decimal("0.04"), t)
    trend = _lerp(Decimal("-0.03"), Decimal("0.01"), t)
    shape = []
    for month in range(12):
        wobble = CONTEXT.subtract(CONTEXT.divide(Decimal(digest[1 + month] * 2), Decimal(255)), Decimal(1))
        level = CONTEXT.add(Decimal(1), CONTEXT.multiply(trend, Decimal(month) - Decimal("5.5")))
        value = CONTEXT.multiply(level, CONTEXT.add(Decimal(1), CONTEXT.multiply(swing, wobble)))
        shape.append(max(value, Decimal(0)).quantize(_SHAPE_PLACES, rounding=Rounding.HALF_UP.value))
    bureau = BureauFigures(
        seniority_years=int(CONTEXT.multiply(t, Decimal(15))),
        home=_DERIVED_HOMES[digest[13] % len(_DERIVED_HOMES)],
        marital=list(Marital)[digest[14] % len(Marital)],
        derogatory_records=t < Decimal("0.2"),
        job=JobType.FIXED if t >= Decimal("0.5") else _DERIVED_JOBS[digest[15] % len(_DERIVED_JOBS)],
        monthly_expenses=_lerp_money(weak.bureau.monthly_expenses, strong.bureau.monthly_expenses, t),
        monthly_income=_lerp_money(weak.bureau.monthly_income, strong.bureau.monthly_income, t),
        assets=_lerp_money(weak.bureau.assets, strong.bureau.assets, t),
        debt=_lerp_money(weak.bureau.debt, strong.bureau.debt, t),
    )
    cash_flow = CashFlow(
        average_revenue=_lerp_money(weak.cash_flow.average_revenue, strong.cash_flow.average_revenue, t),
        revenue_shape=tuple(shape),
        fixed_costs=_lerp_money(weak.cash_flow.fixed_costs, strong.cash_flow.fixed_costs, t),
        variable_cost_share=_lerp(weak.cash_flow.variable_cost_share, strong.cash_flow.variable_cost_share, t).quantize(
            _SHARE_PLACES, rounding=Rounding.HALF_UP.value
        ),
        tax_declared_share=_lerp(weak.cash_flow.tax_declared_share, strong.cash_flow.tax_declared_share, t).quantize(
            _SHARE_PLACES, rounding=Rounding.HALF_UP.value
        ),
    )
    return SandboxProfile(DERIVED, bureau, cash_flow)


def profile_for(phone: str, id_number: str) -> SandboxProfile:
    """The applicant's profile: named by the phone's last four digits, else derived from the ID number."""
    named = PHONE_SUFFIX_PROFILES.get(phone[-4:])
    return PROFILES[named] if named is not None else derived_profile(id_number)


def credit_report_fields(profile: SandboxProfile, defaults: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """The bureau figures in their wire form (with the defaults at other lenders reported, if any)."""
    figures = profile.bureau
    return {
        "defaults": defaults or [],
        "seniority_years": figures.seniority_years,
        "home": figures.home.value,
        "marital": figures.marital.value,
        "derogatory_records": figures.derogatory_records,
        "job": figures.job.value,
        "monthly_expenses": str(figures.monthly_expenses),
        "monthly_income": str(figures.monthly_income),
        "assets": str(figures.assets),
        "debt": str(figures.debt),
    }


# ----------------------------------------------------------------------------------------------- bank and tax data


def window(today: date, months: int) -> list[date]:
    """First days of the last ``months`` whole calendar months before ``today``'s month, oldest first."""
    latest = add_months(today.replace(day=1), -1)
    return [add_months(latest, offset) for offset in range(1 - months, 1)]


def _month_end(month: date) -> date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def operating_inflow(cash_flow: CashFlow, months: list[date], index: int) -> Money:
    """Operating inflow of ``months[index]``: the shape is aligned so its last value falls on the latest month."""
    shape = cash_flow.revenue_shape
    factor = shape[(len(shape) - len(months) + index) % len(shape)]
    return cash_flow.average_revenue.times(factor, Rounding.HALF_UP)


def _digest(*parts: object) -> bytes:
    return hashlib.sha256("|".join(str(part) for part in parts).encode()).digest()


def _receipts(inflow: Money, month: date, seed: str) -> list[tuple[date, Money]]:
    """The month's inflow as 3 to 6 customer receipts on fixed days (amounts and days depend on ``seed``)."""
    digest = _digest(seed, month.isoformat(), "receipts")
    count = 3 + digest[0] % 4
    weights = [1 + digest[1 + part] % 5 for part in range(count)]
    last_day = _month_end(month).day
    days = sorted(1 + digest[10 + part] % last_day for part in range(count))
    amounts = [Money(inflow.fen * weight // sum(weights)) for weight in weights]
    amounts[-1] = amounts[-1] + Money(inflow.fen - sum(amount.fen for amount in amounts))
    return [(month.replace(day=day), amount) for day, amount in zip(days, amounts, strict=True) if amount]


def second_month(paid_on: date | None) -> date | None:
    """The first day of the loan's second month (the payout's month is its first); None: never paid."""
    return None if paid_on is None else add_months(paid_on.replace(day=1), 1)


def inflows_fall_from(account: str, paid_on: date | None) -> date | None:
    """The month from which the account's inflows fall (the ``5555`` trigger), or None."""
    return second_month(paid_on) if account.endswith(CASH_FLOW_DROP_ACCOUNT_SUFFIX) else None


def statement(
    profile: SandboxProfile, seed: str, today: date, months: int, *, falls_from: date | None = None
) -> dict[str, Any]:
    """The wire form of a bank statement over the last ``months`` whole months (no more than the account's history);
    from ``falls_from`` on, operating inflows are CASH_FLOW_FALL lower."""
    cash_flow = profile.cash_flow
    if cash_flow.history_months is not None:
        months = min(months, cash_flow.history_months)
    covered = window(today, months)
    rent = cash_flow.fixed_costs.times(Decimal("0.4"), Rounding.HALF_UP)
    payroll = cash_flow.fixed_costs - rent
    lines: list[tuple[date, Money, str]] = []
    kept = CONTEXT.subtract(Decimal(1), CASH_FLOW_FALL)
    for index, month in enumerate(covered):
        inflow = operating_inflow(cash_flow, covered, index)
        if falls_from is not None and month >= falls_from:
            inflow = inflow.times(kept, Rounding.HALF_UP)
        lines.extend((on, amount, "sales") for on, amount in _receipts(inflow, month, seed))
        suppliers = inflow.times(cash_flow.variable_cost_share, Rounding.HALF_UP)
        first, second = suppliers.split(2)
        lines.extend(
            [
                (month.replace(day=5), -rent, "rent"),
                (month.replace(day=10), -first, "supplier_payment"),
                (month.replace(day=20), -second, "supplier_payment"),
                (month.replace(day=25), -payroll, "payroll"),
            ]
        )
        if cash_flow.loan_proceeds and index == len(covered) // 2:
            lines.append((month.replace(day=15), cash_flow.loan_proceeds, "loan_proceeds"))
    lines = [line for line in lines if line[1]]
    lines.sort(key=lambda line: (line[0], -line[1].fen, line[2]))
    return {
        "period_start": covered[0].isoformat(),
        "period_end": _month_end(covered[-1]).isoformat(),
        "currency": "CNY",
        "transactions": [
            {"on": on.isoformat(), "amount": str(amount), "category": category} for on, amount, category in lines
        ],
    }


def tax_filings(profile: SandboxProfile, today: date, months: int = 12) -> list[dict[str, str]]:
    """Monthly filings over the same window as the statement, declaring the profile's share of banked revenue."""
    cash_flow = profile.cash_flow
    covered = window(today, months)
    return [
        {
            "period_start": month.isoformat(),
            "period_end": _month_end(month).isoformat(),
            "declared_revenue": str(
                operating_inflow(cash_flow, covered, index).times(cash_flow.tax_declared_share, Rounding.HALF_UP)
            ),
        }
        for index, month in enumerate(covered)
    ]


# ----------------------------------------------------------------------------------- bureau defaults, electricity


def bureau_defaults(phone: str, paid_on: date | None, today: date) -> list[dict[str, str]]:
    """The defaults at other lenders the bureau reports (the ``0005`` trigger: one, from 30 days after payout)."""
    if not phone.endswith(NEW_DEFAULT_PHONE_SUFFIX) or paid_on is None:
        return []
    reported_on = paid_on + timedelta(days=NEW_DEFAULT_AFTER_DAYS)
    if today < reported_on:
        return []
    return [{"reported_on": reported_on.isoformat(), "amount": str(NEW_DEFAULT_AMOUNT)}]


#: kWh a month per CNY of average monthly revenue: a business's use scales with its trade.
_KWH_PER_CNY = Decimal("0.025")


def electricity_readings(
    profile: SandboxProfile, seed: str, business_name: str, today: date, months: int, paid_on: date | None
) -> list[dict[str, str]]:
    """Monthly use of the premises over the last ``months`` whole months: steady within 5% of a level set by the
    business's revenue; a business named with a POWER_NAME_MARKERS word uses ELECTRICITY_FALL less from the second
    month after payout."""
    level = CONTEXT.multiply(profile.cash_flow.average_revenue.to_decimal(), _KWH_PER_CNY)
    falls_from = second_month(paid_on) if any(m in business_name.upper() for m in POWER_NAME_MARKERS) else None
    kept = CONTEXT.subtract(Decimal(1), ELECTRICITY_FALL)
    readings = []
    for month in window(today, months):
        wobble = CONTEXT.divide(Decimal(_digest(seed, month.isoformat(), "kwh")[0] % 11 - 5), Decimal(100))
        kwh = CONTEXT.multiply(level, CONTEXT.add(Decimal(1), wobble))
        if falls_from is not None and month >= falls_from:
            kwh = CONTEXT.multiply(kwh, kept)
        readings.append(
            {"month": month.isoformat(), "kwh": str(kwh.quantize(Decimal("0.1"), rounding=Rounding.HALF_UP.value))}
        )
    return readings
