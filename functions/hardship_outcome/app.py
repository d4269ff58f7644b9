"""HardshipFlow step: how a request ends. RESTRUCTURED applies the accepted plan to the loan (one servicing write,
audited ``restructured``); DECLINED or EXPIRED record the reason. Either releases the loan for another request."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from lending.adapters import stores
from lending.adapters.hardship import hardship_requests, publisher
from lending.adapters.servicing import servicing_store
from lending.catalogue import load_catalogue
from lending.steps.hardship import RequestStatus, apply_restructure, end_request
from lending.steps.inputs import HardshipEnd

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
@event_parser(model=HardshipEnd)
def lambda_handler(event: HardshipEnd, context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(request_id=event.request_id, outcome=event.outcome)
    metrics.add_metric(name=f"Hardship{event.outcome.title()}", unit=MetricUnit.Count, value=1)
    if event.outcome == "RESTRUCTURED":
        return apply_restructure(
            event.request_id,
            requests=hardship_requests(),
            store=servicing_store(),
            catalogue=load_catalogue(),
            publish=publisher,
        )
    return end_request(
        event.request_id,
        RequestStatus(event.outcome),
        event.reason or "ended",
        requests=hardship_requests(),
        audit=stores.audit(),
        publish=publisher,
    )
