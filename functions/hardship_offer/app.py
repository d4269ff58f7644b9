"""HardshipFlow step: build the approved relief's restructured plan and contract (its APR within the cap), and
open it for the borrower's acceptance with the task token to resume on."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from lending.adapters import stores
from lending.adapters.hardship import hardship_requests, publisher
from lending.adapters.servicing import servicing_store
from lending.adapters.settings import settings
from lending.catalogue import load_catalogue
from lending.steps.hardship import offer_relief
from lending.steps.inputs import HardshipOfferStep
from lending.steps.offer import capped_catalogue

logger = Logger()
tracer = Tracer()


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@event_parser(model=HardshipOfferStep)
def lambda_handler(event: HardshipOfferStep, context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(request_id=event.request_id)
    catalogue = capped_catalogue(load_catalogue(), settings().rate_cap_annual)
    return offer_relief(
        event.request_id,
        event.task_token,
        event.timeout_seconds,
        requests=hardship_requests(),
        store=servicing_store(),
        catalogue=catalogue,
        rate_cap=catalogue.rate_cap.annual_rate,
        audit=stores.audit(),
        publish=publisher,
    )
