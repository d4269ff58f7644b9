"""A function's settings: its environment as one pydantic model, failing at once on what it was not given."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from infra.local.template import functions, load_template
from lending.adapters.environment import provided_environment
from lending.adapters.settings import PayoutSettings, Settings, settings

EVERY_FUNCTION = {
    "AWS_REGION": "ap-east-1",
    "STAGE": "dev",
    "APPLICATIONS_TABLE": "lending-applications-dev",
    "LOANS_TABLE": "lending-loans-dev",
    "LEDGER_TABLE": "lending-ledger-dev",
    "AUDIT_TABLE": "lending-audit-dev",
    "IDEMPOTENCY_TABLE": "lending-idempotency-dev",
    "PORTFOLIO_TABLE": "lending-portfolio-dev",
    "PII_KEY_ID": "key-1",
    "RATE_CAP_ANNUAL": "0.24",
}


def test_every_function_is_given_what_every_function_reads() -> None:
    # Given the template's Globals environment / Then it names every variable Settings requires
    variables = set(load_template()["Globals"]["Function"]["Environment"]["Variables"]) | {"AWS_REGION"}
    required = {field.alias for field in Settings.model_fields.values() if field.is_required()}
    assert required <= variables
    assert functions(load_template())


def test_the_settings_are_read_from_the_invocations_environment() -> None:
    # Given a function's environment / When its settings are read / Then each is typed, the rate cap exact
    with provided_environment(EVERY_FUNCTION):
        config = settings()
    assert config.loans_table == "lending-loans-dev"
    assert config.rate_cap_annual == Decimal("0.24")


def test_a_variable_a_function_needs_and_was_not_given_fails_the_read_naming_it() -> None:
    # Given a function that needs its payout provider's URL, and an environment without it
    with provided_environment(EVERY_FUNCTION), pytest.raises(ValidationError, match="PAYOUT_PROVIDER_URL"):
        # When its settings are read / Then the read fails, naming the variable
        settings(PayoutSettings)
    with provided_environment({**EVERY_FUNCTION, "PAYOUT_PROVIDER_URL": "http://payouts.local"}):
        assert settings(PayoutSettings).payout_provider_url == "http://payouts.local"


@pytest.mark.parametrize("cap", ["inf", "NaN", "a quarter", ""])
def test_a_rate_cap_that_is_not_a_finite_decimal_is_refused(cap: str) -> None:
    with provided_environment({**EVERY_FUNCTION, "RATE_CAP_ANNUAL": cap}), pytest.raises(ValidationError):
        settings()


def test_only_the_models_own_variables_are_read_so_no_credential_reaches_an_error() -> None:
    # Given Lambda's environment: credentials, and a trace id that changes with every invocation
    lambda_env = {**EVERY_FUNCTION, "AWS_SECRET_ACCESS_KEY": "s3cret-key", "_X_AMZN_TRACE_ID": "Root=1-a"}
    # When a function's settings miss a variable / Then the error names it and shows no credential
    with provided_environment(lambda_env), pytest.raises(ValidationError) as refused:
        settings(PayoutSettings)
    assert "PAYOUT_PROVIDER_URL" in str(refused.value)
    assert "s3cret" not in str(refused.value)
    # And another trace id is the same settings, read once
    with provided_environment(lambda_env):
        first = settings()
    with provided_environment({**lambda_env, "_X_AMZN_TRACE_ID": "Root=1-b"}):
        assert settings() is first
