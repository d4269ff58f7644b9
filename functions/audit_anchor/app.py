"""The daily audit seal (EventBridge schedule): every chain's head into one Merkle root in the write-once bucket."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Field

from lending import clock
from lending.adapters import stores
from lending.adapters.aws import client
from lending.adapters.seal_store import S3SealStore
from lending.adapters.settings import Settings, settings
from lending.steps.anchoring import seal_date_for, seal_day

logger = Logger()
tracer = Tracer()
metrics = Metrics()


class AnchorSettings(Settings):
    """What this function is given beyond every function's settings (template.yaml)."""

    anchor_bucket: str = Field(alias="ANCHOR_BUCKET", min_length=1)


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    day = seal_date_for(event)
    logger.append_keys(seal_date=day.isoformat())
    seals = S3SealStore(settings(AnchorSettings).anchor_bucket, client("s3"))
    summary = seal_day(day, clock.now(), chains=stores.audit(), seals=seals)
    metrics.add_metric(name="ChainsSealed", unit=MetricUnit.Count, value=summary["chains"])
    metrics.add_metric(name="AnchorsWritten", unit=MetricUnit.Count, value=summary["anchors_written"])
    logger.info("audit chains sealed", extra=summary)
    return summary
