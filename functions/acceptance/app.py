"""GET /v1/applications/{application_id}/contract and POST …/acceptance: the borrower reads the contract for the
approved offer (or less of it) and accepts exactly that document, which resumes the waiting workflow."""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools import Logger, Metrics, Tracer, event_handler
from aws_lambda_powertools.event_handler.openapi import params
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from lending.adapters import stores
from lending.adapters.workflow import resume
from lending.api import models
from lending.api.http import borrower_id, language, make_resolver
from lending.catalogue import load_catalogue
from lending.funding import load_funding_sources
from lending.money import Money
from lending.steps import acceptance, views

logger = Logger()
tracer = Tracer()
metrics = Metrics()
app = make_resolver()


@app.get(
    "/v1/applications/<application_id>/contract",
    summary="The contract to accept for an approved offer, or a smaller amount / shorter term within it",
    responses={
        200: {"description": "the contract, its figures and the hash that accepting it signs"},
        404: {"description": "no such application of the caller's"},
        409: {"description": "no offer open for acceptance (not approved yet, or ended), or the offer expired"},
        422: {"description": "the amount or term is outside the offer or the product"},
    },
)
def get_contract(
    application_id: str,
    amount: Annotated[
        str | None, params.Query(pattern=models.AMOUNT_TEXT, description="up to the offer's limit, e.g. 50000.00")
    ] = None,
    term_months: Annotated[int | None, params.Query(ge=1, le=36, description="shorter than the offer's")] = None,
) -> models.ContractView:
    """The same application, amount, term and day give the same document and hash."""
    logger.append_keys(application_id=application_id)
    applications = stores.applications()
    application = applications.get_owned(application_id, borrower_id(app))
    contract = acceptance.issue_contract(
        application,
        None if amount is None else Money.of(amount),
        term_months,
        applications=applications,
        catalogue=load_catalogue(),
        sources=load_funding_sources(),
    )
    return views.contract_view(application, contract, language(app))


@app.post(
    "/v1/applications/<application_id>/acceptance",
    summary="Accept (e-sign) exactly the contract with this hash",
    responses={
        202: {"description": "accepted: funding and disbursement follow (a line opens)"},
        404: {"description": "no such application of the caller's"},
        409: {
            "description": "contract_mismatch (not a contract issued for it), offer_expired, already_accepted "
            "(another contract), or not_awaiting_acceptance"
        },
    },
)
def accept(
    application_id: str,
    request: models.AcceptanceRequest,
    idempotency_key: Annotated[str, params.Header(alias="Idempotency-Key", min_length=1, max_length=255)],
) -> event_handler.Response[models.AcceptanceView]:
    """Idempotent by nature: accepting the same hash again answers as the first time, whatever the key; another
    hash is already_accepted."""
    logger.append_keys(application_id=application_id)
    accepted = acceptance.accept(
        application_id,
        borrower_id(app),
        request.contract_sha256,
        applications=stores.applications(),
        audit=stores.audit(),
        resume=resume,
        catalogue=load_catalogue(),
        sources=load_funding_sources(),
    )
    metrics.add_metric(name="ContractAccepted", unit=MetricUnit.Count, value=1)
    return event_handler.Response(
        HTTPStatus.ACCEPTED, content_type="application/json", body=models.AcceptanceView(**accepted)
    )


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
