"""Drawdown workflow step: disburse the drawdown through the payout provider, exactly once whatever retries happen."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from lending.adapters import stores
from lending.adapters.pii import decrypt_fields
from lending.adapters.servicing import servicing_store
from lending.adapters.settings import PayoutSettings, settings
from lending.adapters.vendors.payouts import PayoutClient
from lending.steps.drawdowns import disburse_drawdown
from lending.steps.inputs import DrawdownStep

logger = Logger()
tracer = Tracer()
metrics = Metrics()


def _application_pii(application_id: str) -> tuple[str, dict[str, Any]]:
    """The encrypted personal data of the line's application (the bank account the line pays out to)."""
    return application_id, stores.applications().get(application_id)["pii"]


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
@event_parser(model=DrawdownStep)
def lambda_handler(event: DrawdownStep, context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(loan_id=event.loan_id, drawdown_id=event.drawdown_id)
    payout = disburse_drawdown(
        event.loan_id,
        event.drawdown_id,
        store=servicing_store(),
        payouts=PayoutClient(settings(PayoutSettings).payout_provider_url),
        decrypt=decrypt_fields,
        pii=_application_pii,
    )
    metrics.add_metric(name="DrawdownDisbursed", unit=MetricUnit.Count, value=1)
    return payout
