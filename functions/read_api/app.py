"""GET applications, loans and audit trails for their owner; the OpenAPI document of the whole API."""

from __future__ import annotations

from http import HTTPStatus
from importlib import resources
from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from lending.adapters import stores
from lending.api.http import UNDERWRITERS, borrower_id, groups, make_resolver
from lending.api.models import ApplicationView, AuditView, LoanView
from lending.steps.views import application_view, audit_view, loan_view

logger = Logger()
tracer = Tracer()
app = make_resolver()


@app.get("/v1/applications/<application_id>", summary="An application's status, decision and offer")
def get_application(application_id: str) -> ApplicationView:
    """The borrower's own application; anyone else's answers 404, exactly as if it did not exist."""
    application = stores.applications().get_owned(application_id, borrower_id(app))
    return application_view(application)


@app.get("/v1/loans/<loan_id>", summary="A loan's balances, status and schedule")
def get_loan(loan_id: str) -> LoanView:
    """The borrower's own loan or line; anyone else's answers 404."""
    loan = stores.loans().get_owned(loan_id, borrower_id(app))
    return loan_view(loan, stores.ledger())


@app.get("/v1/loans/<loan_id>/audit", summary="The loan's and its application's audit trail, verified")
def get_loan_audit(loan_id: str) -> AuditView:
    """For the borrower who owns the loan, or an underwriter: every event in order, with the chain verified."""
    loans = stores.loans()
    loan = loans.get(loan_id) if UNDERWRITERS in groups(app) else loans.get_owned(loan_id, borrower_id(app))
    events = stores.audit().events(loan["application_id"])
    return audit_view(loan_id, events)


@app.get("/v1/openapi.json", summary="The OpenAPI document of this API", include_in_schema=False)
def openapi() -> Response[str]:
    """The document generated from every function's routes at build time (``lending api openapi``)."""
    document = resources.files("lending.api").joinpath("openapi.json").read_text()
    return Response(HTTPStatus.OK, content_type="application/json", body=document)


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
