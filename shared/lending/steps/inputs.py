"""What each workflow step is given: the ``Payload`` its Task passes in the ASL, as the pydantic models its handler
parses with Powertools' ``event_parser``. A field the ASL stops passing, or one it starts passing, fails the step
(and the definition test that holds the two together) instead of surfacing later as a ``KeyError``."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class StepInput(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ApplicationStep(StepInput):
    """An origination step on one application."""

    application_id: str = Field(min_length=1)


class AwaitingStep(ApplicationStep):
    """A step the workflow waits on (``.waitForTaskToken``): the token resumes it."""

    task_token: str = Field(min_length=1)


class AcceptanceStep(AwaitingStep):
    """The wait for the borrower's acceptance, with the deadline the workflow's own timeout on the state enforces."""

    timeout_seconds: int = Field(ge=1)


class DecisionStep(ApplicationStep):
    """The decision, with the identity vendor's verdict as the identity step stored it in the execution."""

    identity: dict[str, Any]


class OutcomeStep(ApplicationStep):
    """A terminal outcome the workflow records, with the error that led to it."""

    status: Literal["EXPIRED", "FAILED"]
    error: dict[str, Any] | None = None


class DrawdownStep(StepInput):
    """A drawdown step on one line."""

    loan_id: str = Field(min_length=1)
    drawdown_id: str = Field(min_length=1)


class DrawdownRelease(DrawdownStep):
    """The compensation of a failed drawdown, with the error that failed it."""

    error: dict[str, Any] | None = None


class HardshipStep(StepInput):
    """A HardshipFlow step on one request."""

    request_id: str = Field(min_length=1)


class HardshipAwaiting(HardshipStep):
    """A HardshipFlow wait (``.waitForTaskToken``): the token resumes it."""

    task_token: str = Field(min_length=1)


class HardshipOfferStep(HardshipAwaiting):
    """The wait for the borrower's acceptance of the restructured plan, with the state's own timeout."""

    timeout_seconds: int = Field(ge=1)


class HardshipEnd(HardshipStep):
    """How a request ends: restructured, or declined / expired with the reason, and the error that led to it."""

    outcome: Literal["RESTRUCTURED", "DECLINED", "EXPIRED"]
    reason: str | None = None
    error: dict[str, Any] | None = None


class OpenLoansPage(StepInput):
    """The early-warning re-check's listing: the month, and where the last page of open loans ended (None: first)."""

    month: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")
    cursor: dict[str, Any] | None


class WarningBatch(StepInput):
    """A batch of open loans to re-check for the month."""

    month: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")
    loan_ids: list[str] = Field(min_length=1, max_length=100)
