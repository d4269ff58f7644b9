"""Response bodies of the operations API (``GET /v1/ops/...``, group ``operations``), as pydantic models."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from lending.api.models import LoanView, MoneyString, RateString, WarningView

# ---- GET /v1/ops/funding


class FundingSourceView(BaseModel):
    """One funding source: its quota and what of it is lent, held and left; its part of the book."""

    source: str = Field(description="own_capital, or partner:<bank>")
    name: str
    kind: str = Field(description="own_capital or partner")
    co_lending_share: RateString | None = Field(
        description="a partner's share of each loan it takes part in (the rest is own capital); null for own capital"
    )
    quota: MoneyString
    posted: MoneyString = Field(description="lent: the funding posted when loans and drawdowns were booked")
    reserved: MoneyString = Field(description="held for loans and drawdowns on their way to being paid out")
    available: MoneyString = Field(description="quota - posted - reserved: what it may still fund")
    principal_outstanding: MoneyString | None = Field(
        description="its part of the book's principal outstanding as of book_as_of; null before the first report"
    )
    share_of_book: RateString | None = Field(description="principal_outstanding / the book's; null as above")


class FundingView(BaseModel):
    """``GET /v1/ops/funding``: every source's position now, and the co-lending shares of the book."""

    sources: list[FundingSourceView]
    book_as_of: date | None = Field(
        description="the close date of the nightly reconciliation the book's shares come from; null before the first"
    )
    principal_outstanding: MoneyString | None = Field(description="the book's principal outstanding then")


# ---- GET /v1/ops/reconciliation


class TrialBalanceCheck(BaseModel):
    balanced: bool = Field(description="the posted balances of every account sum to zero")
    total: MoneyString


class AccountsCheck(BaseModel):
    balanced: bool = Field(description="every stored balance equals the one rebuilt from the transactions")
    differing: list[str] = Field(description="the accounts whose stored balance differs")


class SourceCheck(BaseModel):
    """A funding source: what the ledger says it paid out against its shares of the loans."""

    source: str
    balanced: bool = Field(description="disbursed = outstanding + repaid + written off")
    disbursed: MoneyString
    outstanding: MoneyString
    repaid: MoneyString
    written_off: MoneyString
    difference: MoneyString = Field(description="disbursed - outstanding - repaid - written off")


class LoansCheck(BaseModel):
    balanced: bool = Field(description="every loan's ledger principal and funding agree with its own history")
    problems: list[str]
    problems_omitted: int = Field(default=0, description="problems beyond those kept (a report too large to keep)")


class BucketView(BaseModel):
    bucket: str
    loans: int
    principal_outstanding: MoneyString


class RollRateView(BaseModel):
    """Of the loans in ``from_bucket`` the day before, the share in ``to_bucket`` on the close date."""

    from_bucket: str
    to_bucket: str
    loans: int
    rate: RateString


class ReconciliationView(BaseModel):
    """``GET /v1/ops/reconciliation?date=``: the report kept for a business day."""

    close_date: date
    balanced: bool = Field(description="every check below passed")
    trial_balance: TrialBalanceCheck
    accounts: AccountsCheck
    sources: list[SourceCheck]
    loans: LoansCheck
    loss_allowance: str = Field(
        default="0.00",
        description="the allowance the loans' grades imply, which the ledger carries (each loan's is checked in loans)",
    )
    buckets: list[BucketView]
    roll_rates: list[RollRateView]


# ---- GET /v1/ops/loans/{loan_id}


class MaskedBorrowerView(BaseModel):
    """The borrower, their personal data masked (``138****0001``)."""

    borrower_id: str
    name: str = Field(examples=["李*"])
    id_number: str = Field(examples=["110***********0123"])
    phone: str = Field(examples=["138****0001"])
    bank_account: str = Field(examples=["6222****5678"])


class FundingShareView(BaseModel):
    source: str
    funded: MoneyString = Field(description="the principal this source paid out for the loan")
    principal_outstanding: MoneyString = Field(description="its part of the principal still owed")
    share: RateString


class OpsLoanView(LoanView):
    """``GET /v1/ops/loans/{loan_id}``: the borrower's view of the loan, and what operations see beside it."""

    application_id: str
    borrower: MaskedBorrowerView
    classification: str | None = Field(
        description="five-category class: normal, special_mention, substandard, doubtful, loss (null until the "
        "first close classifies it)"
    )
    provision: MoneyString | None = Field(description="the loan-loss allowance held for it (null until provisioned)")
    funding: list[FundingShareView]
    warnings: list[WarningView] = Field(default_factory=list, description="its early warnings, newest first")
