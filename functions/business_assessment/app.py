"""Workflow step: 12 months of bank statements and the tax filings into the business assessment."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Field

from lending.adapters import stores
from lending.adapters.pii import decrypt_fields
from lending.adapters.settings import Settings, settings
from lending.adapters.vendors.bank_data import BankDataClient
from lending.risk.policy import load_policy
from lending.steps.assessment import assess_cash_flow
from lending.steps.inputs import ApplicationStep

logger = Logger()
tracer = Tracer()


class BusinessAssessmentSettings(Settings):
    """What this function is given beyond every function's settings (template.yaml)."""

    bank_data_url: str = Field(alias="BANK_DATA_URL", min_length=1)


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@event_parser(model=ApplicationStep)
def lambda_handler(event: ApplicationStep, context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(application_id=event.application_id)
    config = settings(BusinessAssessmentSettings)
    return assess_cash_flow(
        event.application_id,
        applications=stores.applications(),
        audit=stores.audit(),
        bank_data=BankDataClient(config.bank_data_url),
        decrypt=decrypt_fields,
        policy=load_policy(),
    )
