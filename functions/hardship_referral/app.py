"""HardshipFlow step: put a hardship request in the underwriters' queue and keep the task token to resume on."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from lending.adapters.hardship import hardship_requests
from lending.steps.hardship import await_review
from lending.steps.inputs import HardshipAwaiting

logger = Logger()
tracer = Tracer()


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@event_parser(model=HardshipAwaiting)
def lambda_handler(event: HardshipAwaiting, context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(request_id=event.request_id)
    return await_review(event.request_id, event.task_token, requests=hardship_requests())
