"""POST /v1/loans/{loan_id}/hardship and the request's reads and acceptance: a borrower asks for relief, follows
it, reads the restructured plan's contract once approved and accepts exactly that document."""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools import Logger, Metrics, Tracer, event_handler
from aws_lambda_powertools.event_handler.openapi import params
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from lending.adapters import stores
from lending.adapters.hardship import hardship_requests, start_hardship_flow
from lending.adapters.servicing import servicing_store
from lending.adapters.workflow import resume
from lending.api import models
from lending.api.http import borrower_id, language, make_resolver
from lending.catalogue import load_catalogue
from lending.restructuring import ReliefKind
from lending.steps import hardship

logger = Logger()
tracer = Tracer()
metrics = Metrics()
app = make_resolver()


@app.post(
    "/v1/loans/<loan_id>/hardship",
    summary="Ask for hardship relief: a payment holiday or a term extension of 1-6 months",
    responses={
        202: {"description": "asked: an underwriter decides (status UNDER_REVIEW)"},
        404: {"description": "no such loan of the caller's"},
        409: {
            "description": "hardship_in_progress (the loan has a request open), loan_closed, loan_written_off, "
            "relief_not_available (a credit line), or idempotency_conflict (the key used with another body)"
        },
    },
)
def ask(
    loan_id: str,
    request: models.HardshipRequestBody,
    idempotency_key: Annotated[str, params.Header(alias="Idempotency-Key", min_length=1, max_length=255)],
) -> event_handler.Response[models.HardshipAccepted]:
    """The same Idempotency-Key answers the same request; with another body it is 409."""
    logger.append_keys(loan_id=loan_id)
    answer = hardship.request_relief(
        loan_id,
        borrower_id(app),
        ReliefKind(request.kind),
        request.months,
        request.reason,
        idempotency_key,
        store=servicing_store(),
        requests=hardship_requests(),
        catalogue=load_catalogue(),
        audit=stores.audit(),
        start=start_hardship_flow,
    )
    metrics.add_metric(name="HardshipRequested", unit=MetricUnit.Count, value=1)
    return event_handler.Response(
        HTTPStatus.ACCEPTED, content_type="application/json", body=models.HardshipAccepted(**answer)
    )


@app.get(
    "/v1/loans/<loan_id>/hardship/<request_id>",
    summary="A hardship request's status, decision and offer",
    responses={200: {"description": "the request"}, 404: {"description": "no such request on a loan of the caller's"}},
)
def get_request(loan_id: str, request_id: str) -> models.HardshipView:
    request = hardship.owned_request(hardship_requests(), loan_id, request_id, borrower_id(app))
    return hardship.hardship_view(request)


@app.get(
    "/v1/loans/<loan_id>/hardship/<request_id>/contract",
    summary="The restructured plan's contract to accept, once the request is approved",
    responses={
        200: {"description": "the contract, its figures and the hash that accepting it signs"},
        404: {"description": "no such request on a loan of the caller's"},
        409: {"description": "not_awaiting_acceptance (not approved, or declined), or offer_expired"},
    },
)
def get_contract(loan_id: str, request_id: str) -> models.HardshipContractView:
    request = hardship.owned_request(hardship_requests(), loan_id, request_id, borrower_id(app))
    return hardship.contract_view(hardship.offered_contract(request), language(app))


@app.post(
    "/v1/loans/<loan_id>/hardship/<request_id>/acceptance",
    summary="Accept (e-sign) exactly the restructured plan's contract with this hash",
    responses={
        202: {"description": "accepted: the loan is restructured"},
        404: {"description": "no such request on a loan of the caller's"},
        409: {
            "description": "contract_mismatch (not the contract offered), offer_expired, already_accepted "
            "(another contract), or not_awaiting_acceptance"
        },
    },
)
def accept(
    loan_id: str,
    request_id: str,
    body: models.AcceptanceRequest,
    idempotency_key: Annotated[str, params.Header(alias="Idempotency-Key", min_length=1, max_length=255)],
) -> event_handler.Response[models.HardshipAcceptanceView]:
    """Idempotent by nature: the same hash again answers as the first time; another hash is already_accepted."""
    logger.append_keys(loan_id=loan_id)
    requests = hardship_requests()
    request = hardship.owned_request(requests, loan_id, request_id, borrower_id(app))
    accepted = hardship.accept_relief(
        request, body.contract_sha256, requests=requests, audit=stores.audit(), resume=resume
    )
    metrics.add_metric(name="HardshipContractAccepted", unit=MetricUnit.Count, value=1)
    return event_handler.Response(
        HTTPStatus.ACCEPTED, content_type="application/json", body=models.HardshipAcceptanceView(**accepted)
    )


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
