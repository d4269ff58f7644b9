"""The risk side of the operations API: the portfolio snapshot and writing a loan off by hand (maker-checker)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from lending.api.models import _Body


class PortfolioFigures(BaseModel):
    """Loans in a group, and their principal on the book, loss allowance and principal written off."""

    loans: int
    principal_outstanding: str
    provision: str
    written_off: str


class RollRateView(BaseModel):
    """Of the loans in ``from_state`` when the month began, the share in ``to_state`` now (or at the month's end)."""

    month: str
    from_state: str
    to_state: str
    loans: int
    rate: str


class VintagePointView(BaseModel):
    month_on_book: int
    share_30_plus: str = Field(description="the share of the vintage's loans more than 30 days past due or written off")


class VintageView(BaseModel):
    vintage: str = Field(description="the month the loans were booked (YYYY-MM)")
    loans: int
    points: list[VintagePointView]


class PortfolioView(BaseModel):
    """``GET /v1/ops/portfolio``: the book as the daily close of ``date`` left it."""

    date: str
    loans: int
    principal_outstanding: str
    provisions: str
    written_off: str
    by_status: dict[str, PortfolioFigures]
    by_product: dict[str, PortfolioFigures]
    by_industry: dict[str, PortfolioFigures]
    buckets: dict[str, PortfolioFigures] = Field(description="current, each delinquency bucket, closed, written_off")
    classification: dict[str, PortfolioFigures] = Field(description="the five categories, with their provisions")
    provision_rates: dict[str, str]
    roll_rates: list[RollRateView]
    vintages: list[VintageView]


class WriteOffRequest(_Body):
    """``POST /v1/ops/loans/{loan_id}/write-off``: why the loan should come off the book."""

    reason: str = Field(min_length=1, max_length=500)


class WriteOffDecision(_Body):
    """``POST /v1/ops/loans/{loan_id}/write-off/decision``: another operator confirms or rejects."""

    decision: Literal["confirm", "reject"]
    note: str = Field(default="", max_length=2000)


class WriteOffView(BaseModel):
    loan_id: str
    status: str = Field(description="PENDING_CONFIRMATION, WRITTEN_OFF, or the loan's status after a rejection")
    reason: str | None = None
    requested_by: str | None = None
    requested_at: str | None = None
    written_off_on: str | None = None
