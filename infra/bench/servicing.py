"""Servicing's goals (issue 5), on the stack deployed from template.yaml into moto, functions run in-process:

- Repayment webhook: the payments function's own time per signed notice (p50 of many, goal < 20 ms), beside the
  DynamoDB calls one repayment makes.
- Daily close: the scheduled function over portfolios of two sizes with the same number of loans due; its wall time
  and its DynamoDB calls, to show the calls follow the loans due, not the portfolio (the due-date index).

Loans are seeded straight into the tables in the shape booking writes (a bench's set-up, not measured).
"""

from __future__ import annotations

import json
import os
import statistics
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from unittest import mock

from infra.bench.platform import counted_calls
from infra.local.api import proxy_event
from infra.local.control import firing_time, scheduled_event
from infra.local.stack import DeployedStack, local_stack
from infra.local.template import load_template, schedules, table_definitions

GOAL_REPAYMENT_MS = 20.0
OPENED = date(2026, 1, 10)
SIZES = (10_000, 100_000)
DUE = 200
PAYMENTS = 40
INSTRUMENTED = 10


@contextmanager
def timed_calls() -> Iterator[list[tuple[str, float]]]:
    """Each botocore call made in this process with its wall time in seconds (moto's included)."""
    from botocore.client import BaseClient

    timings: list[tuple[str, float]] = []
    original = BaseClient._make_api_call

    def timing(self: Any, operation: str, params: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(self, operation, params)
        finally:
            timings.append((f"{self.meta.service_model.service_name}:{operation}", time.perf_counter() - started))

    with mock.patch.object(BaseClient, "_make_api_call", timing):
        yield timings


def _schedule_rows(principal: str, months: int) -> list[dict[str, Any]]:
    from lending.catalogue import Method, load_catalogue
    from lending.money import Money
    from lending.pricing import make_offer
    from lending.servicing import schedule_record

    offer = make_offer(
        load_catalogue(),
        "business_instalment",
        Money.of(principal),
        months,
        Method.EQUAL_INSTALMENT,
        OPENED,
        Decimal("0.12"),
    )
    return schedule_record(offer.schedule)


def _loan(loan_id: str, schedule: list[dict[str, Any]], next_due_on: str) -> dict[str, Any]:
    return {
        "loan_id": loan_id,
        "application_id": f"app-{loan_id}",
        "borrower_id": "bench-borrower",
        "product": "business_instalment",
        "kind": "instalment",
        "opened_at": f"{OPENED}T02:00:00+00:00",
        "opened_on": OPENED.isoformat(),
        "annual_rate": "0.1200",
        "term_months": len(schedule),
        "status": "ACTIVE",
        "principal": "12000.00",
        "method": "equal_instalment",
        "schedule": schedule,
        "funding": {"reservation_id": f"app-{loan_id}/funding", "shares": {"own_capital": "12000.00"}},
        "next_due_on": next_due_on,
        "principal_outstanding": "12000.00",
    }


def _seed(stack: DeployedStack, loans: list[dict[str, Any]]) -> None:
    """Write loan items straight into moto's table (with the DueLoans keys booking gives them): set-up, not
    measured, so it skips moto's request path. Loans alike but for their keys share their other attributes' values
    (moto never changes a stored value in place: an update replaces it)."""
    from moto.backends import get_backend
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    from lending.adapters.attribute_values import to_item
    from lending.adapters.due_index import due_shard

    backend = get_backend("dynamodb")["123456789012"][stack.region]
    table = backend.get_table(stack.outputs["LoansTableName"])
    unique = ("loan_id", "application_id", "next_due_on", "funding")
    shared: dict[int, Item] = {}  # by schedule: the loans of one run share theirs
    for loan in loans:
        template = shared.get(id(loan["schedule"]))
        if template is None:
            template = shared[id(loan["schedule"])] = Item(DynamoType({"S": "template"}), None, to_item(loan))
        key = DynamoType({"S": loan["loan_id"]})
        item = Item(key, None, {})
        item.attrs = type(template.attrs)(template.attrs)
        own = to_item({**{name: loan[name] for name in unique}, "due_shard": due_shard(loan["loan_id"])})
        for name, value in own.items():
            item.attrs[name] = DynamoType(value)
        table.items[key] = item


def _reset_tables(stack: DeployedStack) -> None:
    import boto3

    dynamodb = boto3.client("dynamodb", region_name=stack.region)
    definitions = table_definitions(load_template())
    for logical_id in ("LoansTable", "LedgerTable", "AuditTable"):
        dynamodb.delete_table(TableName=definitions[logical_id]["TableName"])
        dynamodb.create_table(**definitions[logical_id])


def _invoke(stack: DeployedStack, logical_id: str, event: dict[str, Any]) -> Any:
    import boto3

    response = boto3.client("lambda", region_name=stack.region).invoke(
        FunctionName=stack.physical_ids[logical_id], Payload=json.dumps(event).encode()
    )
    payload = json.loads(response["Payload"].read() or b"null")
    if response.get("FunctionError"):
        raise RuntimeError(f"{logical_id} failed: {payload}")
    return payload


def _dynamodb_calls(calls: Counter[str]) -> dict[str, int]:
    return {name.split(":", 1)[1]: count for name, count in sorted(calls.items()) if name.startswith("dynamodb:")}


def _repayments(stack: DeployedStack, runtime: Any) -> dict[str, Any]:
    """Each loan gets its first instalment, then its second: a loan's first servicing write also reads the audit
    chain's head, later ones link to the head the loan remembers. The timed passes run bare; the calls and the time
    inside moto are taken in a separate instrumented pass (patching botocore per call costs ~8 ms of its own)."""
    from lending.webhooks import SIGNATURE_HEADER, sign

    schedule = _schedule_rows("12000.00", 12)
    loans = PAYMENTS + INSTRUMENTED
    _seed(stack, [_loan(f"pay-{n}", schedule, schedule[0]["due_date"]) for n in range(loans)])
    route = next(r for r in stack.routes if r.path == "/v1/webhooks/payments")
    secret = stack.secret_values["PaymentsWebhookSecret"].encode()

    def pay(n: int, instalment: int) -> Any:
        paid_at = datetime(2026, 1 + instalment, 10, 2, tzinfo=UTC) + timedelta(minutes=n)
        body = json.dumps(
            {
                "event_id": f"bench-{n}-{instalment}",
                "loan_id": f"pay-{n}",
                "amount": "1066.19",
                "paid_at": paid_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "kind": "repayment",
            }
        ).encode()
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(secret, body, int(time.time()))}
        answer = _invoke(stack, route.function, proxy_event(route, "POST", route.path, {}, {}, headers, body, None))
        if answer["statusCode"] != 200:
            raise RuntimeError(f"payment {n}/{instalment} answered {answer}")
        return runtime.invocations[-1].seconds

    first = [pay(n, 1) for n in range(PAYMENTS)][3:]  # the first calls import the function and build its clients
    later = [pay(n, 2) for n in range(PAYMENTS)]
    both = first + later
    calls_first: Counter[str] = Counter()
    calls_later: Counter[str] = Counter()
    in_dynamodb: list[float] = []
    own: list[float] = []
    for n in range(PAYMENTS, loans):
        for instalment, counter in ((1, calls_first), (2, calls_later)):
            with counted_calls() as calls, timed_calls() as timings:
                seconds = pay(n, instalment)
            counter.update(calls)
            inside = sum(t for name, t in timings if name.startswith("dynamodb:"))
            in_dynamodb.append(inside)
            own.append(seconds - inside)
    p50 = statistics.median(both) * 1000
    return {
        "payments": len(both),
        "p50_ms": round(p50, 2),
        "best_ms": round(min(both) * 1000, 2),
        "first_repayment_p50_ms": round(statistics.median(first) * 1000, 2),
        "later_repayment_p50_ms": round(statistics.median(later) * 1000, 2),
        "instrumented_p50_in_moto_dynamodb_ms": round(statistics.median(in_dynamodb) * 1000, 2),
        "instrumented_p50_own_code_ms": round(statistics.median(own) * 1000, 2),
        "goal_ms": GOAL_REPAYMENT_MS,
        "within_goal": p50 < GOAL_REPAYMENT_MS,
        "dynamodb_calls_first_repayment": {k: v // INSTRUMENTED for k, v in _dynamodb_calls(calls_first).items()},
        "dynamodb_calls_later_repayment": {k: v // INSTRUMENTED for k, v in _dynamodb_calls(calls_later).items()},
    }


def _close(stack: DeployedStack, portfolio: int) -> dict[str, Any]:
    _reset_tables(stack)
    schedule = _schedule_rows("12000.00", 12)
    day = date.fromisoformat(schedule[0]["due_date"]) + timedelta(days=3)
    later = schedule[1]["due_date"]  # loans paid up to their next instalment: not due on the day
    loans = [_loan(f"due-{n}", schedule, schedule[0]["due_date"]) for n in range(DUE)]
    loans += [_loan(f"current-{n}", schedule, later) for n in range(portfolio - DUE)]
    started = time.perf_counter()
    _seed(stack, loans)
    seeding = time.perf_counter() - started
    schedule_spec = schedules(load_template())["EveryNight"]
    event = scheduled_event(stack, schedule_spec, firing_time(schedule_spec.expression, day))
    with counted_calls() as calls:
        started = time.perf_counter()
        summary = _invoke(stack, schedule_spec.function, event)
        wall = time.perf_counter() - started
    if summary["loans_read"] != DUE:
        raise RuntimeError(f"the close read {summary['loans_read']} loans, {DUE} were due")
    dynamodb = _dynamodb_calls(calls)
    return {
        "portfolio": portfolio,
        "due": DUE,
        "wall_s": round(wall, 2),
        "seeding_s": round(seeding, 1),
        "summary": summary,
        "dynamodb_calls": dynamodb,
        "dynamodb_calls_total": sum(dynamodb.values()),
        "early_warnings_published": calls.get("events:PutEvents", 0),
    }


def run() -> dict[str, Any]:
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")  # as the local platform runs: no X-Ray daemon
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")  # and no CloudWatch
    with local_stack() as (stack, runtime):
        repayment = _repayments(stack, runtime)
        closes = [_close(stack, size) for size in SIZES]
    same_calls = closes[0]["dynamodb_calls_total"] == closes[1]["dynamodb_calls_total"]
    return {
        "repayment_webhook": repayment,
        "daily_close": closes,
        "close_calls_independent_of_portfolio": same_calls,
        "within_goal": repayment["within_goal"] and same_calls,
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
