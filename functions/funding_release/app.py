"""Compensation: void the funding reservation of an application that could not be paid out."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from lending.adapters import stores
from lending.steps.disbursement import release_funding
from lending.steps.inputs import ApplicationStep

logger = Logger()
tracer = Tracer()


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@event_parser(model=ApplicationStep)
def lambda_handler(event: ApplicationStep, context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(application_id=event.application_id)
    return release_funding(
        event.application_id,
        applications=stores.applications(),
        audit=stores.audit(),
        ledger=stores.ledger(),
    )
