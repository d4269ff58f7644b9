"""Request and response bodies of the HTTP contract, as pydantic models (the OpenAPI document comes from them)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    JsonValue,
    StrictBool,
    StrictInt,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from lending.applicant import Applicant, Consent, exact
from lending.catalogue import Method, load_catalogue
from lending.money import Money
from lending.pricing import check_product_rules
from lending.servicing import EventKind, ServicingEvent

RateString = Annotated[str, Field(pattern=r"^[0-9]\.[0-9]{4}$", examples=["0.1250"])]
MoneyString = Annotated[str, Field(pattern=r"^-?[0-9]+\.[0-9]{2}$", examples=["120000.00"])]

#: The contract's amount: a JSON string of ASCII digits with at most two places; no sign, exponent or space.
AMOUNT_TEXT = r"^[0-9]{1,13}(\.[0-9]{1,2})?$"
#: An amount text that is zero (``"0"``, ``"0.00"``, ``"000.0"``): refused, as every amount a client sends is > 0.
ZERO_TEXT = r"^[0.]+$"
#: The contract's dates and times as they arrive: a JSON string, never a number (pydantic's lax mode takes epochs).
DATE_TEXT = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
MOMENT_TEXT = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?([Zz]|[+-][0-9]{2}:[0-9]{2})$"


def _text(pattern: str, what: str, example: str) -> BeforeValidator:
    """Refuse anything but a JSON string of the contract's form, before pydantic's lax parsing sees it."""
    compiled = re.compile(pattern)

    def check(value: object) -> object:
        if not isinstance(value, str) or compiled.fullmatch(value) is None:
            raise ValueError(f"{what} must be a JSON string like {example}")
        return value

    return BeforeValidator(check)


def _known_product(value: str) -> str:
    known = load_catalogue().products
    if value not in known:
        raise ValueError(f"unknown product; known: {', '.join(sorted(known))}")
    return value


#: A product code: the catalogue says which exist (and the document lists them); taken exactly as sent.
ProductCode = Annotated[
    str,
    StringConstraints(strip_whitespace=False),
    AfterValidator(_known_product),
    Field(json_schema_extra=lambda schema: schema.update(enum=list[JsonValue](sorted(load_catalogue().products)))),
]


def _positive(value: Money) -> Money:
    if not value.is_positive:
        raise ValueError("an amount must be more than zero")
    return value


#: An amount a client sends: strict text in, Money out.
Amount = Annotated[
    Money,
    _text(AMOUNT_TEXT, "an amount", '"120000.00"'),
    AfterValidator(_positive),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": AMOUNT_TEXT,
            "not": {"pattern": ZERO_TEXT},  # more than zero
            "examples": ["120000.00"],
            "description": "CNY as a decimal string, more than zero, at most two places",
        }
    ),
]
DateText = Annotated[date, _text(DATE_TEXT, "a date", '"2026-03-01"')]
#: Money events and the platform are younger than this; an older moment is a sender's error (and year 1 with an
#: offset east of UTC is not even a date in China's calendar: converting it overflowed into a 500).
EARLIEST_MOMENT = datetime(2000, 1, 1, tzinfo=UTC)


def _not_before_2000(value: datetime) -> datetime:
    if value.tzinfo is not None and value < EARLIEST_MOMENT:
        raise ValueError("a time must be from 2000-01-01T00:00:00Z on")
    return value


MomentText = Annotated[
    datetime,
    _text(MOMENT_TEXT, "a time", '"2026-03-01T02:00:00Z"'),
    AfterValidator(_not_before_2000),
    Field(description="RFC 3339 with a timezone, from 2000-01-01T00:00:00Z on"),
]


class _Body(BaseModel):
    # hide_input_in_errors: a validation error must never echo personal data (an ID number, a phone) into logs.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, hide_input_in_errors=True)


class Business(_Body):
    name: str = Field(min_length=1, max_length=200)
    industry: str = Field(
        description="an industry code from the product catalogue",
        json_schema_extra=lambda schema: schema.update(enum=list[JsonValue](sorted(load_catalogue().industries))),
    )
    registered_on: DateText

    @field_validator("industry")
    @classmethod
    def _known_industry(cls, value: str) -> str:
        known = load_catalogue().industries
        if value not in known:
            raise ValueError(f"unknown industry; known: {', '.join(sorted(known))}")
        return value


class ApplicationRequest(_Body):
    """``POST /v1/applications``."""

    product: ProductCode
    amount: Amount
    term_months: StrictInt = Field(ge=1, le=36)
    purpose: str = Field(min_length=1, max_length=200)
    method: Method | None = Field(default=None, description="amortisation method; the product's first by default")
    applicant: Applicant
    business: Business
    consent: Consent
    human_review: StrictBool = Field(default=False, description="ask for a person to decide (PIPL art. 24)")

    @model_validator(mode="after")
    def _within_the_product(self) -> Self:
        product = load_catalogue().product(self.product)
        check_product_rules(product, self.amount, self.term_months, self.method)
        return self

    def fingerprint(self) -> dict[str, Any]:
        """The body as JSON values: what a repeated Idempotency-Key must match."""
        return self.model_dump(mode="json")


class ApplicationAccepted(BaseModel):
    application_id: str
    status: str


class ReasonView(BaseModel):
    code: str
    message: str


class DecisionView(BaseModel):
    outcome: str
    risk_grade: str | None = None
    score: int | None = None
    reasons: list[ReasonView] = []


class OfferView(BaseModel):
    product: str
    limit: MoneyString
    annual_rate: RateString
    apr: RateString
    term_months: int
    expires_at: str | None = Field(default=None, description="the offer's acceptance deadline, once it is open")


class ApplicationView(BaseModel):
    """``GET /v1/applications/{application_id}``: parts not yet known are null."""

    application_id: str
    status: str
    decision: DecisionView | None = None
    offer: OfferView | None = None
    accepted: AcceptanceView | None = None
    loan_id: str | None = None


class ReviewItem(BaseModel):
    application_id: str
    referred_at: str
    product: str
    amount: MoneyString
    score: int | None = None
    risk_grade: str | None = None
    reasons: list[ReasonView] = []
    findings: list[dict[str, str]] = []


class ReviewList(BaseModel):
    reviews: list[ReviewItem]


class ReviewDecision(_Body):
    """``POST /v1/reviews/{application_id}``."""

    decision: Literal["approve", "decline"]
    note: str = Field(default="", max_length=2000)


class ScheduleRowView(BaseModel):
    """One instalment of the current schedule (re-planned after any prepayment) and what is paid of it."""

    due_date: date
    principal: MoneyString
    interest: MoneyString
    fee: MoneyString = "0.00"
    paid: bool = Field(description="nothing left to pay on this row")
    principal_paid: MoneyString = "0.00"
    interest_paid: MoneyString = "0.00"
    fee_paid: MoneyString = "0.00"


class LoanView(BaseModel):
    """``GET /v1/loans/{loan_id}``: balances as of today (interest a line accrued up to today included)."""

    loan_id: str
    product: str
    status: str
    as_of: date
    principal_outstanding: MoneyString
    interest_accrued: MoneyString
    penalty_accrued: MoneyString
    credit_balance: MoneyString
    available_limit: MoneyString | None = None
    frozen: bool = False
    days_past_due: int
    delinquency_bucket: str | None = None
    next_due_date: date | None = None
    payoff_amount: MoneyString | None = Field(
        default=None, description="what repays everything today: principal, interest earned to today, fees, penalty"
    )
    schedule: list[ScheduleRowView]


class PayoffView(BaseModel):
    """``GET /v1/loans/{loan_id}/payoff?date=``: what repays everything on that date."""

    loan_id: str
    date: date
    amount: MoneyString = Field(description="principal + interest and fees + penalty owed on that date")
    principal: MoneyString
    interest_and_fees: MoneyString
    penalty: MoneyString
    credit_balance: MoneyString = Field(description="held for the borrower; not used against the payoff")


# ---- the borrower's lists (GET /v1/applications, /v1/loans, a loan's transactions and a line's statements)


class ApplicationSummary(BaseModel):
    """One of the borrower's applications, as the list shows it."""

    application_id: str
    status: str
    product: str
    amount: MoneyString = Field(description="what was asked for")
    created_at: str
    loan_id: str | None = None
    offer: OfferView | None = None


class ApplicationList(BaseModel):
    """``GET /v1/applications``: the borrower's applications, newest first."""

    items: list[ApplicationSummary]
    next: str | None = Field(description="the cursor of the next page; null on the last")


class LoanSummary(BaseModel):
    """One of the borrower's loans or lines with its balances as of today (GET /v1/loans/{id} without the
    schedule)."""

    loan_id: str
    product: str
    status: str
    opened_at: str
    as_of: date
    principal_outstanding: MoneyString
    interest_accrued: MoneyString
    penalty_accrued: MoneyString
    credit_balance: MoneyString
    available_limit: MoneyString | None = Field(default=None, description="a line only")
    frozen: bool = False
    days_past_due: int
    delinquency_bucket: str | None = None
    next_due_date: date | None = None
    next_due_amount: MoneyString | None = Field(
        default=None, description="unpaid of what falls due on next_due_date; null for a line's statement not yet made"
    )
    payoff_amount: MoneyString = Field(description="what repays everything today")


class LoanList(BaseModel):
    """``GET /v1/loans``: the borrower's loans and lines, newest first."""

    items: list[LoanSummary]
    next: str | None = Field(description="the cursor of the next page; null on the last")


class RepaymentSplitView(BaseModel):
    """Where a repayment went, in the order the waterfall takes them."""

    penalty: MoneyString
    fees: MoneyString
    interest: MoneyString
    principal: MoneyString
    credit: MoneyString = Field(description="beyond everything owed: held for the borrower")


class BalancesAfterView(BaseModel):
    """The loan's balances just after a movement."""

    principal_outstanding: MoneyString
    interest_accrued: MoneyString = Field(description="interest owed (fallen due, or a line's accrued)")
    fees_accrued: MoneyString
    penalty_accrued: MoneyString
    credit_balance: MoneyString


class TransactionView(BaseModel):
    """One money movement on a loan."""

    id: str = Field(description="the ledger transaction's id where the ledger books it as one")
    kind: Literal[
        "disbursement",
        "drawdown",
        "repayment",
        "interest",
        "penalty",
        "fee",
        "reversal",
        "write_off",
        "recovery",
        "refund",
    ]
    effective_on: date
    amount: MoneyString
    split: RepaymentSplitView | None = Field(default=None, description="a repayment's waterfall; null otherwise")
    balances_after: BalancesAfterView


class TransactionList(BaseModel):
    """``GET /v1/loans/{loan_id}/transactions``: every movement, oldest first."""

    items: list[TransactionView]
    next: str | None = Field(description="the cursor of the next page; null on the last")


class StatementView(BaseModel):
    """One monthly statement of a line."""

    number: int
    period_start: date
    period_end: date = Field(description="the statement date")
    opening_balance: MoneyString = Field(description="owed (principal, interest, penalty) as the period opened")
    drawn: MoneyString
    repaid: MoneyString = Field(description="repayments in the period, less any part that went to credit")
    interest: MoneyString
    penalty: MoneyString
    closing_balance: MoneyString = Field(description="owed on the statement date")
    minimum_due: MoneyString = Field(description="what the statement made due: interest, and principal at maturity")
    due_date: date
    unpaid: MoneyString = Field(description="of the minimum due, what is unpaid today")
    paid: bool


class StatementList(BaseModel):
    """``GET /v1/loans/{loan_id}/statements``: a line's statements, newest first."""

    items: list[StatementView]
    next: str | None = Field(description="the cursor of the next page; null on the last")


# ---- end of the borrower's lists


class PaymentNotice(_Body):
    """``POST /v1/webhooks/payments`` from the payment provider."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, hide_input_in_errors=True)

    event_id: Annotated[str, exact(r"^[A-Za-z0-9_.:-]{1,128}$")]
    loan_id: str = Field(min_length=1, max_length=64)
    amount: Amount
    paid_at: MomentText
    kind: Literal["repayment"]
    repayment_id: str | None = Field(
        default=None, min_length=1, max_length=64, description="the collection the platform asked for, if it did"
    )
    status: Literal["succeeded", "failed"] | None = Field(
        default=None,
        validate_default=True,
        description="a collection's outcome (a pushed payment may say succeeded, or nothing)",
    )
    failure_reason: str | None = Field(default=None, max_length=200, description="why a collection failed")

    @field_validator("status")
    @classmethod
    def _collection_outcome(cls, value: str | None, info: ValidationInfo) -> str | None:
        """A collection's notice says how it ended; a pushed payment is money received, so it cannot have failed."""
        asked = info.data.get("repayment_id") is not None
        if asked and value is None:
            raise ValueError("a collection's notice (repayment_id) gives its status: succeeded or failed")
        if not asked and value == "failed":
            raise ValueError("failed is a collection's outcome: give the repayment_id it is for")
        return value

    @field_validator("paid_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        # The provider's record of when the money arrived decides the business day it is applied on; one dated
        # after the platform's clock is refused by the handler (422 paid_at_in_future).
        if value.tzinfo is None:
            raise ValueError("paid_at needs a timezone (RFC 3339)")
        return value

    def event(self) -> ServicingEvent:
        return ServicingEvent(self.event_id, EventKind.REPAYMENT, self.paid_at, self.amount)


class PaymentReceipt(BaseModel):
    event_id: str
    loan_id: str
    status: Literal["applied", "duplicate", "parked", "failed"]
    loan_status: str | None = None
    reason: str | None = None


class DrawdownRequest(_Body):
    """``POST /v1/loans/{loan_id}/drawdowns``."""

    amount: Amount


class DrawdownView(BaseModel):
    drawdown_id: str
    loan_id: str
    amount: MoneyString
    status: Literal["requested", "funded", "paid", "booked", "failed"]
    reason: str | None = None


class AuditEventView(BaseModel):
    index: int
    kind: str
    occurred_at: str
    data: dict[str, Any]
    prev_hash: str
    hash: str


Sha256Hex = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256, lower-case hex")]


class ProofStepView(BaseModel):
    hash: Sha256Hex = Field(description="the sibling's hash")
    side: Literal["left", "right"] = Field(description="left: SHA-256(0x01 || sibling || running); right: the other")


class SealedHeadView(BaseModel):
    index: int = Field(description="the sealed head's index: the root covers events 0 to this one")
    hash: Sha256Hex


class AnchorView(BaseModel):
    """The latest sealed head of the chain and its inclusion proof in that day's Merkle root (RFC 6962 hashing:
    leaf SHA-256(0x00 || canonical JSON {chain, hash, index}), node SHA-256(0x01 || left || right))."""

    chain: str = Field(description="the chain's subject (the application id): part of the leaf and of every event")
    day: str = Field(description="the sealed business day; its seal is anchors/<day>.json in the anchor bucket")
    root: Sha256Hex
    sealed_at: str
    head: SealedHeadView
    leaf_index: int = Field(description="the leaf's position among the seal's leaves, sorted by chain id")
    tree_size: int
    proof: list[ProofStepView] = Field(description="the audit path, leaf first")


class AuditView(BaseModel):
    """``GET /v1/loans/{loan_id}/audit``."""

    loan_id: str
    events: list[AuditEventView]
    verified: bool
    first_broken_at: int | None
    anchor: AnchorView | None = Field(description="null until the chain's first daily seal")


class FieldProblem(BaseModel):
    field: str = Field(description="where in the request, dotted (empty: the body as a whole)")
    problem: str


class ErrorDetail(BaseModel):
    code: str = Field(description="machine-readable; never changes with the language")
    message: str = Field(description="for a person")
    fields: list[FieldProblem] | None = Field(default=None, description="on 422: each field refused, and why")


class ErrorBody(BaseModel):
    """Every answer that is not a success, whatever its status."""

    error: ErrorDetail


# Acceptance: the contract a borrower reads and the acceptance that signs it (lending.contract).


class ContractScheduleRow(BaseModel):
    number: int
    due_date: date
    principal: MoneyString
    interest: MoneyString
    fee: MoneyString
    total: MoneyString


class ContractView(BaseModel):
    """``GET /v1/applications/{application_id}/contract``: the contract to accept, its hash and its figures
    (APR and the total cost of credit first). ``document`` is the canonical document itself: its SHA-256 over
    sorted keys, no whitespace, UTF-8, is ``sha256``."""

    contract_id: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    language: Literal["zh-CN", "en"]
    apr: RateString
    total_cost_of_credit: MoneyString
    total_interest: MoneyString
    total_fees: MoneyString
    total_repayable: MoneyString
    text: str
    offer: OfferView
    amount: MoneyString
    term_months: int
    net_disbursement: MoneyString
    schedule: list[ContractScheduleRow]
    expires_at: str
    document: dict[str, JsonValue]


class AcceptanceRequest(_Body):
    """``POST /v1/applications/{application_id}/acceptance``: the hash of the contract accepted."""

    contract_sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class AcceptanceView(BaseModel):
    """The acceptance recorded: the workflow goes on to funding and disbursement (or opens the line)."""

    application_id: str
    contract_id: str
    contract_sha256: str
    accepted_at: str
    amount: MoneyString
    term_months: int
    apr: RateString
    total_cost_of_credit: MoneyString


# ---------------------------------------------------------------- collections (repay from the app, auto-debit)


class RepaymentRequest(_Body):
    """``POST /v1/loans/{loan_id}/repayments``: collect this much now from the borrower's bound account."""

    amount: Amount


class RepaymentAccepted(BaseModel):
    repayment_id: str
    status: Literal["PENDING", "SUCCEEDED", "FAILED"]


class RepaymentView(BaseModel):
    """One repayment of a loan, from any source."""

    repayment_id: str
    loan_id: str
    source: Literal["app", "auto_debit", "provider"]
    amount: MoneyString
    status: Literal["PENDING", "SUCCEEDED", "FAILED"]
    failure_reason: str | None = None
    requested_at: str = Field(description="when it was asked for (a pushed payment: when the money arrived)")
    settled_at: str | None = Field(default=None, description="when the provider's notice settled it")
    due_date: date | None = Field(default=None, description="the due date an auto-debit collects")
    attempt: int | None = Field(default=None, description="an auto-debit's attempt: 0 on the due date, then retries")


class RepaymentList(BaseModel):
    """``GET /v1/loans/{loan_id}/repayments``: newest first."""

    items: list[RepaymentView]
    next: str | None = Field(description="the cursor of the next page; null on the last")


# ---------------------------------------------------------------- hardship relief (lending.steps.hardship)


class HardshipRequestBody(_Body):
    """``POST /v1/loans/{loan_id}/hardship``: the relief asked for, and why (for the underwriter)."""

    kind: Literal["payment_holiday", "term_extension"]
    months: StrictInt = Field(ge=1, le=6)
    reason: str = Field(min_length=1, max_length=2000)


class HardshipAccepted(BaseModel):
    request_id: str
    status: Literal["UNDER_REVIEW", "APPROVED", "RESTRUCTURED", "DECLINED", "EXPIRED"]


class ReliefPlanSummary(BaseModel):
    """A restructured plan in brief: from ``on``, its instalments, the interest the relief adds, its APR."""

    on: date
    instalments: int
    first_due_date: date
    last_due_date: date
    largest_instalment: MoneyString
    principal: MoneyString
    holiday_interest: MoneyString
    total_interest: MoneyString
    total_repayable: MoneyString
    apr: RateString


class HardshipOfferView(BaseModel):
    contract_id: str
    contract_sha256: str
    apr: RateString
    expires_at: str
    plan: ReliefPlanSummary


class HardshipView(BaseModel):
    """``GET /v1/loans/{loan_id}/hardship/{request_id}``: the request's course."""

    request_id: str
    loan_id: str
    kind: Literal["payment_holiday", "term_extension"]
    months: int
    reason: str
    status: Literal["UNDER_REVIEW", "APPROVED", "RESTRUCTURED", "DECLINED", "EXPIRED"]
    requested_at: str
    proposal: ReliefPlanSummary = Field(description="the plan as it would have been on the day it was asked")
    decision: Literal["approve", "decline"] | None = None
    outcome_reason: str | None = Field(
        default=None,
        description="why it ended: underwriter_declined, apr_above_cap, loan_ended, review_deadline_passed, "
        "offer_expired, not_processed",
    )
    offer: HardshipOfferView | None = None
    accepted_at: str | None = None
    restructured_on: date | None = None


class HardshipContractView(BaseModel):
    """``GET /v1/loans/{loan_id}/hardship/{request_id}/contract``: the restructured plan as a contract (APR and the
    cost first); ``document`` is the canonical document whose SHA-256 is ``sha256``."""

    contract_id: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    language: Literal["zh-CN", "en"]
    apr: RateString
    total_cost_of_credit: MoneyString
    total_interest: MoneyString
    total_fees: MoneyString
    total_repayable: MoneyString
    holiday_interest: MoneyString
    text: str
    kind: Literal["payment_holiday", "term_extension"]
    months: int
    amount: MoneyString = Field(description="the principal outstanding the plan repays")
    schedule: list[ContractScheduleRow]
    expires_at: str
    document: dict[str, JsonValue]


class HardshipAcceptanceView(BaseModel):
    request_id: str
    contract_id: str
    contract_sha256: str
    accepted_at: str
    apr: RateString
    status: Literal["APPROVED", "RESTRUCTURED"]


class HardshipReviewItem(BaseModel):
    """One hardship request in the underwriters' queue."""

    request_id: str
    loan_id: str
    requested_at: str
    product: str
    kind: Literal["payment_holiday", "term_extension"]
    months: int
    reason: str
    days_past_due: int
    proposal: ReliefPlanSummary


class HardshipReviewList(BaseModel):
    """``GET /v1/reviews?kind=hardship``: hardship requests waiting for an underwriter, oldest first."""

    reviews: list[HardshipReviewItem]


class WarningView(BaseModel):
    """One early warning, as operations read it: the loan, what was seen (figures only), what was done."""

    warning_id: str
    loan_id: str
    kind: Literal["cash_flow_drop", "bureau_change", "electricity_drop", "delinquency_worsened"]
    raised_at: AwareDatetime
    as_of: date
    evidence: dict[str, str | int | bool | None] = Field(
        description="the figures behind it: before and after, the share fallen, or the bucket and days past due"
    )
    action: Literal["limit_cut", "freeze", "none"]

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> WarningView:
        """A kept warning (lending.adapters.warnings) as the API shows it (stored counts come back as Decimal)."""
        evidence = record.get("evidence") or {}
        return cls(
            warning_id=record["warning_id"],
            loan_id=record["loan_id"],
            kind=record["kind"],
            raised_at=record["raised_at"],
            as_of=record["as_of"],
            evidence={str(k): int(v) if isinstance(v, Decimal) else v for k, v in evidence.items()},
            action=record["action"],
        )


class WarningList(BaseModel):
    """``GET /v1/ops/warnings``: early warnings, newest first."""

    items: list[WarningView]
    next: str | None = Field(description="the cursor of the next page; null on the last")
