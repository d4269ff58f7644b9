"""POST /v1/applications: validate, encrypt personal data, store, start the origination workflow."""

from __future__ import annotations

from functools import cache
from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools import Logger, Metrics, Tracer, event_handler
from aws_lambda_powertools.event_handler.openapi import params
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.dynamodb import DynamoDBPersistenceLayer
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Field

from lending.adapters import stores
from lending.adapters.aws import client
from lending.adapters.pii import encrypt_fields
from lending.adapters.settings import Settings, settings
from lending.adapters.workflow import start_origination
from lending.api import models
from lending.api.http import HttpError, borrower_id, make_resolver
from lending.steps.intake import submit_application

logger = Logger()
tracer = Tracer()
metrics = Metrics()
app = make_resolver()


class ApplicationIntakeSettings(Settings):
    """What this function is given beyond every function's settings (template.yaml)."""

    state_machine_arn: str = Field(alias="STATE_MACHINE_ARN", min_length=1)


@cache
def idempotency() -> IdempotencyConfig:
    """Same key and body within 24 h: the first answer again; same key, other body: 409."""
    return IdempotencyConfig(
        event_key_jmespath="[borrower_id, idempotency_key]",
        payload_validation_jmespath="body",
        expires_after_seconds=24 * 3600,
    )


def _submit(request: dict[str, Any]) -> dict[str, str]:
    config = settings(ApplicationIntakeSettings)
    return submit_application(
        models.ApplicationRequest.model_validate(request["body"]),
        request["borrower_id"],
        request["idempotency_key"],
        applications=stores.applications(),
        audit=stores.audit(),
        encrypt=lambda record_id, values: encrypt_fields(config.pii_key_id, record_id, values),
        start_workflow=lambda application_id: start_origination(config.state_machine_arn, application_id),
    )


@app.post(
    "/v1/applications",
    summary="Apply for a loan or a credit line",
    responses={
        202: {"description": "accepted: poll the application for its status"},
        409: {"description": "this Idempotency-Key was used with another body, or its first request is still running"},
    },
)
def apply(
    request: models.ApplicationRequest,
    idempotency_key: Annotated[str, params.Header(alias="Idempotency-Key", min_length=1, max_length=255)],
) -> event_handler.Response[models.ApplicationAccepted]:
    """Store the application and start its origination; answer at once with the id to poll."""
    persistence = DynamoDBPersistenceLayer(table_name=settings().idempotency_table, boto3_client=client("dynamodb"))
    submit = idempotent_function(
        _submit, data_keyword_argument="request", persistence_store=persistence, config=idempotency()
    )
    data = {"borrower_id": borrower_id(app), "idempotency_key": idempotency_key, "body": request.fingerprint()}
    try:
        accepted = submit(request=data)
    except IdempotencyValidationError:
        raise HttpError(
            HTTPStatus.CONFLICT, "idempotency_conflict", "this Idempotency-Key was used with another body"
        ) from None
    except IdempotencyAlreadyInProgressError:
        raise HttpError(HTTPStatus.CONFLICT, "request_in_progress", "this request is still being processed") from None
    metrics.add_metric(name="ApplicationReceived", unit=MetricUnit.Count, value=1)
    return event_handler.Response(
        HTTPStatus.ACCEPTED, content_type="application/json", body=models.ApplicationAccepted(**accepted)
    )


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    idempotency().register_lambda_context(context)
    return app.resolve(event, context)
