"""EarlyWarningFlow step: the next page of open lines and business loans, from the OpenLoans index, in batches."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from lending.adapters.aws import client
from lending.adapters.open_index import open_loans_page
from lending.adapters.settings import settings
from lending.catalogue import load_catalogue
from lending.steps.early_warning import batches, watched_products
from lending.steps.inputs import OpenLoansPage

logger = Logger()
tracer = Tracer()

#: Loans a batch checks (one Lambda invocation: a few vendor calls each, well inside its timeout).
BATCH_SIZE = 25
#: Batches a page lists (the Map's items): the page's state stays far below Step Functions' 256 KB.
BATCHES_PER_PAGE = 40


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@event_parser(model=OpenLoansPage)
def lambda_handler(event: OpenLoansPage, context: LambdaContext) -> dict[str, Any]:
    watched = watched_products(load_catalogue())
    loan_ids, cursor = open_loans_page(
        client("dynamodb"),
        settings().loans_table,
        event.cursor,
        limit=BATCH_SIZE * BATCHES_PER_PAGE,
        watched=watched.__contains__,
    )
    month = event.month
    logger.info("open loans listed", extra={"month": month, "loans": len(loan_ids)})
    return {
        "month": month,
        "batches": [{"month": month, "loan_ids": batch} for batch in batches(loan_ids, BATCH_SIZE)],
        "cursor": cursor,
    }
