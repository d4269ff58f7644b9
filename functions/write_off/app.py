"""POST /v1/ops/loans/{loan_id}/write-off and …/write-off/decision: writing a loan off by hand, maker-checker.

One operator asks, with a reason; another confirms (the loan is written off that day: every receivable off the
book, later payments recoveries) or rejects. The operator who asked can do neither (403 ``maker_checker_violation``).
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Field

from lending.adapters.servicing import publish_event, servicing_store
from lending.adapters.settings import Settings, settings
from lending.api.http import make_resolver, require_operations
from lending.api.risk_models import WriteOffDecision, WriteOffRequest, WriteOffView
from lending.catalogue import load_catalogue
from lending.steps.write_offs import decide_write_off, request_write_off

logger = Logger()
tracer = Tracer()
metrics = Metrics()
app = make_resolver()

REFUSED = {
    403: {"description": "forbidden (not an operator), or maker_checker_violation (the one who asked cannot decide)"},
    404: {"description": "no such loan"},
}


class WriteOffSettings(Settings):
    """What this function is given beyond every function's settings (template.yaml)."""

    event_bus_name: str = Field(alias="EVENT_BUS_NAME", min_length=1)


@app.post(
    "/v1/ops/loans/<loan_id>/write-off",
    summary="Ask for a loan to be written off (another operator confirms)",
    responses={
        202: {"description": "the request waits for another operator's confirmation"},
        **REFUSED,
        409: {"description": "write_off_refused: the loan is not active, or a write-off waits already"},
    },
)
def ask(loan_id: str, request: WriteOffRequest) -> Response[WriteOffView]:
    operator = require_operations(app)
    answer = request_write_off(loan_id, request.reason, operator, store=servicing_store())
    metrics.add_metric(name="WriteOffsRequested", unit=MetricUnit.Count, value=1)
    return Response(HTTPStatus.ACCEPTED, content_type="application/json", body=WriteOffView(**answer))


@app.post(
    "/v1/ops/loans/<loan_id>/write-off/decision",
    summary="Confirm or reject a waiting write-off (never by the operator who asked)",
    responses={
        200: {"description": "decided: WRITTEN_OFF, or the loan as it was after a rejection"},
        **REFUSED,
        409: {"description": "no_write_off_pending, or write_off_refused (the loan was repaid meanwhile)"},
    },
)
def decide(loan_id: str, request: WriteOffDecision) -> WriteOffView:
    operator = require_operations(app)
    confirm = request.decision == "confirm"
    answer = decide_write_off(
        loan_id, confirm, request.note, operator, store=servicing_store(), catalogue=load_catalogue()
    )
    if confirm:
        detail = {"event_id": f"{loan_id}/written_off", "loan_id": loan_id, "reason": "by_hand", **answer}
        publish_event(settings(WriteOffSettings).event_bus_name, "LoanWrittenOff", detail)
        metrics.add_metric(name="WriteOffsConfirmed", unit=MetricUnit.Count, value=1)
    return WriteOffView(**answer)


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
