"""POST /v1/webhooks/identity: check the signature first, then record the result and resume the workflow."""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parameters import get_secret
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Field, ValidationError

from lending.adapters import stores
from lending.adapters.settings import Settings, settings
from lending.adapters.workflow import resume
from lending.api.http import make_resolver
from lending.identity import IdentityNotice
from lending.steps.identity import record_result
from lending.webhooks import SIGNATURE_HEADER, verify

logger = Logger()
tracer = Tracer()
metrics = Metrics()
app = make_resolver()


class IdentityWebhookSettings(Settings):
    """What this function is given beyond every function's settings (template.yaml)."""

    identity_webhook_secret_arn: str = Field(alias="IDENTITY_WEBHOOK_SECRET_ARN", min_length=1)


@app.post(
    "/v1/webhooks/identity",
    summary="The identity vendor's signed result",
    responses={
        200: {"description": "recorded; the workflow resumes"},
        404: {"description": "no check of ours has this reference"},
        422: {"description": "the result is invalid"},
    },
)
def identity_result() -> dict[str, Any]:
    """Signed with the vendor's shared secret (X-Signature); a bad or stale signature is 401 and changes nothing."""
    config = settings(IdentityWebhookSettings)
    body = (app.current_event.body or "").encode()
    secret = str(get_secret(config.identity_webhook_secret_arn, max_age=300))
    verify(app.current_event.headers.get(SIGNATURE_HEADER), body, [secret.encode()], int(time.time()))
    try:
        result = IdentityNotice.model_validate_json(body)
    except ValidationError as exc:
        # The resolver's validation answer: the contract's 422 naming each field, as every other route's.
        raise RequestValidationError(exc.errors(include_url=False, include_input=False)) from None
    logger.append_keys(application_id=result.reference)
    outcome = record_result(
        result,
        applications=stores.applications(),
        audit=stores.audit(),
        resume=resume,
    )
    metrics.add_metric(name="IdentityResultReceived", unit=MetricUnit.Count, value=1)
    return outcome


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
