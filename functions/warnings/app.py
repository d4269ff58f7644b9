"""GET /v1/ops/warnings: the early warnings, newest first, for operations."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.event_handler.openapi import params
from aws_lambda_powertools.utilities.parameters import get_secret
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Field

from lending.adapters.settings import WarningsSettings, settings
from lending.adapters.warnings import warning_store
from lending.api import cursors, models, paging
from lending.api.http import make_resolver, require_operations

logger = Logger()
tracer = Tracer()
app = make_resolver()


class WarningsApiSettings(WarningsSettings):
    """What this function is given beyond every function's settings (template.yaml)."""

    list_cursor_secret_arn: str = Field(alias="LIST_CURSOR_SECRET_ARN", min_length=1)


def _secret() -> bytes:
    return str(get_secret(settings(WarningsApiSettings).list_cursor_secret_arn, max_age=300)).encode()


LimitQuery = Annotated[int, params.Query(ge=1, le=100, description="items per page: 1–100 (default 20)")]
CursorQuery = Annotated[
    str | None, params.Query(min_length=1, max_length=1024, description="the previous page's next, as given (opaque)")
]


@app.get(
    "/v1/ops/warnings",
    summary="Early warnings, newest first (operations)",
    responses={
        200: {"description": "a page of warnings: the loan, the kind, the evidence and the action taken"},
        403: {"description": "the caller is not in the operations group"},
        422: {"description": "limit is not 1–100, or cursor is not this list's"},
    },
)
def list_warnings(limit: LimitQuery = 20, cursor: CursorQuery = None) -> models.WarningList:
    """Every warning raised (the monthly re-check's and the daily close's), newest first: one query a page."""
    require_operations(app)
    paging.only_paging((app.current_event.query_string_parameters or {}).keys())
    scope = "warnings"  # one list, the same for every operator
    after = paging.key_after(paging.position(cursor, scope=scope, secret=_secret()))
    records, following = warning_store(settings(WarningsSettings).warnings_table).page(limit, after)
    return models.WarningList(
        items=[models.WarningView.from_record(r) for r in records],
        next=None if following is None else cursors.encode(following, scope=scope, secret=_secret()),
    )


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
