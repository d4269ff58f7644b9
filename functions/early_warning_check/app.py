"""EarlyWarningFlow step: re-check a batch of open loans against fresh bank, tax, bureau and electricity data."""

from __future__ import annotations

from datetime import date
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Field

from lending.adapters import stores
from lending.adapters.pii import decrypt_fields
from lending.adapters.servicing import servicing_store
from lending.adapters.settings import WarningsSettings, settings
from lending.adapters.vendors.bank_data import BankDataClient
from lending.adapters.vendors.bureau import CreditBureauClient
from lending.adapters.vendors.electricity import ElectricityDataClient
from lending.adapters.warnings import notify_borrower, publish_early_warning, warning_store
from lending.catalogue import load_catalogue
from lending.risk.policy import load_policy
from lending.steps.early_warning import recheck_batch
from lending.steps.inputs import WarningBatch

logger = Logger()
tracer = Tracer()
metrics = Metrics()


class EarlyWarningCheckSettings(WarningsSettings):
    """What this function is given beyond every function's settings (template.yaml)."""

    bank_data_url: str = Field(alias="BANK_DATA_URL", min_length=1)
    credit_bureau_url: str = Field(alias="CREDIT_BUREAU_URL", min_length=1)
    electricity_data_url: str = Field(alias="ELECTRICITY_DATA_URL", min_length=1)
    event_bus_name: str = Field(alias="EVENT_BUS_NAME", min_length=1)
    notifications_topic_arn: str = Field(alias="NOTIFICATIONS_TOPIC_ARN", min_length=1)


def _failed(loan_id: str, exc: Exception) -> None:
    logger.warning("re-check failed for a loan", extra={"loan_id": loan_id, "error": type(exc).__name__})


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
@event_parser(model=WarningBatch)
def lambda_handler(event: WarningBatch, context: LambdaContext) -> dict[str, Any]:
    config = settings(EarlyWarningCheckSettings)
    summary = recheck_batch(
        event.loan_ids,
        date.fromisoformat(f"{event.month}-01"),
        store=servicing_store(),
        applications=stores.applications(),
        decrypt=decrypt_fields,
        bank_data=BankDataClient(config.bank_data_url),
        bureau=CreditBureauClient(config.credit_bureau_url),
        electricity=ElectricityDataClient(config.electricity_data_url),
        warnings=warning_store(config.warnings_table),
        publish=lambda warning: publish_early_warning(config.event_bus_name, warning),
        notify=lambda notice: notify_borrower(config.notifications_topic_arn, notice),
        catalogue=load_catalogue(),
        policy=load_policy(),
        on_failure=_failed,
    )
    metrics.add_metric(name="EarlyWarnings", unit=MetricUnit.Count, value=summary["warnings"])
    logger.info("batch re-checked", extra=summary)
    return summary
