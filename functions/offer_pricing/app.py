"""Workflow step: the offer (limit, term, rate, APR) from the approved terms, within the rate cap."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from lending.adapters import stores
from lending.adapters.settings import settings
from lending.catalogue import load_catalogue
from lending.steps.inputs import ApplicationStep
from lending.steps.offer import capped_catalogue, price_offer

logger = Logger()
tracer = Tracer()


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@event_parser(model=ApplicationStep)
def lambda_handler(event: ApplicationStep, context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(application_id=event.application_id)
    config = settings()
    return price_offer(
        event.application_id,
        applications=stores.applications(),
        audit=stores.audit(),
        catalogue=capped_catalogue(load_catalogue(), config.rate_cap_annual),
    )
