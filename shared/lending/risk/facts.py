"""The facts a credit decision is made on: the application, the identity vendor's verdict and the model's score.

Each arrives as JSON-like data from the workflow and is validated here once, so the rules read typed facts; a
problem is one :class:`DecisionInputError` that names the fields, never echoing what was sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError, field_validator, model_validator

from lending.applicant import Consent
from lending.catalogue import Method
from lending.errors import LendingError
from lending.money import Money
from lending.prc_id import age_on, validate_id_number


class DecisionInputError(LendingError, ValueError):
    """An application, identity or score result that is malformed or incomplete; ``fields`` names the culprits."""

    code = "invalid_decision_input"

    def __init__(self, message: str, fields: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.fields = fields


class _Input(BaseModel):
    # Validation errors must never echo what was sent: the input holds ID numbers.
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)


class Application(_Input):
    """The facts of an application the decision needs."""

    product: str = Field(min_length=1)
    amount: Money
    term_months: int = Field(ge=1)
    method: Method | None = None
    decided_on: date
    applicant_age: int | None = Field(default=None, ge=0, le=150)
    id_number: str | None = Field(default=None, repr=False)
    consent: Consent
    human_review_requested: StrictBool = False
    industry: str | None = None
    business_registered_on: date | None = None

    @field_validator("id_number")
    @classmethod
    def _valid_id_number(cls, value: str | None) -> str | None:
        return None if value is None else validate_id_number(value)

    @model_validator(mode="after")
    def _complete(self) -> Self:
        if not self.amount.is_positive:
            raise ValueError("the requested amount must be positive")
        if self.applicant_age is None and self.id_number is None:
            raise ValueError("give the applicant's age or ID number")
        if (
            self.id_number is not None
            and self.applicant_age is not None
            and age_on(self.id_number, self.decided_on) != self.applicant_age
        ):
            raise ValueError("the applicant's age does not agree with the birth date in the ID number")
        if self.business_registered_on is not None and self.business_registered_on > self.decided_on:
            raise ValueError("the business cannot be registered after the decision date")
        return self

    def age(self) -> int:
        """The applicant's age on the decision date, from the ID number when there is one."""
        if self.id_number is not None:
            return age_on(self.id_number, self.decided_on)
        assert self.applicant_age is not None  # the validator requires one of the two
        return self.applicant_age


class IdentityResult(_Input):
    """The identity vendor's verdict."""

    passed: StrictBool
    face_match: Decimal = Field(ge=0, le=1, allow_inf_nan=False)
    liveness: StrictBool


def _input_error(kind: str, exc: ValidationError) -> DecisionInputError:
    problems = exc.errors(include_input=False, include_url=False)
    fields = tuple(".".join(str(part) for part in problem["loc"]) or kind for problem in problems)
    detail = "; ".join(f"{name}: {problem['msg']}" for name, problem in zip(fields, problems, strict=True))
    return DecisionInputError(f"invalid {kind}: {detail}", fields)


def parse_application(raw: object) -> Application:
    """Validate application facts from JSON-like data; problems become one DecisionInputError naming the fields."""
    try:
        return Application.model_validate(raw)
    except ValidationError as exc:
        raise _input_error("application", exc) from None


def parse_identity(raw: object) -> IdentityResult:
    """Validate the identity vendor's result; problems become one DecisionInputError naming the fields."""
    try:
        return IdentityResult.model_validate(raw)
    except ValidationError as exc:
        raise _input_error("identity result", exc) from None


@dataclass(frozen=True, slots=True)
class Reason:
    """A factor the model held against the applicant: a code, words for the borrower, and how much it weighed."""

    code: str
    text: str
    impact: Decimal

    def __post_init__(self) -> None:
        if not isinstance(self.code, str) or not self.code or not isinstance(self.text, str) or not self.text:
            raise DecisionInputError("a model reason needs a code and a text", ("reasons",))
        if not isinstance(self.impact, Decimal) or not self.impact.is_finite():
            raise DecisionInputError("a model reason's impact is a finite Decimal", ("reasons",))


@dataclass(frozen=True, slots=True)
class ScoreOutcome:
    """The scoring model's verdict: probability of default, score, risk grade and adverse reasons."""

    probability_of_default: Decimal
    score: int
    grade: str
    reasons: tuple[Reason, ...] = ()

    def __post_init__(self) -> None:
        pd = self.probability_of_default
        if not isinstance(pd, Decimal) or not pd.is_finite() or not 0 <= pd <= 1:
            raise DecisionInputError("the probability of default is a Decimal from 0 to 1", ("probability_of_default",))
        if type(self.score) is not int:
            raise DecisionInputError("the score is a whole number", ("score",))
        if not isinstance(self.grade, str) or not self.grade:
            raise DecisionInputError("the score result needs a risk grade", ("grade",))
        if not isinstance(self.reasons, tuple) or not all(isinstance(r, Reason) for r in self.reasons):
            raise DecisionInputError("the model's reasons are a tuple of Reason", ("reasons",))
