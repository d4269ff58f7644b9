"""Workflow step: record a terminal outcome the workflow itself reached (a deadline passed, a payout failed)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from lending.adapters import stores
from lending.origination import Status
from lending.steps.inputs import OutcomeStep
from lending.steps.outcomes import record_outcome

logger = Logger()
tracer = Tracer()


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@event_parser(model=OutcomeStep)
def lambda_handler(event: OutcomeStep, context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(application_id=event.application_id)
    return record_outcome(
        event.application_id,
        Status(event.status),
        event.error,
        applications=stores.applications(),
        audit=stores.audit(),
    )
