"""Drawdown workflow step: reserve the drawdown's funding from own capital and partner quotas (a pending transfer)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from lending.adapters.ledger_store import ConcurrentChange
from lending.adapters.servicing import servicing_store
from lending.bookkeeping import funding_in_use
from lending.funding import allocate_funding, load_funding_sources
from lending.money import Money
from lending.steps.inputs import DrawdownStep
from lending.steps.servicing import reserve_drawdown_funding

logger = Logger()
tracer = Tracer()


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@event_parser(model=DrawdownStep)
def lambda_handler(event: DrawdownStep, context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(loan_id=event.loan_id, drawdown_id=event.drawdown_id)
    store = servicing_store()
    sources = load_funding_sources()
    quotas = sources.quotas()

    def choose_shares(amount: Money) -> dict[str, Money]:
        return allocate_funding(amount, sources, funding_in_use(store.ledger, quotas))

    return reserve_drawdown_funding(
        event.loan_id, event.drawdown_id, choose_shares, quotas, store=store, conflict=ConcurrentChange
    )
