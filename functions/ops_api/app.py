"""GET /v1/ops/...: the operations API (group ``operations``): funding sources, the kept nightly reconciliation,
and any loan with its borrower's personal data masked.

A route is added with ``@app.get`` (or ``app.post``) and begins with ``require_operations(app)``; its path goes
into the template's ``Events`` of this function.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.event_handler.openapi import params
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Field

from lending.adapters import stores
from lending.adapters.aws import client
from lending.adapters.pii import decrypt_fields
from lending.adapters.reconciliation_store import ReconciliationStore
from lending.adapters.settings import WarningsSettings, settings
from lending.adapters.warnings import warning_store
from lending.api import models, ops_models, risk_models
from lending.api.http import HttpError, make_resolver, require_operations
from lending.bookkeeping import funding_source
from lending.catalogue import load_catalogue
from lending.funding import load_funding_sources
from lending.steps import operations

logger = Logger()
tracer = Tracer()
app = make_resolver()

FORBIDDEN = {403: {"description": "the caller is not in the operations group"}}
NO_QUERY = {422: {"description": "a query parameter was given: this route takes none"}}


class OpsApiSettings(WarningsSettings):
    """What this function is given beyond every function's settings (template.yaml)."""

    reconciliation_table: str = Field(alias="RECONCILIATION_TABLE", min_length=1)


def _reports() -> ReconciliationStore:
    return ReconciliationStore(settings(OpsApiSettings).reconciliation_table, client("dynamodb"))


def _only_query(*allowed: str) -> None:
    """Refuse a query parameter the route does not take (a misspelt ``dat`` would otherwise answer the latest)."""
    unknown = sorted(set(app.current_event.query_string_parameters or {}) - set(allowed))
    if unknown:
        raise RequestValidationError(
            [{"loc": ("query", n), "msg": "not a parameter of this route", "type": "extra_forbidden"} for n in unknown]
        )


@app.get(
    "/v1/ops/funding",
    summary="Each funding source's quota, posted, reserved and available; the co-lending shares of the book",
    responses={
        200: {"description": "the sources now; the book's shares as of the latest reconciliation"},
        **FORBIDDEN,
        **NO_QUERY,
    },
)
def get_funding() -> ops_models.FundingView:
    """One read of the sources' ledger balances and one of the latest kept report: the same calls for any book."""
    require_operations(app)
    _only_query()
    sources = load_funding_sources()
    accounts = [funding_source(source) for source in sources.quotas()]
    balances = {account.key: found for account, found in stores.ledger().balances(accounts).items()}
    return operations.funding_view(sources, balances, _reports().latest())


@app.get(
    "/v1/ops/reconciliation",
    summary="The nightly reconciliation report kept for a business day",
    responses={
        200: {"description": "the report: balanced, and every check with its differences"},
        **FORBIDDEN,
        404: {"description": "report_not_found: no report is kept for that day"},
        422: {"description": "date is not a date (YYYY-MM-DD), or another parameter was given"},
    },
)
def get_reconciliation(
    day: Annotated[
        models.DateText | None,
        params.Query(alias="date", description="YYYY-MM-DD: the business day (default: the latest kept)"),
    ] = None,
) -> ops_models.ReconciliationView:
    require_operations(app)
    _only_query("date")
    return operations.reconciliation_view(day, reports=_reports())


@app.get(
    "/v1/ops/loans/<loan_id>",
    summary="Any borrower's loan as operations sees it, personal data masked",
    responses={
        200: {"description": "the loan as of today, its class, provision and funding, the borrower masked"},
        **FORBIDDEN,
        404: {"description": "no such loan"},
        **NO_QUERY,
    },
)
def get_loan(loan_id: str) -> ops_models.OpsLoanView:
    require_operations(app)
    _only_query()
    return operations.ops_loan_view(
        loan_id,
        loans=stores.loans(),
        applications=stores.applications(),
        decrypt=decrypt_fields,
        catalogue=load_catalogue(),
        warnings=warning_store(settings(OpsApiSettings).warnings_table).for_loan,
    )


@app.get(
    "/v1/ops/portfolio",
    summary="The portfolio as a night's close left it: status, product, industry, buckets, the five categories "
    "with provisions, roll rates and vintage curves",
    responses={
        200: {"description": "the snapshot of that day (default: the latest)"},
        **FORBIDDEN,
        404: {"description": "snapshot_not_found: no close has kept a snapshot for that day"},
        422: {"description": "date is not a date (YYYY-MM-DD), or another parameter was given"},
    },
)
def get_portfolio(
    day: Annotated[
        models.DateText | None,
        params.Query(alias="date", description="YYYY-MM-DD: the business day (default: the latest kept)"),
    ] = None,
) -> risk_models.PortfolioView:
    """One read of the day's snapshot, whatever the size of the book (the close keeps it from running figures)."""
    require_operations(app)
    _only_query("date")
    snapshot = stores.portfolio().snapshot(day)
    if snapshot is None:
        raise HttpError(HTTPStatus.NOT_FOUND, "snapshot_not_found", "no portfolio snapshot is kept for that day")
    rates = load_catalogue().classification.provision_rates
    return risk_models.PortfolioView(**snapshot, provision_rates={str(k): str(v) for k, v in rates.items()})


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
