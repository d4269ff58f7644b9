"""GET applications, loans and audit trails for their owner; the OpenAPI document of the whole API."""

from __future__ import annotations

from http import HTTPStatus
from importlib import resources
from typing import Annotated, Any

from aws_lambda_powertools import Logger, Tracer, event_handler
from aws_lambda_powertools.event_handler.openapi import params
from aws_lambda_powertools.utilities.parameters import get_secret
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Field

from lending.adapters import listing, stores
from lending.adapters.settings import Settings, settings
from lending.api import cursors, models, paging
from lending.api.http import HttpError, borrower_id, groups, make_resolver
from lending.catalogue import load_catalogue
from lending.serviced_loan import ServicedLoan
from lending.steps import lists, views

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


# ---- the borrower's lists: their applications and loans (one index query a page), a loan's transactions and a
# line's statements (derived from the loan item by lending.history; one read of the loan)


class ReadApiSettings(Settings):
    """What this function is given beyond every function's settings (template.yaml)."""

    list_cursor_secret_arn: str = Field(alias="LIST_CURSOR_SECRET_ARN", min_length=1)


def _cursor_secret() -> bytes:
    return str(get_secret(settings(ReadApiSettings).list_cursor_secret_arn, max_age=300)).encode()


def _scope(list_name: str, loan_id: str = "") -> str:
    """Which list a cursor belongs to: the list, the caller, and the loan for a loan's lists."""
    return f"{list_name}\n{borrower_id(app)}\n{loan_id}"


def _after(cursor: str | None, scope: str) -> dict[str, str | int] | None:
    paging.only_paging((app.current_event.query_string_parameters or {}).keys())
    return paging.position(cursor, scope=scope, secret=_cursor_secret())


def _next(position: dict[str, str] | dict[str, int] | None, scope: str) -> str | None:
    return None if position is None else cursors.encode(position, scope=scope, secret=_cursor_secret())


LimitQuery = Annotated[int, params.Query(ge=1, le=100, description="items per page: 1–100 (default 20)")]
CursorQuery = Annotated[
    str | None, params.Query(min_length=1, max_length=1024, description="the previous page's next, as given (opaque)")
]


@app.get(
    "/v1/applications",
    summary="The borrower's applications, newest first",
    responses={
        200: {"description": "a page of the caller's applications"},
        422: {"description": "limit is not 1–100, or cursor is not this list's"},
    },
)
def list_applications(limit: LimitQuery = 20, cursor: CursorQuery = None) -> models.ApplicationList:
    """The caller's own applications, newest first: one query of the borrower's index a page."""
    scope = _scope("applications")
    after = paging.key_after(_after(cursor, scope))
    records, following = listing.page(
        settings().applications_table, listing.APPLICATIONS, borrower_id(app), limit, after
    )
    return models.ApplicationList(items=[lists.application_summary(r) for r in records], next=_next(following, scope))


@app.get(
    "/v1/loans",
    summary="The borrower's loans and lines with their balances, newest first",
    responses={
        200: {"description": "a page of the caller's loans, as of today"},
        422: {"description": "limit is not 1–100, or cursor is not this list's"},
    },
)
def list_loans(limit: LimitQuery = 20, cursor: CursorQuery = None) -> models.LoanList:
    """The caller's own loans and lines, newest first, each as of today: one query of the borrower's index a page
    (the index holds each loan whole, so no loan is read again)."""
    scope = _scope("loans")
    after = paging.key_after(_after(cursor, scope))
    records, following = listing.page(settings().loans_table, listing.LOANS, borrower_id(app), limit, after)
    catalogue = load_catalogue()
    return models.LoanList(items=[lists.loan_summary(r, catalogue) for r in records], next=_next(following, scope))


@app.get(
    "/v1/loans/<loan_id>/transactions",
    summary="Every money movement on a loan, oldest first",
    responses={
        200: {"description": "a page of the loan's movements, each with the balances after it"},
        404: {"description": "no such loan of the caller's"},
        422: {"description": "limit is not 1–100, or cursor is not this list's"},
    },
)
def list_transactions(loan_id: str, limit: LimitQuery = 20, cursor: CursorQuery = None) -> models.TransactionList:
    """Disbursement or drawdowns, interest, fees and penalty as they became owed, repayments with their split; derived
    from the loan's events by the servicing replay and the ledger transactions it books (lending.history)."""
    scope = _scope("transactions", loan_id)
    offset = paging.offset_after(_after(cursor, scope))
    loan = _owned_loan(loan_id)
    page, following = lists.offset_page(lists.loan_transactions(loan, load_catalogue()), limit, offset)
    return models.TransactionList(items=page, next=_next(None if following is None else {"offset": following}, scope))


@app.get(
    "/v1/loans/<loan_id>/statements",
    summary="A credit line's monthly statements, newest first",
    responses={
        200: {"description": "a page of the line's statements"},
        404: {"description": "no such loan of the caller's"},
        409: {"description": "not_a_line: an instalment loan has a schedule (GET /v1/loans/{loan_id}), not statements"},
        422: {"description": "limit is not 1–100, or cursor is not this list's"},
    },
)
def list_statements(loan_id: str, limit: LimitQuery = 20, cursor: CursorQuery = None) -> models.StatementList:
    """Each statement date's period, opening and closing balances, interest, minimum due and due date."""
    scope = _scope("statements", loan_id)
    offset = paging.offset_after(_after(cursor, scope))
    loan = _owned_loan(loan_id)
    catalogue = load_catalogue()
    if not lists.is_line(loan, catalogue):
        raise HttpError(HTTPStatus.CONFLICT, "not_a_line", "an instalment loan has a schedule, not statements")
    page, following = lists.offset_page(lists.line_statements(loan, catalogue), limit, offset)
    return models.StatementList(items=page, next=_next(None if following is None else {"offset": following}, scope))


@app.get(
    "/v1/loans/<loan_id>/repayments",
    summary="The loan's repayments from every source, newest first",
    responses={
        200: {"description": "one page of repayments (app, auto-debit, provider-pushed)"},
        404: {"description": "no such loan of the caller's"},
        422: {"description": "limit is not 1–100, or cursor is not this list's"},
    },
)
def list_repayments(loan_id: str, limit: LimitQuery = 20, cursor: CursorQuery = None) -> models.RepaymentList:
    """Every repayment of the borrower's own loan, with its status; anyone else's loan answers 404."""
    from lending.adapters.repayments import repayment_store
    from lending.steps.collections import list_repayments as repayments_page

    scope = _scope("repayments", loan_id)
    items, following = repayments_page(
        loan_id,
        borrower_id(app),
        limit=limit,
        after=paging.key_after(_after(cursor, scope)),
        loans=stores.loans().get_owned,
        repayments=repayment_store(),
    )
    return models.RepaymentList.model_validate({"items": items, "next": _next(following, scope)})


# ---- end of the borrower's lists


@app.get("/v1/openapi.json", summary="The OpenAPI document of this API", include_in_schema=False)
def openapi() -> event_handler.Response[str]:
    """The document generated from every function's routes at build time (``python -m infra.local.openapi``)."""
    document = resources.files("lending.api").joinpath("openapi.json").read_text()
    return event_handler.Response(HTTPStatus.OK, content_type="application/json", body=document)


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
