"""Workflow step: send the identity check to the vendor, keeping the task token the webhook will resume."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Field

from lending.adapters import stores
from lending.adapters.pii import decrypt_fields
from lending.adapters.settings import Settings, settings
from lending.adapters.vendors.identity import IdentityVendorClient
from lending.steps.identity import request_check
from lending.steps.inputs import AwaitingStep

logger = Logger()
tracer = Tracer()


class IdentityRequestSettings(Settings):
    """What this function is given beyond every function's settings (template.yaml)."""

    identity_vendor_url: str = Field(alias="IDENTITY_VENDOR_URL", min_length=1)
    identity_callback_url: str = Field(alias="IDENTITY_CALLBACK_URL", min_length=1)


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@event_parser(model=AwaitingStep)
def lambda_handler(event: AwaitingStep, context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(application_id=event.application_id)
    config = settings(IdentityRequestSettings)
    return request_check(
        event.application_id,
        event.task_token,
        applications=stores.applications(),
        audit=stores.audit(),
        vendor=IdentityVendorClient(config.identity_vendor_url),
        decrypt=decrypt_fields,
        callback_url=config.identity_callback_url,
    )
