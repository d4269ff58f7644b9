"""A function's settings: one pydantic model read from its environment, validated once per environment."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field

from lending.adapters.environment import lambda_environment


class Settings(BaseModel):
    """Everything a function reads from its environment; absent values are the ones it does not need."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    region: str = Field(alias="AWS_REGION", default="ap-east-1")
    stage: str = Field(alias="STAGE", default="dev")
    applications_table: str = Field(alias="APPLICATIONS_TABLE", default="")
    loans_table: str = Field(alias="LOANS_TABLE", default="")
    ledger_table: str = Field(alias="LEDGER_TABLE", default="")
    audit_table: str = Field(alias="AUDIT_TABLE", default="")
    idempotency_table: str = Field(alias="IDEMPOTENCY_TABLE", default="")
    pii_key_id: str = Field(alias="PII_KEY_ID", default="")
    rate_cap_annual: Decimal | None = Field(alias="RATE_CAP_ANNUAL", default=None)
    state_machine_arn: str = Field(alias="STATE_MACHINE_ARN", default="")
    identity_vendor_url: str = Field(alias="IDENTITY_VENDOR_URL", default="")
    identity_callback_url: str = Field(alias="IDENTITY_CALLBACK_URL", default="")
    identity_webhook_secret_arn: str = Field(alias="IDENTITY_WEBHOOK_SECRET_ARN", default="")
    payments_webhook_secret_arn: str = Field(alias="PAYMENTS_WEBHOOK_SECRET_ARN", default="")
    credit_bureau_url: str = Field(alias="CREDIT_BUREAU_URL", default="")
    bank_data_url: str = Field(alias="BANK_DATA_URL", default="")
    payout_provider_url: str = Field(alias="PAYOUT_PROVIDER_URL", default="")
    notifications_topic_arn: str = Field(alias="NOTIFICATIONS_TOPIC_ARN", default="")


@lru_cache(maxsize=64)
def _parse(items: tuple[tuple[str, str], ...]) -> Settings:
    return Settings.model_validate(dict(items))


def settings() -> Settings:
    """The current invocation's settings (parsed once per distinct environment)."""
    fields = {field.alias for field in Settings.model_fields.values() if field.alias}
    environment = lambda_environment()
    return _parse(tuple(sorted((k, v) for k, v in environment.items() if k in fields)))
