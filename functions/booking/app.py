"""Workflow step: post the funding, book the loan and its schedule in the ledger, or open a credit line."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from lending.adapters import stores
from lending.adapters.settings import settings
from lending.catalogue import load_catalogue
from lending.steps.disbursement import book
from lending.steps.inputs import ApplicationStep
from lending.steps.offer import capped_catalogue

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
@event_parser(model=ApplicationStep)
def lambda_handler(event: ApplicationStep, context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(application_id=event.application_id)
    config = settings()
    booked = book(
        event.application_id,
        applications=stores.applications(),
        audit=stores.audit(),
        ledger=stores.ledger(),
        loans=stores.loans(),
        catalogue=capped_catalogue(load_catalogue(), config.rate_cap_annual),
    )
    metrics.add_metric(name="LoanBooked", unit=MetricUnit.Count, value=1)
    return booked
