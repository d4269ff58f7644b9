"""POST /v1/loans/{loan_id}/drawdowns: hold the amount against the line's available limit and start its payout."""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools import Logger, Metrics, Tracer, event_handler
from aws_lambda_powertools.event_handler.openapi import params
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Field

from lending.adapters.servicing import servicing_store, start_drawdown
from lending.adapters.settings import Settings, settings
from lending.api import models
from lending.api.http import borrower_id, make_resolver
from lending.catalogue import load_catalogue
from lending.steps.drawdowns import request_drawdown

logger = Logger()
tracer = Tracer()
metrics = Metrics()
app = make_resolver()


class DrawdownRequestSettings(Settings):
    """What this function is given beyond every function's settings (template.yaml)."""

    drawdown_state_machine_arn: str = Field(alias="DRAWDOWN_STATE_MACHINE_ARN", min_length=1)


@app.post(
    "/v1/loans/<loan_id>/drawdowns",
    summary="Draw on a credit line",
    responses={
        202: {"description": "accepted: the drawdown is funded and paid out"},
        404: {"description": "no such credit line of the caller's"},
        409: {
            "description": "over the available limit, the line frozen, or the Idempotency-Key used with another body"
        },
        503: {"description": "the line changed under this request; retry with the same Idempotency-Key"},
    },
)
def draw(
    loan_id: str,
    request: models.DrawdownRequest,
    idempotency_key: Annotated[str, params.Header(alias="Idempotency-Key", min_length=1, max_length=255)],
) -> event_handler.Response[models.DrawdownView]:
    """The same Idempotency-Key answers the same drawdown; with another amount it is 409."""
    config = settings(DrawdownRequestSettings)
    logger.append_keys(loan_id=loan_id)
    drawdown = request_drawdown(
        loan_id,
        borrower_id(app),
        request.amount,
        idempotency_key,
        store=servicing_store(),
        catalogue=load_catalogue(),
        start=lambda drawdown_id, payload: start_drawdown(config.drawdown_state_machine_arn, drawdown_id, payload),
    )
    metrics.add_metric(name="DrawdownRequested", unit=MetricUnit.Count, value=1)
    return event_handler.Response(
        HTTPStatus.ACCEPTED, content_type="application/json", body=models.DrawdownView(**drawdown)
    )


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
