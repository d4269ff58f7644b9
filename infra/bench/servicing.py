"""Servicing's goals (issue 5), on the stack deployed from template.yaml into moto, functions run in-process:

- Repayment webhook: our own CPU per signed notice (goal <= 2 ms, p50): the payments function's handler, warm, with
  every AWS call it makes answered instantly by the answers moto gave the same repayment; beside it the AWS calls one
  repayment makes and the latency they would add in AWS, modelled from MODELLED_MS (moto's own times are not AWS's
  and are not reported).
- Daily close: the scheduled function over portfolios of two sizes with the same number of loans due; its wall time
  and its DynamoDB calls, to show the calls follow the loans due, not the portfolio (the due-date index).

Loans are seeded straight into the tables in the shape booking writes (a bench's set-up, not measured).
"""

from __future__ import annotations

import copy
import json
import os
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from infra.bench.platform import counted_calls
from infra.local.api import proxy_event
from infra.local.calls import Answered, answering, recording
from infra.local.control import next_firing, scheduled_event
from infra.local.runtime import InProcessRuntime, LambdaContext
from infra.local.stack import DeployedStack, local_stack
from infra.local.template import load_template, schedules, table_definitions
from lending.adapters.environment import provided_environment

GOAL_OWN_CPU_MS = 2.0
OPENED = date(2026, 1, 10)
SIZES = (10_000, 100_000)
DUE = 200
REPLAYS = 200
WEBHOOK = "/v1/webhooks/payments"

#: Modelled AWS latency per call (ms, in-region, p50), an assumption from AWS's published figures (DynamoDB:
#: "single-digit milliseconds" for a read or write; a transaction does two rounds of its items' work), not measured
#: here: moto's times say nothing about AWS's. Only the calls a benchmarked path makes need an entry.
MODELLED_MS = {
    "dynamodb:GetItem": 4,
    "dynamodb:Query": 5,
    "dynamodb:PutItem": 6,
    "dynamodb:UpdateItem": 6,
    "dynamodb:DeleteItem": 6,
    "dynamodb:TransactWriteItems": 12,
    "secretsmanager:GetSecretValue": 15,
    "events:PutEvents": 15,
}


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


class _Replay:
    """Answers the calls of one recorded run again, instantly, in the order they came per operation and table."""

    def __init__(self, calls: list[Answered]) -> None:
        self._recorded: dict[tuple[str, str, str], list[Answered]] = {}
        for call in calls:
            self._recorded.setdefault(self._key(call.service, call.operation, call.params), []).append(call)
        self._next: Counter[tuple[str, str, str]] = Counter()
        self._fresh: dict[tuple[str, str, str], list[dict[str, Any]]] = {}

    @staticmethod
    def _key(service: str, operation: str, params: dict[str, Any]) -> tuple[str, str, str]:
        return service, operation, str(params.get("TableName", ""))

    def again(self) -> None:
        """Ready for one more run: fresh copies of every answer (made here, outside the timed run, as botocore's
        parser would make new ones)."""
        self._next.clear()
        self._fresh = {key: [copy.deepcopy(call.answer) for call in calls] for key, calls in self._recorded.items()}

    def answer(self, service: str, operation: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        key = self._key(service, operation, params)
        recorded = self._recorded.get(key, [])
        if self._next[key] >= len(recorded):
            raise RuntimeError(f"the replay made a call the recorded run did not: {key}")
        call = recorded[self._next[key]]
        answer = self._fresh[key][self._next[key]]
        self._next[key] += 1
        return call.status, answer


def _webhook_handler(stack: DeployedStack) -> Callable[[dict[str, Any]], Any]:
    """The payments function's handler, imported as Lambda runs it (its deployed environment), called directly."""
    import boto3

    route = next(r for r in stack.routes if r.path == WEBHOOK)
    spec = stack.functions[route.function]
    name = stack.physical_ids[route.function]
    configuration = boto3.client("lambda", region_name=stack.region).get_function_configuration(FunctionName=name)
    environment = {
        "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_REGION": stack.region,
        **configuration.get("Environment", {}).get("Variables", {}),
    }
    runtime = InProcessRuntime({spec.logical_id: spec})

    def invoke(event: dict[str, Any]) -> Any:
        context = LambdaContext(name, configuration["FunctionArn"], configuration["MemorySize"], 29)
        with provided_environment(environment):
            return runtime.handler_for(spec)(event, context)

    return invoke


@contextmanager
def _quiet() -> Iterator[None]:
    """The function's log and metric lines to /dev/null (in Lambda they go to a pipe), not to a terminal."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 1)
        os.dup2(devnull.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def _repayments(stack: DeployedStack) -> dict[str, Any]:
    """Each loan gets its first instalment, then its second (a loan's first servicing write also reads the audit
    chain's head; later ones link to the head the loan remembers). Each kind runs once against moto with its calls
    and answers recorded, then REPLAYS times with those answers handed back instantly: what remains is our own
    work per repayment (the handler, Powertools, pydantic, the domain, botocore building each request)."""
    from lending.webhooks import SIGNATURE_HEADER, sign

    schedule = _schedule_rows("12000.00", 12)
    _seed(stack, [_loan(f"pay-{n}", schedule, schedule[0]["due_date"]) for n in range(3)])
    secret = stack.secret_values["PaymentsWebhookSecret"].encode()
    route = next(r for r in stack.routes if r.path == WEBHOOK)
    invoke = _webhook_handler(stack)

    def notice(n: int, instalment: int) -> dict[str, Any]:
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
        return proxy_event(route, "POST", route.path, {}, {}, headers, body, None)

    def applied(answer: Any) -> None:
        if answer["statusCode"] != 200 or json.loads(answer["body"])["status"] != "applied":
            raise RuntimeError(f"the repayment was not applied: {answer}")

    with _quiet():
        applied(invoke(notice(0, 1)))  # the first invocation imports the function and reads its secret
    figures: dict[str, Any] = {}
    for kind, instalment in (("first_repayment", 1), ("later_repayment", 2)):
        event = notice(1, instalment)
        with recording() as calls, _quiet():
            applied(invoke(event))
        replay = _Replay(calls)
        cpu, wall = [], []
        with answering(replay.answer), _quiet():
            for _ in range(REPLAYS):
                replay.again()
                started, started_cpu = time.perf_counter(), time.process_time()
                applied(invoke(event))
                cpu.append(time.process_time() - started_cpu)
                wall.append(time.perf_counter() - started)
        names = Counter(f"{call.service}:{call.operation}" for call in calls)
        modelled = sum(MODELLED_MS[name] * count for name, count in names.items())
        own = statistics.median(cpu) * 1000
        figures[kind] = {
            "own_cpu_ms_p50": round(own, 2),
            "own_cpu_ms_p90": round(statistics.quantiles(cpu, n=10)[-1] * 1000, 2),
            "own_wall_ms_p50": round(statistics.median(wall) * 1000, 2),
            "aws_calls": dict(sorted(names.items())),
            "modelled_aws_ms": modelled,
            # Lambda gives a function CPU in proportion to its memory (one vCPU at 1,769 MB).
            "modelled_request_ms": round(own / _cpu_share(stack) + modelled, 1),
        }
    worst = max(figures[kind]["own_cpu_ms_p50"] for kind in figures)
    return {
        "replays": REPLAYS,
        **figures,
        "modelled_latency_ms_per_call": {name: MODELLED_MS[name] for name in sorted(MODELLED_MS)},
        "goal_own_cpu_ms": GOAL_OWN_CPU_MS,
        "within_goal": worst <= GOAL_OWN_CPU_MS,
    }


def _cpu_share(stack: DeployedStack) -> float:
    import boto3

    name = stack.physical_ids[next(r.function for r in stack.routes if r.path == WEBHOOK)]
    memory = boto3.client("lambda", region_name=stack.region).get_function_configuration(FunctionName=name)
    return min(1.0, int(memory["MemorySize"]) / 1769)


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
    event = scheduled_event(stack, schedule_spec, next_firing(schedule_spec.expression, day))
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
    with local_stack() as (stack, _runtime):
        repayment = _repayments(stack)
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
