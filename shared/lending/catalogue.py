"""The product catalogue: products, fees, industries, risk grades and the rate cap, as validated data.

The catalogue is a versioned JSON file shipped in the layer (``lending/data/catalogue.json``). Changing a product
is a change to that file, reviewed like code, never a code change. Limits that the law or the product brief set
(500,000.00 per loan, 36 months) are enforced here, so a catalogue that breaks them cannot even load.
"""

from __future__ import annotations

import json
from decimal import Decimal
from enum import StrEnum
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, ValidationError, model_validator

from lending.errors import CatalogueError
from lending.money import Money, Rounding
from lending.rates import format_rate

MAX_AMOUNT = Money.of("500000.00")
MAX_TERM_MONTHS = 36

#: A rate in the catalogue: an exact decimal, written back as a four-place string.
Rate = Annotated[Decimal, Field(ge=0, le=1, allow_inf_nan=False), PlainSerializer(format_rate, return_type=str)]
SignedRate = Annotated[Decimal, Field(ge=-1, le=1, allow_inf_nan=False), PlainSerializer(format_rate, return_type=str)]


class Method(StrEnum):
    """Amortisation methods of instalment products."""

    EQUAL_INSTALMENT = "equal_instalment"
    EQUAL_PRINCIPAL = "equal_principal"
    INTEREST_ONLY_GRACE = "interest_only_grace"


class InterestMethod(StrEnum):
    """How an instalment product charges interest for a period."""

    MONTHLY = "monthly"  # balance × annual / 12 per regular period (a broken first period by the day)
    DAILY = "daily"  # balance × annual / basis × the period's days, every period (按日计息)


class Component(StrEnum):
    """What a repayment can pay, in the words of the waterfall (the default order: penalty and fees first)."""

    OVERDUE_PENALTY = "overdue_penalty"
    OVERDUE_FEE = "overdue_fee"
    OVERDUE_INTEREST = "overdue_interest"
    OVERDUE_PRINCIPAL = "overdue_principal"
    CURRENT_FEE = "current_fee"
    CURRENT_INTEREST = "current_interest"
    CURRENT_PRINCIPAL = "current_principal"


DEFAULT_WATERFALL: tuple[Component, ...] = tuple(Component)


class EarlyRepayment(StrEnum):
    """What a prepayment of principal does to the rest of the schedule."""

    SHORTEN_TERM = "shorten_term"
    REDUCE_INSTALMENT = "reduce_instalment"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Fee(_Strict):
    """A fee: ``upfront`` is deducted from the payout once; ``per_instalment`` is added to every instalment."""

    code: str
    name: str
    charge: Literal["upfront", "per_instalment"]
    rate: Rate | None = None  # share of the principal
    amount: Money | None = None  # fixed amount

    @model_validator(mode="after")
    def _exactly_one_basis(self) -> Self:
        if (self.rate is None) == (self.amount is None):
            raise ValueError(f"fee {self.code}: give exactly one of rate or amount")
        if self.amount is not None and self.amount.is_negative:
            raise ValueError(f"fee {self.code}: amount must not be negative")
        return self

    def on(self, principal: Money) -> Money:
        """The fee on a principal; a share of it is rounded half up to the fen."""
        if self.amount is not None:
            return self.amount
        assert self.rate is not None
        return principal.times(self.rate, Rounding.HALF_UP)


class Industry(_Strict):
    name: str
    rate_adjustment: SignedRate


class RiskGrade(_Strict):
    base_rate: Rate
    description: str


class Startup(_Strict):
    """The start-up plan's terms: for businesses younger than ``max_business_age_months``."""

    max_business_age_months: int = Field(ge=1, le=24)
    grace_months: int = Field(ge=1, le=12)
    rate_discount: Rate


class AgeRange(_Strict):
    min: int = Field(ge=18)
    max: int = Field(le=100)


class Product(_Strict):
    """One product: its limits, methods, fees, day count, penalty and repayment rules."""

    code: str
    name: str
    kind: Literal["instalment", "revolving"]
    borrower: Literal["business", "consumer"]
    min_amount: Money
    max_amount: Money
    min_term_months: int = Field(ge=1)
    max_term_months: int = Field(ge=1)
    methods: tuple[Method, ...] = ()
    fees: tuple[Fee, ...] = ()
    day_count_basis: Literal[360, 365] = 360
    interest_method: InterestMethod = InterestMethod.MONTHLY
    penalty_rate_multiplier: Decimal = Field(ge=1, le=2, description="penalty rate = annual rate × this, capped")
    industry_pricing: bool
    waterfall: tuple[Component, ...] = DEFAULT_WATERFALL
    early_repayment: EarlyRepayment = EarlyRepayment.SHORTEN_TERM
    applicant_age: AgeRange
    min_dscr: Decimal = Field(ge=0, description="debt-service coverage floor of the business assessment")
    startup: Startup | None = None
    freeze_drawdowns_when_past_due: bool = False
    capitalise_holiday_interest: bool = Field(
        default=False, description="a payment holiday's interest is added to principal (compounds) instead of spread"
    )
    collection_retry_days: tuple[int, ...] = Field(
        default=(1, 3, 7), description="days after a due date on which a failed auto-debit is tried again"
    )
    write_off_days_past_due: int | None = Field(
        default=180, ge=1, description="days past due at which the daily close writes the balance off (None: never)"
    )

    @model_validator(mode="after")
    def _within_the_brief(self) -> Self:
        if not (Money.ZERO < self.min_amount <= self.max_amount <= MAX_AMOUNT):
            raise ValueError(f"{self.code}: need 0 < min_amount <= max_amount <= {MAX_AMOUNT}")
        if not self.min_term_months <= self.max_term_months <= MAX_TERM_MONTHS:
            raise ValueError(f"{self.code}: need min_term_months <= max_term_months <= {MAX_TERM_MONTHS}")
        if sorted(self.waterfall) != sorted(Component):
            raise ValueError(f"{self.code}: the waterfall must name every component exactly once")
        if self.kind == "instalment" and not self.methods:
            raise ValueError(f"{self.code}: an instalment product needs at least one method")
        if self.kind == "revolving" and self.methods:
            raise ValueError(f"{self.code}: a revolving line has no amortisation method")
        grace = Method.INTEREST_ONLY_GRACE in self.methods
        if grace != (self.startup is not None):
            raise ValueError(f"{self.code}: interest-only grace belongs to the start-up plan, and only to it")
        if self.startup is not None and self.startup.grace_months >= self.min_term_months:
            raise ValueError(f"{self.code}: the grace period must be shorter than the shortest term")
        retry = list(self.collection_retry_days)
        if any(day < 1 or day > 30 for day in retry) or retry != sorted(set(retry)):
            raise ValueError(f"{self.code}: collection retry days are strictly increasing, from 1 to 30")
        return self


class RateCap(_Strict):
    """The legal ceiling on the annual rate and APR: a fixed rate, or a multiple of the loan prime rate."""

    mode: Literal["fixed", "lpr_multiple"]
    annual: Rate | None = None
    lpr: Rate | None = None
    multiple: Decimal | None = Field(default=None, gt=0, le=10)

    @model_validator(mode="after")
    def _complete(self) -> Self:
        if self.mode == "fixed" and (self.annual is None or self.lpr is not None or self.multiple is not None):
            raise ValueError("a fixed cap gives annual only")
        if self.mode == "lpr_multiple" and (self.lpr is None or self.multiple is None or self.annual is not None):
            raise ValueError("an LPR cap gives lpr and multiple only")
        return self

    @property
    def annual_rate(self) -> Decimal:
        """The cap as an annual rate."""
        if self.mode == "fixed":
            assert self.annual is not None
            return self.annual
        assert self.lpr is not None
        assert self.multiple is not None
        return self.lpr * self.multiple


class DelinquencyBucket(_Strict):
    code: str
    min_days: int = Field(ge=1)
    max_days: int | None = None


class LoanClass(StrEnum):
    """The five regulatory loan grades (China's five-category classification), best first."""

    NORMAL = "normal"
    SPECIAL_MENTION = "special_mention"
    SUBSTANDARD = "substandard"
    DOUBTFUL = "doubtful"
    LOSS = "loss"

    @property
    def rank(self) -> int:
        """0 for normal up to 4 for loss (higher is worse)."""
        return list(LoanClass).index(self)

    @property
    def non_performing(self) -> bool:
        return self.rank >= LoanClass.SUBSTANDARD.rank


class Classification(_Strict):
    """How loans are graded and provisioned: days past due beyond which a grade is the least a loan can have,
    the floor of a restructured loan and its observation period, and a provision rate per grade."""

    substandard_after_days: int = Field(default=90, ge=1)
    doubtful_after_days: int = Field(default=270, ge=1)
    loss_after_days: int = Field(default=360, ge=1)
    observation_periods: int = Field(default=2, ge=0, description="repayment periods a restructured loan is watched")
    observation_months: int = Field(default=12, ge=0, description="the least observation period, in months")
    provision_rates: dict[LoanClass, Decimal] = Field(
        default_factory=lambda: {
            LoanClass.NORMAL: Decimal("0.01"),
            LoanClass.SPECIAL_MENTION: Decimal("0.02"),
            LoanClass.SUBSTANDARD: Decimal("0.25"),
            LoanClass.DOUBTFUL: Decimal("0.50"),
            LoanClass.LOSS: Decimal("1.00"),
        }
    )

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if not self.substandard_after_days < self.doubtful_after_days < self.loss_after_days:
            raise ValueError("classification: substandard < doubtful < loss days past due")
        if sorted(self.provision_rates) != sorted(LoanClass):
            raise ValueError("classification: a provision rate for every grade")
        rates = [self.provision_rates[grade] for grade in LoanClass]
        if any(not Decimal(0) <= rate <= 1 for rate in rates) or rates != sorted(rates):
            raise ValueError("classification: provision rates between 0 and 1, never lower for a worse grade")
        return self


class Catalogue(_Strict):
    """The whole catalogue, validated at load."""

    version: str
    currency: Literal["CNY"]
    rate_cap: RateCap
    risk_grades: dict[str, RiskGrade]
    industries: dict[str, Industry]
    products: dict[str, Product]
    delinquency_buckets: tuple[DelinquencyBucket, ...]
    overdue_reminder_days: tuple[int, ...] = Field(
        default=(1, 7, 30, 60, 90), description="days past due on which the borrower is reminded, once each"
    )
    classification: Classification = Field(default_factory=Classification)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        for code, product in self.products.items():
            if product.code != code:
                raise ValueError(f"product {code} says its code is {product.code}")
        if not self.risk_grades:
            raise ValueError("at least one risk grade is needed")
        for grade, spec in self.risk_grades.items():
            if spec.base_rate > self.rate_cap.annual_rate:
                raise ValueError(f"grade {grade}'s base rate is above the rate cap")
        expected_start = 1
        for bucket in self.delinquency_buckets:
            if bucket.min_days != expected_start:
                raise ValueError("delinquency buckets must be contiguous from day 1")
            if bucket.max_days is None:
                break
            expected_start = bucket.max_days + 1
        else:
            raise ValueError("the last delinquency bucket must be open-ended")
        return self

    def product(self, code: str) -> Product:
        """The product with this code, or a CatalogueError naming the known ones."""
        try:
            return self.products[code]
        except KeyError:
            raise CatalogueError(f"unknown product {code!r}; known: {', '.join(sorted(self.products))}") from None

    def industry(self, code: str) -> Industry:
        """The industry with this code, or a CatalogueError."""
        try:
            return self.industries[code]
        except KeyError:
            raise CatalogueError(f"unknown industry {code!r}; known: {', '.join(sorted(self.industries))}") from None

    def risk_grade(self, code: str) -> RiskGrade:
        """The risk grade with this code, or a CatalogueError."""
        try:
            return self.risk_grades[code]
        except KeyError:
            raise CatalogueError(f"unknown risk grade {code!r}; known: {', '.join(sorted(self.risk_grades))}") from None

    def bucket_for(self, days_past_due: int) -> str | None:
        """The delinquency bucket of a number of days past due (None when current)."""
        for bucket in self.delinquency_buckets:
            if days_past_due >= bucket.min_days and (bucket.max_days is None or days_past_due <= bucket.max_days):
                return bucket.code
        return None


def parse_catalogue(raw: str | bytes) -> Catalogue:
    """Validate a catalogue document; any problem is one CatalogueError that names the fields."""
    try:
        return Catalogue.model_validate(json.loads(raw))
    except (ValidationError, json.JSONDecodeError) as exc:
        raise CatalogueError(f"invalid product catalogue: {exc}") from None


@cache
def load_catalogue(path: str | None = None) -> Catalogue:
    """The catalogue shipped in the layer, or one at ``path``; parsed once per process."""
    if path is not None:
        return parse_catalogue(Path(path).read_bytes())
    return parse_catalogue(resources.files("lending").joinpath("data/catalogue.json").read_bytes())
