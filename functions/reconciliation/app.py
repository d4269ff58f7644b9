"""The nightly reconciliation (EventBridge schedule): the books of the business day just closed, checked and kept.

``BooksUnbalanced`` (1 when any check fails, else 0) is the metric the template's alarm watches.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Field

from lending.adapters.aws import client
from lending.adapters.reconciliation import reconcile_tables
from lending.adapters.reconciliation_store import ReconciliationStore
from lending.adapters.settings import Settings, settings
from lending.catalogue import load_catalogue
from lending.steps.operations import keep_report, reconciliation_date_for

logger = Logger()
tracer = Tracer()
metrics = Metrics()


class ReconciliationSettings(Settings):
    """What this function is given beyond every function's settings (template.yaml)."""

    reconciliation_table: str = Field(alias="RECONCILIATION_TABLE", min_length=1)


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    day = reconciliation_date_for(event)
    logger.append_keys(close_date=day.isoformat())
    config = settings(ReconciliationSettings)
    dynamodb = client("dynamodb")
    report = reconcile_tables(
        config.loans_table, config.ledger_table, catalogue=load_catalogue(), close_date=day, dynamodb=dynamodb
    )
    summary = keep_report(report, reports=ReconciliationStore(config.reconciliation_table, dynamodb))
    metrics.add_metric(name="BooksUnbalanced", unit=MetricUnit.Count, value=0 if summary["balanced"] else 1)
    if summary["balanced"]:
        logger.info("books balanced", extra=summary)
    else:
        logger.error("books do not balance", extra=summary)
    return summary
