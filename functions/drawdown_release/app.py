"""Drawdown compensation: void the funding hold and free the limit of a drawdown that could not be paid out."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from lending.adapters.servicing import servicing_store
from lending.steps.drawdowns import release_drawdown
from lending.steps.inputs import DrawdownRelease

logger = Logger()
tracer = Tracer()


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@event_parser(model=DrawdownRelease)
def lambda_handler(event: DrawdownRelease, context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(loan_id=event.loan_id, drawdown_id=event.drawdown_id)
    error = event.error or {}
    reason = str(error.get("Error") or "payout_failed")
    return release_drawdown(event.loan_id, event.drawdown_id, reason, store=servicing_store())
