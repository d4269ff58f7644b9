"""Workflow step: tell the borrower the outcome through the notifications topic (no personal data in it)."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Field

from lending.adapters import stores
from lending.adapters.aws import client
from lending.adapters.settings import Settings, settings
from lending.steps.inputs import ApplicationStep
from lending.steps.outcomes import notification_for

logger = Logger()
tracer = Tracer()


class NotificationSettings(Settings):
    """What this function is given beyond every function's settings (template.yaml)."""

    notifications_topic_arn: str = Field(alias="NOTIFICATIONS_TOPIC_ARN", min_length=1)


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@event_parser(model=ApplicationStep)
def lambda_handler(event: ApplicationStep, context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(application_id=event.application_id)
    config = settings(NotificationSettings)
    application = stores.applications().get(event.application_id)
    message = notification_for(application)
    if message is None:
        return {"sent": False}
    client("sns").publish(
        TopicArn=config.notifications_topic_arn,
        Message=json.dumps(message),
        # Deduplication is the subscriber's: the same application and status is the same news.
        MessageAttributes={"status": {"DataType": "String", "StringValue": message["status"]}},
    )
    return {"sent": True, "status": message["status"]}
