"""Auto-debit and reminders (EventBridge schedule, after the nightly close): collect what is due from every loan due
today or on a retry day, and remind borrowers before, on and after their due dates, from the due-date index."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Field

from lending.adapters.collections_wiring import bound_account, collection_client, loans_due_on, publish_reminder
from lending.adapters.repayments import repayment_store
from lending.adapters.servicing import servicing_store
from lending.adapters.settings import CollectorSettings, settings
from lending.catalogue import load_catalogue
from lending.steps.collections import collection_date_for, run_auto_debit

logger = Logger()
tracer = Tracer()
metrics = Metrics()


class AutoDebitSettings(CollectorSettings):
    """What this function is given beyond a collecting function's settings (template.yaml)."""

    notifications_topic_arn: str = Field(alias="NOTIFICATIONS_TOPIC_ARN", min_length=1)


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    day = collection_date_for(event)
    logger.append_keys(collection_date=day.isoformat())
    config = settings(AutoDebitSettings)
    summary = run_auto_debit(
        day,
        store=servicing_store(),
        due_on=lambda on: loans_due_on(config.loans_table, on),
        repayments=repayment_store(),
        collector=collection_client(config.collection_provider_url),
        bank_account=bound_account,
        catalogue=load_catalogue(),
        notify_url=config.payments_webhook_url,
        publish=lambda message: publish_reminder(config.notifications_topic_arn, message),
    )
    metrics.add_metric(name="CollectionsAsked", unit=MetricUnit.Count, value=summary.get("collections_asked", 0))
    metrics.add_metric(name="RemindersSent", unit=MetricUnit.Count, value=summary["reminders_sent"])
    logger.info("auto-debit run", extra=summary)
    return summary
