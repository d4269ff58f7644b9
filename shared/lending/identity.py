"""The identity check's result as the vendor's signed notice carries it (``POST /v1/webhooks/identity``).

The wire contract, and why the webhook must be idempotent on ``event_id``, is
:mod:`lending.adapters.vendors.identity`'s; what the decision weighs of it is
:class:`lending.risk.facts.IdentityResult`.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictBool

#: The longest check reference (our application id) the vendor keeps.
MAX_REFERENCE_LENGTH = 255


class IdentityOutcome(StrEnum):
    """What the vendor concluded."""

    PASSED = "passed"
    FAILED = "failed"


class IdentityNotice(BaseModel):
    """The body of the vendor's signed callback. Parse with ``IdentityNotice.model_validate_json(body)``."""

    # Fields the vendor adds later are ignored, not refused: a notice we cannot take is never resent.
    model_config = ConfigDict(frozen=True, extra="ignore")

    event_id: Annotated[str, Field(min_length=1, max_length=255)]
    reference: Annotated[str, Field(min_length=1, max_length=MAX_REFERENCE_LENGTH)]
    result: IdentityOutcome
    face_match: Annotated[Decimal, Field(ge=0, le=1, allow_inf_nan=False)]
    liveness: StrictBool
    checked_at: AwareDatetime
