"""POST /v1/webhooks/payments: check the signature first, then apply the repayment exactly once."""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parameters import get_secret
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Field, ValidationError

from lending.adapters.repayments import repayment_store
from lending.adapters.servicing import servicing_store
from lending.adapters.settings import Settings, settings
from lending.api import models
from lending.api.http import make_resolver
from lending.catalogue import load_catalogue
from lending.errors import PaidAtInFuture
from lending.steps.collections import record_pushed, settle_collection
from lending.steps.repayments import apply_repayment, check_not_future
from lending.webhooks import SIGNATURE_HEADER, verify

logger = Logger()
tracer = Tracer()
metrics = Metrics()
app = make_resolver()


class PaymentsWebhookSettings(Settings):
    """What this function is given beyond every function's settings (template.yaml)."""

    payments_webhook_secret_arn: str = Field(alias="PAYMENTS_WEBHOOK_SECRET_ARN", min_length=1)


@app.post(
    "/v1/webhooks/payments",
    summary="The payment provider's signed repayment notice",
    responses={
        200: {"description": "applied, a duplicate of one applied, a failed collection recorded, or parked"},
        422: {"description": "the notice is invalid, or paid_at is more than 300 s after the platform's clock"},
        503: {"description": "the loan changed under this notice; the provider retries it"},
    },
)
def payment_received() -> models.PaymentReceipt:
    """Signed with the provider's shared secret (X-Signature); a bad or stale signature is 401 and changes nothing.
    The same ``event_id`` again is answered 200 and applied once; a payment for an unknown loan is parked. With
    ``repayment_id`` it settles a collection the platform asked for: ``succeeded`` is applied once, ``failed`` is
    recorded with its reason; one for a repayment the platform never asked for is parked for a person."""

    config = settings(PaymentsWebhookSettings)
    body = (app.current_event.body or "").encode()
    secret = str(get_secret(config.payments_webhook_secret_arn, max_age=300))
    verify(app.current_event.headers.get(SIGNATURE_HEADER), body, [secret.encode()], int(time.time()))
    try:
        notice = models.PaymentNotice.model_validate_json(body)
    except ValidationError as exc:
        # The resolver's validation answer: the contract's 422 naming each field, as every other route's.
        raise RequestValidationError(exc.errors(include_url=False, include_input=False)) from None
    logger.append_keys(loan_id=notice.loan_id, event_id=notice.event_id)
    try:
        check_not_future(notice.paid_at)
    except PaidAtInFuture:
        metrics.add_metric(name="PaymentFutureDated", unit=MetricUnit.Count, value=1)
        raise
    if notice.repayment_id is not None:
        logger.append_keys(repayment_id=notice.repayment_id)
        receipt = settle_collection(
            event_id=notice.event_id,
            repayment_id=notice.repayment_id,
            loan_id=notice.loan_id,
            amount=notice.amount,
            paid_at=notice.paid_at,
            succeeded=notice.status == "succeeded",
            failure_reason=notice.failure_reason,
            store=servicing_store(),
            repayments=repayment_store(),
            catalogue=load_catalogue(),
        )
    else:
        receipt = apply_repayment(notice.event(), notice.loan_id, store=servicing_store(), catalogue=load_catalogue())
        record_pushed(
            notice.event_id, notice.loan_id, notice.amount, notice.paid_at, receipt, repayments=repayment_store()
        )
    metrics.add_metric(name=f"Repayment_{receipt['status']}", unit=MetricUnit.Count, value=1)
    return models.PaymentReceipt.model_validate(receipt)


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
