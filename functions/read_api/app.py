"""GET applications, loans and audit trails for their owner; the OpenAPI document of the whole API."""

from __future__ import annotations

from http import HTTPStatus
from importlib import resources
from typing import Annotated, Any

from aws_lambda_powertools import Logger, Tracer, event_handler
from aws_lambda_powertools.event_handler.openapi import params
from aws_lambda_powertools.utilities.typing import LambdaContext

from lending.adapters import stores
from lending.api import models
from lending.api.http import borrower_id, groups, make_resolver
from lending.catalogue import load_catalogue
from lending.serviced_loan import ServicedLoan
from lending.steps import views

logger = Logger()
tracer = Tracer()
app = make_resolver()


@app.get(
    "/v1/applications/<application_id>",
    summary="An application's status, decision and offer",
    responses={200: {"description": "the application"}, 404: {"description": "no such application of the caller's"}},
)
def get_application(application_id: str) -> models.ApplicationView:
    """The borrower's own application; anyone else's answers 404, exactly as if it did not exist."""
    application = stores.applications().get_owned(application_id, borrower_id(app))
    return views.application_view(application)


def _owned_loan(loan_id: str) -> ServicedLoan:
    """The caller's loan with its servicing state; anyone else's answers 404, exactly as if it did not exist."""
    return ServicedLoan.parse(stores.loans().get_owned(loan_id, borrower_id(app)))


@app.get(
    "/v1/loans/<loan_id>",
    summary="A loan's balances, status and schedule",
    responses={200: {"description": "the loan as of today"}, 404: {"description": "no such loan of the caller's"}},
)
def get_loan(loan_id: str) -> models.LoanView:
    """The borrower's own loan or line, as of today; anyone else's answers 404."""
    loan = _owned_loan(loan_id)
    return views.loan_view(loan.record, views.position_on(loan, load_catalogue()))


@app.get(
    "/v1/loans/<loan_id>/payoff",
    summary="What repays the whole loan on a date",
    responses={
        200: {"description": "the payoff on that date"},
        404: {"description": "no such loan of the caller's"},
        422: {"description": "the date is not a date, or is before today"},
    },
)
def get_payoff(
    loan_id: str,
    on: Annotated[
        models.DateText, params.Query(alias="date", description="YYYY-MM-DD: today (China's business date) or later")
    ],
) -> models.PayoffView:
    """Today or a later date: principal, the interest and fees the product asks for on that date, and penalty."""
    return views.payoff(loan_id, on, load=_owned_loan, catalogue=load_catalogue())


@app.get(
    "/v1/loans/<loan_id>/audit",
    summary="The loan's and its application's audit trail, verified",
    responses={
        200: {"description": "the events in order, and whether the chain verifies"},
        404: {"description": "no such loan of the caller's (any loan, for an underwriter)"},
    },
)
def get_loan_audit(loan_id: str) -> models.AuditView:
    """For the borrower who owns the loan, or an underwriter: every event in order, with the chain verified."""
    return views.loan_audit(
        loan_id, reader=borrower_id(app), groups=groups(app), loans=stores.loans(), audit=stores.audit()
    )


@app.get("/v1/openapi.json", summary="The OpenAPI document of this API", include_in_schema=False)
def openapi() -> event_handler.Response[str]:
    """The document generated from every function's routes at build time (``python -m infra.local.openapi``)."""
    document = resources.files("lending.api").joinpath("openapi.json").read_text()
    return event_handler.Response(HTTPStatus.OK, content_type="application/json", body=document)


@app.get(
    "/v1/loans/<loan_id>/repayments",
    summary="The loan's repayments from every source, newest first",
    responses={
        200: {"description": "one page of repayments (app, auto-debit, provider-pushed) and the next page's cursor"},
        404: {"description": "no such loan of the caller's"},
        422: {"description": "limit outside 1-100, or a cursor this list did not give"},
    },
)
def list_repayments(
    loan_id: str,
    limit: Annotated[int, params.Query(ge=1, le=100, description="items per page")] = 20,
    cursor: Annotated[str | None, params.Query(max_length=2048, description="the previous page's next")] = None,
) -> models.RepaymentList:
    """Every repayment of the borrower's own loan, with its status; anyone else's loan answers 404."""
    from lending.adapters.repayments import repayment_store
    from lending.steps.collections import list_repayments as repayments_page

    page = repayments_page(
        loan_id,
        borrower_id(app),
        limit=limit,
        cursor=cursor,
        loans=stores.loans().get_owned,
        repayments=repayment_store(),
    )
    return models.RepaymentList.model_validate(page)


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
