"""POST /v1/loans/{loan_id}/repayments: the borrower repays now; the payment provider is asked to collect it."""

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

from lending.adapters.aws import client
from lending.adapters.collections_wiring import bound_account, collection_client
from lending.adapters.repayments import repayment_store
from lending.adapters.servicing import servicing_store
from lending.adapters.settings import CollectorSettings, settings
from lending.api import models
from lending.api.http import HttpError, borrower_id, make_resolver
from lending.catalogue import load_catalogue
from lending.errors import CollectionUnavailable, ExceedsPayoff
from lending.money import Money
from lending.steps.collections import request_app_repayment

logger = Logger()
tracer = Tracer()
metrics = Metrics()
app = make_resolver()


@cache
def idempotency() -> IdempotencyConfig:
    """Same key and body within 24 h: the first answer again; same key, other body: 409."""
    return IdempotencyConfig(
        event_key_jmespath="[borrower_id, loan_id, idempotency_key]",
        payload_validation_jmespath="amount",
        expires_after_seconds=24 * 3600,
    )


def _request(request: dict[str, Any]) -> dict[str, str]:
    config = settings(CollectorSettings)
    return request_app_repayment(
        request["loan_id"],
        request["borrower_id"],
        Money.of(request["amount"]),
        request["idempotency_key"],
        store=servicing_store(),
        repayments=repayment_store(),
        collector=collection_client(config.collection_provider_url),
        bank_account=bound_account,
        catalogue=load_catalogue(),
        notify_url=config.payments_webhook_url,
    )


@app.post(
    "/v1/loans/<loan_id>/repayments",
    summary="Repay now from the bound bank account",
    responses={
        202: {"description": "accepted: the provider collects it, and its notice settles it"},
        404: {"description": "no such loan of the caller's"},
        409: {"description": "above today's payoff (exceeds_payoff), or the Idempotency-Key used with another amount"},
        503: {"description": "the payment provider did not answer; retry with the same Idempotency-Key"},
    },
)
def repay(
    loan_id: str,
    request: models.RepaymentRequest,
    idempotency_key: Annotated[str, params.Header(alias="Idempotency-Key", min_length=1, max_length=255)],
) -> event_handler.Response[models.RepaymentAccepted]:
    """The same Idempotency-Key answers the same repayment; with another amount it is 409."""
    logger.append_keys(loan_id=loan_id)
    persistence = DynamoDBPersistenceLayer(table_name=settings().idempotency_table, boto3_client=client("dynamodb"))
    submit = idempotent_function(
        _request, data_keyword_argument="request", persistence_store=persistence, config=idempotency()
    )
    data = {
        "borrower_id": borrower_id(app),
        "loan_id": loan_id,
        "idempotency_key": idempotency_key,
        "amount": str(request.amount),
    }
    try:
        accepted = submit(request=data)
    except IdempotencyValidationError:
        raise HttpError(
            HTTPStatus.CONFLICT, "idempotency_conflict", "this Idempotency-Key was used with another body"
        ) from None
    except IdempotencyAlreadyInProgressError:
        raise HttpError(HTTPStatus.CONFLICT, "request_in_progress", "this request is still being processed") from None
    except ExceedsPayoff as exc:
        raise HttpError(HTTPStatus.CONFLICT, exc.code, exc.message) from None
    except CollectionUnavailable:
        raise HttpError(
            HTTPStatus.SERVICE_UNAVAILABLE,
            "collection_unavailable",
            "the payment provider did not answer; retry with the same Idempotency-Key",
        ) from None
    metrics.add_metric(name="RepaymentRequested", unit=MetricUnit.Count, value=1)
    return event_handler.Response(
        HTTPStatus.ACCEPTED, content_type="application/json", body=models.RepaymentAccepted(**accepted)
    )


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    idempotency().register_lambda_context(context)
    return app.resolve(event, context)
