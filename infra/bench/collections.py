"""Auto-debit's goal (issue 14): the job's AWS calls follow the loans due, never the portfolio.

The scheduled auto-debit function runs on the stack deployed from template.yaml into moto (functions in-process,
IAM as the template grants it), against the sandbox collection provider, over two portfolios of different sizes
with the same loans due on the day; its calls by operation are counted and compared. Loans are seeded straight into
the tables in the shape booking writes (a bench's set-up, not measured), all due ones paid out to one application's
bound account (its personal data encrypted under the stack's PII key, as intake stores it).
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from datetime import date, timedelta
from typing import Any

from infra.bench.platform import counted_calls
from infra.bench.servicing import _invoke, _loan, _reset_tables, _schedule_rows, _seed
from infra.local.control import next_firing, scheduled_event
from infra.local.stack import DeployedStack, local_stack
from infra.local.template import load_template, schedules, table_definitions
from infra.local.vendors.collections import SandboxCollectionProvider

SIZES = (10_000, 100_000)
DUE = 200
JOB = "EveryMorning"
APPLICATION = "app-bench-collections"


def _seed_application(stack: DeployedStack) -> None:
    """The application the due loans were paid out from: its bound account encrypted as intake stores it."""
    import boto3

    from lending.adapters.attribute_values import to_item
    from lending.adapters.pii import encrypt_fields

    pii = encrypt_fields(stack.physical_ids["PiiKey"], APPLICATION, {"bank_account": "62220200000005678"})
    boto3.client("dynamodb", region_name=stack.region).put_item(
        TableName=stack.outputs["ApplicationsTableName"],
        Item=to_item({"application_id": APPLICATION, "borrower_id": "bench-borrower", "pii": pii}),
    )


def _reset_collections(stack: DeployedStack) -> None:
    import boto3

    dynamodb = boto3.client("dynamodb", region_name=stack.region)
    definition = table_definitions(load_template())["CollectionsTable"]
    dynamodb.delete_table(TableName=definition["TableName"])
    dynamodb.create_table(**definition)


def _run(stack: DeployedStack, provider: SandboxCollectionProvider, portfolio: int) -> dict[str, Any]:
    _reset_tables(stack)
    _reset_collections(stack)
    schedule = _schedule_rows("12000.00", 12)
    day = date.fromisoformat(schedule[0]["due_date"])
    later = schedule[1]["due_date"]  # loans paid up to their next instalment: nothing due on the day
    # The due loans' ids are the run's own: the provider keeps every key it has seen, as a real one does.
    due = [
        {**_loan(f"due-{portfolio}-{n}", schedule, schedule[0]["due_date"]), "application_id": APPLICATION}
        for n in range(DUE)
    ]
    loans = due + [_loan(f"current-{n}", schedule, later) for n in range(portfolio - DUE)]
    started = time.perf_counter()
    _seed(stack, loans)
    seeding = time.perf_counter() - started
    job = schedules(load_template())[JOB]
    # The job fires early on the day it collects, just after the close of the day before.
    event = scheduled_event(stack, job, next_firing(job.expression, day - timedelta(days=1)))
    asked_before = len(provider.collections())
    with counted_calls() as calls:
        started = time.perf_counter()
        summary = _invoke(stack, job.function, event)
        wall = time.perf_counter() - started
    asked = len(provider.collections()) - asked_before
    if summary["loans_read"] != DUE or summary.get("collections_asked") != DUE or asked != DUE:
        raise RuntimeError(f"the job read {summary['loans_read']} loans and asked {asked} collections; {DUE} were due")
    aws = {name: count for name, count in sorted(calls.items()) if not name.startswith("lambda:")}
    return {
        "portfolio": portfolio,
        "due": DUE,
        "wall_s": round(wall, 2),
        "seeding_s": round(seeding, 1),
        "summary": summary,
        "aws_calls": aws,
        "aws_calls_total": sum(aws.values()),
        "collections_asked": asked,
    }


def run() -> dict[str, Any]:
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")  # as the local platform runs: no X-Ray daemon
    # The provider's notices are not part of the job (they reach the webhook later): held back, then abandoned.
    provider = SandboxCollectionProvider(secret="bench", callback_delay=3600)
    provider.start()
    try:
        with local_stack({"CollectionProviderUrl": provider.url}) as (stack, _runtime):
            _seed_application(stack)
            runs = [_run(stack, provider, size) for size in SIZES]
    finally:
        provider.stop()
    same_calls = runs[0]["aws_calls"] == runs[1]["aws_calls"]
    per_loan = Counter({name: count / DUE for name, count in runs[0]["aws_calls"].items()})
    return {
        "auto_debit": runs,
        "aws_calls_per_loan_due": {name: round(count, 2) for name, count in sorted(per_loan.items())},
        "auto_debit_calls_independent_of_portfolio": same_calls,
        "within_goal": same_calls,
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
