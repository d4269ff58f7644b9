"""Drawdown workflow step: reserve the drawdown's funding from own capital and partner quotas (a pending transfer)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from lending.adapters.servicing import servicing_store
from lending.funding import load_funding_sources
from lending.steps.drawdowns import reserve_drawdown_funding
from lending.steps.inputs import DrawdownStep

logger = Logger()
tracer = Tracer()


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@event_parser(model=DrawdownStep)
def lambda_handler(event: DrawdownStep, context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(loan_id=event.loan_id, drawdown_id=event.drawdown_id)
    return reserve_drawdown_funding(event.loan_id, event.drawdown_id, load_funding_sources(), store=servicing_store())
