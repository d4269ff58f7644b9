"""Drawdown workflow step: post the funding and book the drawdown on the line (ledger, servicing, audit)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from lending.adapters.servicing import servicing_store
from lending.catalogue import load_catalogue
from lending.steps.drawdowns import book_drawdown
from lending.steps.inputs import DrawdownStep

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
@event_parser(model=DrawdownStep)
def lambda_handler(event: DrawdownStep, context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(loan_id=event.loan_id, drawdown_id=event.drawdown_id)
    booked = book_drawdown(event.loan_id, event.drawdown_id, store=servicing_store(), catalogue=load_catalogue())
    metrics.add_metric(name="DrawdownBooked", unit=MetricUnit.Count, value=1)
    return booked
