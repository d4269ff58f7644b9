"""The origination workflow in Step Functions: start it once per application, resume it from a task token."""

from __future__ import annotations

import json
from typing import Any

from lending.adapters.aws import client


def start_origination(state_machine_arn: str, application_id: str) -> None:
    """Start the application's execution, named after it: a second start of the same application is a no-op."""
    sfn = client("stepfunctions")
    try:
        sfn.start_execution(
            stateMachineArn=state_machine_arn,
            name=application_id,
            input=json.dumps({"application_id": application_id}),
        )
    except sfn.exceptions.ExecutionAlreadyExists:
        return


def resume(task_token: str, output: dict[str, Any]) -> bool:
    """Hand a waiting task its result; False when the task is no longer waiting (timed out or resumed before)."""
    sfn = client("stepfunctions")
    try:
        sfn.send_task_success(taskToken=task_token, output=json.dumps(output))
    except (sfn.exceptions.TaskTimedOut, sfn.exceptions.InvalidToken, sfn.exceptions.TaskDoesNotExist):
        return False
    return True
