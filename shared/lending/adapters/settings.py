"""A function's settings: read from its environment, checked once per distinct environment.

A frozen dataclass rather than a pydantic model: building a model class at import costs a cold start ~50 ms, and
these settings are strings but for one decimal, parsed here as pydantic parsed it (``Decimal`` of the text, finite).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from lending.adapters.environment import lambda_environment


def _decimal(name: str, text: str) -> Decimal:
    """An exact decimal, as pydantic validated one from text: surrounding blanks allowed, nothing non-finite."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{name}: {text!r} is not a valid decimal") from None
    if not value.is_finite():
        raise ValueError(f"{name}: {text!r} is not a finite number")
    return value


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything a function reads from its environment; absent values are the ones it does not need."""

    region: str = "ap-east-1"
    stage: str = "dev"
    applications_table: str = ""
    loans_table: str = ""
    ledger_table: str = ""
    audit_table: str = ""
    idempotency_table: str = ""
    pii_key_id: str = ""
    rate_cap_annual: Decimal | None = None
    state_machine_arn: str = ""
    identity_vendor_url: str = ""
    identity_callback_url: str = ""
    identity_webhook_secret_arn: str = ""
    payments_webhook_secret_arn: str = ""
    credit_bureau_url: str = ""
    credit_model_id: str = ""
    bank_data_url: str = ""
    payout_provider_url: str = ""
    notifications_topic_arn: str = ""
    drawdown_state_machine_arn: str = ""
    event_bus_name: str = ""


#: The environment variable each setting is read from.
VARIABLES: dict[str, str] = {
    "AWS_REGION": "region",
    "STAGE": "stage",
    "APPLICATIONS_TABLE": "applications_table",
    "LOANS_TABLE": "loans_table",
    "LEDGER_TABLE": "ledger_table",
    "AUDIT_TABLE": "audit_table",
    "IDEMPOTENCY_TABLE": "idempotency_table",
    "PII_KEY_ID": "pii_key_id",
    "RATE_CAP_ANNUAL": "rate_cap_annual",
    "STATE_MACHINE_ARN": "state_machine_arn",
    "IDENTITY_VENDOR_URL": "identity_vendor_url",
    "IDENTITY_CALLBACK_URL": "identity_callback_url",
    "IDENTITY_WEBHOOK_SECRET_ARN": "identity_webhook_secret_arn",
    "PAYMENTS_WEBHOOK_SECRET_ARN": "payments_webhook_secret_arn",
    "CREDIT_BUREAU_URL": "credit_bureau_url",
    "CREDIT_MODEL_ID": "credit_model_id",
    "BANK_DATA_URL": "bank_data_url",
    "PAYOUT_PROVIDER_URL": "payout_provider_url",
    "NOTIFICATIONS_TOPIC_ARN": "notifications_topic_arn",
    "DRAWDOWN_STATE_MACHINE_ARN": "drawdown_state_machine_arn",
    "EVENT_BUS_NAME": "event_bus_name",
}
#: Settings that are not text, and how to read them.
_PARSERS: dict[str, Callable[[str, str], Any]] = {"rate_cap_annual": _decimal}


@lru_cache(maxsize=64)
def _parse(items: tuple[tuple[str, str], ...]) -> Settings:
    values: dict[str, Any] = {}
    for variable, text in items:
        name = VARIABLES[variable]
        parse = _PARSERS.get(name)
        values[name] = text if parse is None else parse(variable, text)
    return Settings(**values)


def settings() -> Settings:
    """The current invocation's settings (parsed once per distinct environment)."""
    environment = lambda_environment()
    return _parse(tuple(sorted((k, v) for k, v in environment.items() if k in VARIABLES)))
