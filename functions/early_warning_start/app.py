"""The monthly re-check (EventBridge schedule): start the EarlyWarningFlow workflow for the month, once."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Field

from lending.adapters.aws import client
from lending.adapters.settings import Settings, settings
from lending.steps.early_warning import recheck_month

logger = Logger()
tracer = Tracer()


class EarlyWarningStartSettings(Settings):
    """What this function is given beyond every function's settings (template.yaml)."""

    state_machine_arn: str = Field(alias="EARLY_WARNING_STATE_MACHINE_ARN", min_length=1)


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    month = recheck_month(event)
    name = f"early-warning-{month:%Y-%m}"
    arn = settings(EarlyWarningStartSettings).state_machine_arn
    stepfunctions = client("stepfunctions")
    try:
        # Named by the month: a second start of the same month (a retried schedule) is refused, not run twice.
        started = stepfunctions.start_execution(
            stateMachineArn=arn, name=name, input=json.dumps({"month": f"{month:%Y-%m}", "cursor": None})
        )
        execution_arn = str(started["executionArn"])
    except stepfunctions.exceptions.ExecutionAlreadyExists:
        execution_arn = f"{arn.replace(':stateMachine:', ':execution:')}:{name}"
    logger.info("early-warning re-check started", extra={"month": f"{month:%Y-%m}"})
    return {"month": f"{month:%Y-%m}", "execution_arn": execution_arn}
