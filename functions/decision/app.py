"""Workflow step: policy rules, score cut-offs and the business assessment into approve, decline or refer."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from lending.adapters import stores
from lending.adapters.pii import decrypt_fields
from lending.adapters.settings import settings
from lending.catalogue import load_catalogue
from lending.risk.policy import load_policy
from lending.steps.assessment import make_decision
from lending.steps.inputs import DecisionStep
from lending.steps.offer import capped_catalogue

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
@event_parser(model=DecisionStep)
def lambda_handler(event: DecisionStep, context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(application_id=event.application_id)
    config = settings()
    decision = make_decision(
        event.application_id,
        event.identity,
        applications=stores.applications(),
        audit=stores.audit(),
        decrypt=decrypt_fields,
        catalogue=capped_catalogue(load_catalogue(), config.rate_cap_annual),
        policy=load_policy(),
    )
    metrics.add_metric(name=f"Decision{decision.outcome.value.title()}", unit=MetricUnit.Count, value=1)
    return {"outcome": decision.outcome.value, "rule": decision.rule.value}
