"""Workflow step: reserve the loan's funding from own capital and partner quotas (a pending transfer)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from lending.adapters import stores
from lending.bookkeeping import funding_in_use
from lending.funding import allocate_funding, load_funding_sources
from lending.money import Money
from lending.steps.inputs import ApplicationStep
from lending.steps.money import reserve_funding

logger = Logger()
tracer = Tracer()


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@event_parser(model=ApplicationStep)
def lambda_handler(event: ApplicationStep, context: LambdaContext) -> dict[str, Any]:
    application_id = event.application_id
    logger.append_keys(application_id=application_id)
    applications = stores.applications()
    ledger = stores.ledger()
    sources = load_funding_sources()
    quotas = sources.quotas()

    def choose_shares() -> dict[str, Money]:
        principal = Money.of(applications.get(application_id)["offer"]["limit"])
        return allocate_funding(principal, sources, funding_in_use(ledger, quotas))

    return reserve_funding(
        application_id,
        choose_shares,
        quotas,
        applications=applications,
        audit=stores.audit(),
        ledger=ledger,
    )
