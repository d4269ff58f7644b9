"""A function's settings: one pydantic model of its environment, read once per distinct environment.

:class:`Settings` holds what every function is given and reads (``Globals`` in template.yaml: the tables, the PII
key, the rate cap); a function that needs more declares it in a subclass with its own fields, and
reads ``settings(ItsSettings)``. A variable the function needs and was not given fails the read at once, naming the
variable, instead of reaching an AWS call as an empty string.
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from typing import overload

from pydantic import BaseModel, ConfigDict, Field

from lending.adapters.environment import lambda_environment


class Settings(BaseModel):
    """What every function reads from its environment (template.yaml's Globals; the region is boto3's own)."""

    model_config = ConfigDict(frozen=True, extra="ignore", str_strip_whitespace=True)

    applications_table: str = Field(alias="APPLICATIONS_TABLE", min_length=1)
    loans_table: str = Field(alias="LOANS_TABLE", min_length=1)
    ledger_table: str = Field(alias="LEDGER_TABLE", min_length=1)
    audit_table: str = Field(alias="AUDIT_TABLE", min_length=1)
    idempotency_table: str = Field(alias="IDEMPOTENCY_TABLE", min_length=1)
    portfolio_table: str = Field(alias="PORTFOLIO_TABLE", min_length=1)
    pii_key_id: str = Field(alias="PII_KEY_ID", min_length=1)
    rate_cap_annual: Decimal = Field(alias="RATE_CAP_ANNUAL", allow_inf_nan=False)


@lru_cache(maxsize=64)
def _read(model: type[Settings], items: tuple[tuple[str, str], ...]) -> Settings:
    return model.model_validate(dict(items))


@lru_cache(maxsize=64)
def _variables(model: type[Settings]) -> frozenset[str]:
    return frozenset(field.alias or name for name, field in model.model_fields.items())


class PayoutSettings(Settings):
    """What the two functions that pay out (a loan's, a drawdown's) are given beyond every function's settings."""

    payout_provider_url: str = Field(alias="PAYOUT_PROVIDER_URL", min_length=1)


class WarningsSettings(Settings):
    """A function that records early warnings (template.yaml: WarningsTable)."""

    warnings_table: str = Field(alias="WARNINGS_TABLE", min_length=1)


class CollectionsSettings(Settings):
    """What the functions that keep repayments (the app's, auto-debit's, the webhook's, the list's) are given."""

    collections_table: str = Field(alias="COLLECTIONS_TABLE", min_length=1)


class CollectorSettings(CollectionsSettings):
    """What the functions that ask the provider to collect are given: where it is, and where it calls back."""

    collection_provider_url: str = Field(alias="COLLECTION_PROVIDER_URL", min_length=1)
    payments_webhook_url: str = Field(alias="PAYMENTS_WEBHOOK_URL", min_length=1)


class HardshipSettings(Settings):
    """What the functions that keep hardship requests are given."""

    hardship_table: str = Field(alias="HARDSHIP_TABLE", min_length=1)


class HardshipFlowSettings(HardshipSettings):
    """What the function that opens hardship requests is given: the workflow it starts for each."""

    hardship_state_machine_arn: str = Field(alias="HARDSHIP_STATE_MACHINE_ARN", min_length=1)


class EventBusSettings(HardshipSettings):
    """What the hardship steps that publish to the lending event bus are given."""

    event_bus_name: str = Field(alias="EVENT_BUS_NAME", min_length=1)


@overload
def settings() -> Settings: ...
@overload
def settings[Model: Settings](model: type[Model]) -> Model: ...
def settings(model: type[Settings] = Settings) -> Settings:
    """The current invocation's settings as ``model`` (validated once per distinct environment)."""
    # Keyed by the model's own variables only: Lambda rewrites others (the X-Ray trace id) on every invocation, and
    # credentials have no place in a cache key or in a validation error's text.
    variables = _variables(model)
    return _read(model, tuple(sorted((k, v) for k, v in lambda_environment().items() if k in variables)))
