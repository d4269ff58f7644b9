"""Workflow step: open the approved offer for the borrower's acceptance and keep the task token to resume on."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from lending.adapters import stores
from lending.steps.acceptance import await_acceptance
from lending.steps.inputs import AcceptanceStep

logger = Logger()
tracer = Tracer()


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@event_parser(model=AcceptanceStep)
def lambda_handler(event: AcceptanceStep, context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(application_id=event.application_id)
    return await_acceptance(
        event.application_id,
        event.task_token,
        event.timeout_seconds,
        applications=stores.applications(),
        audit=stores.audit(),
    )
