"""The daily close (EventBridge schedule): age every loan due or overdue through the day, from the due-date index."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Field

from lending.adapters.ledger_store import ConcurrentChange
from lending.adapters.servicing import publish_warning, servicing_store
from lending.adapters.settings import Settings, settings
from lending.catalogue import load_catalogue
from lending.steps.servicing import close_date_for, close_loan

logger = Logger()
tracer = Tracer()
metrics = Metrics()


class DailyCloseSettings(Settings):
    """What this function is given beyond every function's settings (template.yaml)."""

    event_bus_name: str = Field(alias="EVENT_BUS_NAME", min_length=1)


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    day = close_date_for(event)
    logger.append_keys(close_date=day.isoformat())
    store = servicing_store()
    catalogue = load_catalogue()
    bus = settings(DailyCloseSettings).event_bus_name
    read = changed = warned = 0
    for loan_id in store.due(day):
        outcome = close_loan(
            loan_id,
            day,
            store=store,
            catalogue=catalogue,
            warn=lambda warning: publish_warning(bus, warning),
            conflict=ConcurrentChange,
        )
        read += 1
        changed += int(outcome["changed"])
        warned += int(outcome["warned"])
    metrics.add_metric(name="LoansAged", unit=MetricUnit.Count, value=changed)
    metrics.add_metric(name="EarlyWarnings", unit=MetricUnit.Count, value=warned)
    summary = {"close_date": day.isoformat(), "loans_read": read, "loans_changed": changed, "warnings": warned}
    logger.info("day closed", extra=summary)
    return summary
