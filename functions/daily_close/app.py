"""The daily close (EventBridge schedule): age every loan due or overdue through the day, from the due-date index."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Field

from lending import clock
from lending.adapters import stores
from lending.adapters.servicing import EventBatch, publish_warning, servicing_store
from lending.adapters.settings import WarningsSettings, settings
from lending.adapters.warnings import warning_store
from lending.catalogue import load_catalogue
from lending.early_warning import delinquency_warning
from lending.steps.daily_close import close_date_for, close_day, snapshot_day

logger = Logger()
tracer = Tracer()
metrics = Metrics()


class DailyCloseSettings(WarningsSettings):
    """What this function is given beyond every function's settings (template.yaml)."""

    event_bus_name: str = Field(alias="EVENT_BUS_NAME", min_length=1)


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    day = close_date_for(event)
    logger.append_keys(close_date=day.isoformat())
    config = settings(DailyCloseSettings)
    warnings = warning_store(config.warnings_table)

    def warn(warning: dict[str, Any]) -> None:
        # Kept for operations (GET /v1/ops/warnings) beside the event; both are idempotent by the warning's id.
        warnings.record(delinquency_warning(warning, clock.now()).to_record())
        publish_warning(config.event_bus_name, warning)

    announcements = EventBatch(config.event_bus_name)
    try:
        summary: dict[str, Any] = close_day(
            day, store=servicing_store(), catalogue=load_catalogue(), warn=warn, announce=announcements.add
        )
    finally:
        announcements.flush()  # what was decided and written is announced, even if a later loan failed
    # After every loan of the day: the portfolio as the day left it.
    snapshot = snapshot_day(day, portfolio=stores.portfolio(), catalogue=load_catalogue())
    summary["portfolio_loans"] = snapshot["loans"]
    metrics.add_metric(name="LoansAged", unit=MetricUnit.Count, value=summary["loans_changed"])
    metrics.add_metric(name="EarlyWarnings", unit=MetricUnit.Count, value=summary["warnings"])
    metrics.add_metric(name="LoansClassified", unit=MetricUnit.Count, value=summary["classified"])
    metrics.add_metric(name="LoansWrittenOff", unit=MetricUnit.Count, value=summary["written_off"])
    logger.info("day closed", extra=summary)
    return summary
