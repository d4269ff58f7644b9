"""GET /v1/reviews and POST /v1/reviews/{application_id}: the underwriters' queue and their decisions, for
applications and (``?kind=hardship``, ids starting hr_) hardship requests."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler.openapi import params
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from lending.adapters import stores
from lending.adapters.hardship import hardship_requests
from lending.adapters.workflow import resume
from lending.api import models
from lending.api.http import make_resolver, require_underwriter
from lending.steps import hardship, underwriting

logger = Logger()
tracer = Tracer()
metrics = Metrics()
app = make_resolver()


@app.get(
    "/v1/reviews",
    summary="Applications (or, with kind=hardship, hardship requests) waiting for an underwriter, oldest first",
    responses={
        200: {"description": "the queue"},
        403: {"description": "the caller is not an underwriter"},
        422: {"description": "kind is neither application nor hardship, or a query parameter it does not take"},
    },
)
def list_reviews(
    kind: Annotated[
        Literal["application", "hardship"],
        params.Query(description="application (the default) or hardship: which queue"),
    ] = "application",
) -> models.ReviewList | models.HardshipReviewList:
    require_underwriter(app)
    unknown = sorted(set(app.current_event.query_string_parameters or {}) - {"kind"})
    if unknown:  # a misspelt ``kind`` would otherwise answer the applications' queue
        raise RequestValidationError(
            [{"loc": ("query", n), "msg": "not a parameter of the queue", "type": "extra_forbidden"} for n in unknown]
        )
    if kind == "hardship":
        return models.HardshipReviewList(reviews=[hardship.review_item(r) for r in hardship_requests().queue()])
    queue = stores.applications().review_queue()
    return models.ReviewList(reviews=[underwriting.review_item(a) for a in queue])


@app.post(
    "/v1/reviews/<application_id>",
    summary="Approve or decline a referred application (once)",
    responses={
        200: {"description": "decided: the workflow resumes"},
        403: {
            "description": "the caller is not an underwriter, or maker_checker_violation (the person who raised a "
            "hardship request may not decide it)"
        },
        404: {"description": "no such application (or hardship request)"},
        409: {"description": "it is not waiting for a review (already decided, or never referred)"},
    },
)
def decide(application_id: str, request: models.ReviewDecision) -> dict[str, str]:
    """An application's id starts app_, a hardship request's hr_: the same decision either way."""
    underwriter = require_underwriter(app)
    if hardship.is_request_id(application_id):
        decided = hardship.decide(
            application_id,
            request.decision,
            request.note,
            underwriter,
            requests=hardship_requests(),
            audit=stores.audit(),
            resume=resume,
        )
        metrics.add_metric(name=f"HardshipUnderwriter{request.decision.title()}", unit=MetricUnit.Count, value=1)
        return decided
    result = underwriting.decide_review(
        application_id,
        request,
        underwriter,
        applications=stores.applications(),
        audit=stores.audit(),
        resume=resume,
    )
    metrics.add_metric(name=f"Underwriter{request.decision.title()}", unit=MetricUnit.Count, value=1)
    return {"application_id": result["application_id"], "status": str(result["status"])}


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
