"""Workflow step: queue a referred application for an underwriter and keep the task token to resume on."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from lending.adapters import stores
from lending.steps.inputs import AwaitingStep
from lending.steps.underwriting import refer

logger = Logger()
tracer = Tracer()


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@event_parser(model=AwaitingStep)
def lambda_handler(event: AwaitingStep, context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(application_id=event.application_id)
    return refer(
        event.application_id,
        event.task_token,
        applications=stores.applications(),
        audit=stores.audit(),
    )
