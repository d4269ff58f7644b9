"""The monthly early-warning re-check's cost (issue 15: its calls grow with open loans, not with all loans), on the
stack deployed from template.yaml into moto, functions run in-process, the sandbox vendors answering over HTTP.

The scheduled function starts EarlyWarningFlow; the flow lists the open loans (the OpenLoans index) and re-checks
them in batches. Counted: every AWS call the run makes (the functions', and Step Functions' invocations of them;
the bench's own polling of the execution left out), for portfolios that differ in open loans and in closed ones:

- the calls per open loan: the difference between two runs with different numbers of open lines, over that
  difference, for clean borrowers (no warning) and for borrowers each raising one warning;
- the calls closed loans add: a run with thousands of closed loans beside the same open ones (goal: none).

Loans and applications are seeded straight into the tables in the shape booking and intake write (set-up, not
measured). A warned borrower's origination review found ten times the inflow the sandbox bank now shows.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from datetime import UTC, date, datetime
from typing import Any

from infra.bench.platform import counted_calls
from infra.local.control import wait_for_execution
from infra.local.stack import DeployedStack, local_stack
from infra.local.template import load_template, schedules, table_definitions
from infra.local.vendors import SandboxVendors

OPENED = date(2026, 11, 2)
#: Open lines in the two runs compared, and the closed loans beside them in the third.
OPEN = (20, 60)
CLOSED = 3_000
#: The origination inflow of a clean borrower (what the sandbox's strong profile banks) and of a warned one.
CLEAN_INFLOW = "2000000.00"
WARNED_INFLOW = "20000000.00"
#: Calls of the bench itself, not the run's.
NOT_THE_RUNS = {"stepfunctions:DescribeExecution"}


def _reset(stack: DeployedStack) -> None:
    import boto3

    dynamodb = boto3.client("dynamodb", region_name=stack.region)
    definitions = table_definitions(load_template())
    for logical_id in ("ApplicationsTable", "LoansTable", "AuditTable", "WarningsTable"):
        dynamodb.delete_table(TableName=definitions[logical_id]["TableName"])
        dynamodb.create_table(**definitions[logical_id])


def _line(loan_id: str, status: str) -> dict[str, Any]:
    return {
        "loan_id": loan_id,
        "application_id": f"app-{loan_id}",
        "borrower_id": "bench-borrower",
        "product": "credit_line",
        "kind": "revolving",
        "opened_at": f"{OPENED}T02:00:00+00:00",
        "opened_on": OPENED.isoformat(),
        "annual_rate": "0.1800",
        "term_months": 12,
        "status": status,
        "limit": "100000.00",
        "principal_outstanding": "0.00",
        "frozen": False,
    }


def _seed(stack: DeployedStack, open_lines: int, closed: int, inflow: str) -> None:
    """``open_lines`` active lines with their applications (personal data encrypted, as intake keeps it), and
    ``closed`` closed loans (not in the OpenLoans index, as the servicing write that closed them left them)."""
    import boto3

    from lending.adapters.applications import ApplicationRepository
    from lending.adapters.attribute_values import to_item
    from lending.adapters.loans import LoanRepository
    from lending.adapters.pii import encrypt_fields

    applications = ApplicationRepository(stack.outputs["ApplicationsTableName"])
    loans = LoanRepository(stack.outputs["LoansTableName"])
    key_id = stack.physical_ids["PiiKey"]
    for n in range(open_lines):
        loan = _line(f"open-{n}", "ACTIVE")
        application_id = loan["application_id"]
        person = {
            "name": "Bench Borrower",
            "id_number": "11010519491231002X",
            "phone": "+8613800000001",
            "bank_account": f"62220200{n:04d}5678",
        }
        applications.create(
            {
                "application_id": application_id,
                "borrower_id": "bench-borrower",
                "status": "LINE_OPENED",
                "pii": encrypt_fields(key_id, application_id, person),
                "business": {"name": "Bench Trading", "industry": "retail", "registered_on": "2020-01-01"},
                "business_assessment": {"average_monthly_inflow": inflow},
            }
        )
        loans.create(loan)
    dynamodb = boto3.client("dynamodb", region_name=stack.region)
    closed_loans = [_line(f"closed-{n}", "CLOSED") for n in range(closed)]
    for start in range(0, closed, 25):
        batch = closed_loans[start : start + 25]
        dynamodb.batch_write_item(
            RequestItems={stack.outputs["LoansTableName"]: [{"PutRequest": {"Item": to_item(loan)}} for loan in batch]}
        )


def _run(stack: DeployedStack, month: date, open_lines: int, closed: int, inflow: str) -> dict[str, Any]:
    import boto3

    _reset(stack)
    _seed(stack, open_lines, closed, inflow)
    schedule = schedules(load_template())["EveryMonth"]
    event = {"time": datetime(month.year, month.month, 1, 1, tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
    function = boto3.client("lambda", region_name=stack.region)
    with counted_calls() as calls:
        started = time.perf_counter()
        response = function.invoke(FunctionName=stack.physical_ids[schedule.function], Payload=json.dumps(event))
        started_run = json.loads(response["Payload"].read())
        wait_for_execution(stack, started_run["execution_arn"], schedule.function, month)
        wall = time.perf_counter() - started
    run_calls = Counter({name: count for name, count in calls.items() if name not in NOT_THE_RUNS})
    warnings = boto3.client("dynamodb", region_name=stack.region).scan(
        TableName=stack.outputs["WarningsTableName"], Select="COUNT"
    )["Count"]
    return {
        "open_lines": open_lines,
        "closed_loans": closed,
        "warnings_raised": warnings,
        "wall_s": round(wall, 2),
        "aws_calls": dict(sorted(run_calls.items())),
        "aws_calls_total": sum(run_calls.values()),
    }


def _per_open_loan(small: dict[str, Any], large: dict[str, Any]) -> dict[str, Any]:
    """The calls one more open loan adds, per kind and in all (the difference of two runs over their difference)."""
    loans = large["open_lines"] - small["open_lines"]
    names = sorted({*small["aws_calls"], *large["aws_calls"]})
    by_name = {n: (large["aws_calls"].get(n, 0) - small["aws_calls"].get(n, 0)) / loans for n in names}
    return {
        "per_open_loan": {n: round(v, 2) for n, v in by_name.items() if v},
        "per_open_loan_total": round((large["aws_calls_total"] - small["aws_calls_total"]) / loans, 2),
    }


def run() -> dict[str, Any]:
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")  # as the local platform runs: no X-Ray daemon
    with SandboxVendors(callback_delay=0.05) as vendors, local_stack(vendors.urls.as_parameters()) as (stack, _):
        months = iter(date(2027, m, 1) for m in range(1, 13))
        clean = [_run(stack, next(months), n, 0, CLEAN_INFLOW) for n in OPEN]
        with_closed = _run(stack, next(months), OPEN[0], CLOSED, CLEAN_INFLOW)
        warned = [_run(stack, next(months), n, 0, WARNED_INFLOW) for n in OPEN]
    closed_add = with_closed["aws_calls_total"] - clean[0]["aws_calls_total"]
    return {
        "clean_runs": clean,
        "clean": _per_open_loan(*clean),
        "with_closed_loans": with_closed,
        "calls_closed_loans_add": closed_add,
        "warned_runs": warned,
        "warned": _per_open_loan(*warned),
        "within_goal": closed_add == 0 and all(r["warnings_raised"] == 0 for r in clean),
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
