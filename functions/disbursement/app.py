"""Workflow step: pay out through the provider, exactly once per application whatever retries happen."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from lending.adapters import stores
from lending.adapters.pii import decrypt_fields
from lending.adapters.settings import PayoutSettings, settings
from lending.adapters.vendors.payouts import PayoutClient
from lending.steps.disbursement import disburse
from lending.steps.inputs import ApplicationStep

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
@event_parser(model=ApplicationStep)
def lambda_handler(event: ApplicationStep, context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(application_id=event.application_id)
    config = settings(PayoutSettings)
    payout = disburse(
        event.application_id,
        applications=stores.applications(),
        audit=stores.audit(),
        payouts=PayoutClient(config.payout_provider_url),
        decrypt=decrypt_fields,
    )
    metrics.add_metric(name="LoanDisbursed", unit=MetricUnit.Count, value=1)
    return payout
