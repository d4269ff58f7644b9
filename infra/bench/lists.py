"""The borrower's lists (issue 14, part 5), on the stack deployed from template.yaml into moto, the read API's
handler run in-process as Lambda runs it:

- GET /v1/loans and GET /v1/applications for a borrower with 10,000 loans and 10,000 applications, beside 10,000 of
  other borrowers': the AWS calls each page makes (the goal: one index query a page, no scan, no per-item read),
  followed page after page through the cursor, at the default 20 and the largest 100 a page; and the AWS latency
  those calls would add, modelled (moto's own times are not AWS's and are not reported).
- Our own CPU for a page of loans beyond its query: each loan's balances replayed to today from the item the index
  holds (pure domain work, measured alone).
- GET /v1/loans/{id}/transactions for a loan with a year of payments: the calls (one read of the loan) and our own
  CPU per request (the replay walked and the page built).

Records are seeded straight into the tables in the shape booking and intake write them (set-up, not measured).
"""

from __future__ import annotations

import json
import os
import statistics
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from infra.bench.platform import counted_calls
from infra.bench.servicing import MODELLED_MS, OPENED, _quiet, _schedule_rows
from infra.local.api import proxy_event
from infra.local.runtime import InProcessRuntime, LambdaContext
from infra.local.stack import DeployedStack, local_stack
from lending.adapters.environment import provided_environment

BORROWER = "bench-borrower"
OWN = 10_000
OTHERS = 10_000
PAGES = 5  # pages followed through the cursor, per list and page size
SIZES = (20, 100)
TRANSACTION_RUNS = 30


def _seed(stack: DeployedStack, output: str, key: str, records: list[dict[str, Any]], unique: tuple[str, ...]) -> None:
    """Write records straight into moto's table: set-up, not measured, so it skips moto's request path. Records
    alike but for ``unique`` share their other attributes' values (moto never changes a stored value in place)."""
    from moto.backends import get_backend
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    from lending.adapters.attribute_values import to_item

    table = get_backend("dynamodb")["123456789012"][stack.region].get_table(stack.outputs[output])
    template = Item(DynamoType({"S": "template"}), None, to_item(records[0]))
    for record in records:
        item = Item(DynamoType({"S": record[key]}), None, {})
        item.attrs = type(template.attrs)(template.attrs)
        for name, value in to_item({name: record[name] for name in unique}).items():
            item.attrs[name] = DynamoType(value)
        table.items[item.hash_key] = item


def _moment(n: int) -> str:
    return (datetime(2026, 1, 10, 2, tzinfo=UTC) + timedelta(minutes=n)).isoformat()


def _loans() -> list[dict[str, Any]]:
    schedule = _schedule_rows("12000.00", 12)

    def loan(n: int, borrower: str) -> dict[str, Any]:
        return {
            "loan_id": f"{borrower}-loan-{n}",
            "application_id": f"{borrower}-app-{n}",
            "borrower_id": borrower,
            "product": "business_instalment",
            "kind": "instalment",
            "opened_at": _moment(n),
            "opened_on": OPENED.isoformat(),
            "annual_rate": "0.1200",
            "term_months": 12,
            "status": "ACTIVE",
            "principal": "12000.00",
            "method": "equal_instalment",
            "upfront_fee": "0.00",
            "schedule": schedule,
            "funding": {"reservation_id": f"{borrower}-app-{n}/funding", "shares": {"own_capital": "12000.00"}},
            "principal_outstanding": "12000.00",
        }

    return [loan(n, BORROWER) for n in range(OWN)] + [loan(n, f"other-{n % 100}") for n in range(OTHERS)]


def _applications() -> list[dict[str, Any]]:
    def application(n: int, borrower: str) -> dict[str, Any]:
        return {
            "application_id": f"{borrower}-app-{n}",
            "borrower_id": borrower,
            "created_at": _moment(n),
            "status": "DISBURSED",
            "product": "business_instalment",
            "amount": "12000.00",
            "term_months": 12,
            "offer": {
                "product": "business_instalment",
                "limit": "12000.00",
                "annual_rate": "0.1200",
                "apr": "0.1268",
                "term_months": 12,
                "method": "equal_instalment",
            },
            "loan_id": f"{borrower}-loan-{n}",
            "pii": {"phone": "encrypted-elsewhere"},
        }

    return [application(n, BORROWER) for n in range(OWN)] + [application(n, f"other-{n % 100}") for n in range(OTHERS)]


def _read_api(stack: DeployedStack) -> Callable[[str, str, dict[str, str], dict[str, str]], tuple[int, Any]]:
    """The read API's handler, imported as Lambda runs it (its deployed environment), called with proxy events."""
    import boto3

    routes = {r.path: r for r in stack.routes if r.method == "GET"}
    function = routes["/v1/loans"].function
    spec = stack.functions[function]
    name = stack.physical_ids[function]
    configuration = boto3.client("lambda", region_name=stack.region).get_function_configuration(FunctionName=name)
    environment = {
        "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_REGION": stack.region,
        **configuration.get("Environment", {}).get("Variables", {}),
    }
    runtime = InProcessRuntime({spec.logical_id: spec})

    def get(route: str, path: str, parameters: dict[str, str], query: dict[str, str]) -> tuple[int, Any]:
        event = proxy_event(
            routes[route], "GET", path, parameters, {k: [v] for k, v in query.items()}, {}, b"", {"sub": BORROWER}
        )
        context = LambdaContext(name, configuration["FunctionArn"], configuration["MemorySize"], 29)
        with provided_environment(environment), _quiet():
            answer = runtime.handler_for(spec)(event, context)
        return int(answer["statusCode"]), json.loads(answer["body"])

    return get


def _modelled_ms(calls: Counter[str]) -> float:
    return float(sum(MODELLED_MS.get(name, 0) * count for name, count in calls.items()))


def _pages(get: Callable[..., tuple[int, Any]], path: str, size: int) -> dict[str, Any]:
    """``PAGES`` pages of a list, each following the cursor of the one before: the calls each made."""
    per_page: list[dict[str, int]] = []
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(PAGES):
        query = {"limit": str(size), **({} if cursor is None else {"cursor": cursor})}
        with counted_calls() as calls:
            status, page = get(path, path, {}, query)
        if status != 200:
            raise RuntimeError(f"GET {path} answered {status}: {page}")
        key = "loan_id" if path == "/v1/loans" else "application_id"
        ids = [item[key] for item in page["items"]]
        if len(ids) != size or any(not i.startswith(BORROWER) for i in ids):
            raise RuntimeError(f"GET {path}: a page of {len(ids)} not all the borrower's")
        seen += ids
        per_page.append(dict(sorted(calls.items())))
        cursor = page["next"]
    if len(set(seen)) != len(seen) or seen != sorted(seen, key=lambda i: int(i.rsplit("-", 1)[1]), reverse=True):
        raise RuntimeError(f"GET {path}: pages overlap or are not newest first")
    # The cursor key is read once per five minutes (Powertools' cache): on the first page only, then none.
    later = per_page[1:]
    dynamodb_per_page = {c for page in later for c in page if c.startswith("dynamodb:")}
    return {
        "page_size": size,
        "pages": PAGES,
        "calls_first_page": per_page[0],
        "calls_each_later_page": later[0],
        "same_calls_every_later_page": all(page == later[0] for page in later),
        "dynamodb_reads_per_page": sum(later[0].get(c, 0) for c in dynamodb_per_page),
        "modelled_aws_ms_per_page": _modelled_ms(Counter(later[0])),
        "one_query_no_scan": later[0] == {"dynamodb:Query": 1},
    }


def _summaries_cpu_ms(size: int, runs: int = 20) -> float:
    """Our own CPU for a page of loans beyond its one query: each loan replayed to today and its summary built."""
    from lending.catalogue import load_catalogue
    from lending.steps.lists import loan_summary

    records, catalogue = _loans()[:size], load_catalogue()
    timings = []
    for _ in range(runs):
        started = time.process_time()
        for record in records:
            loan_summary(record, catalogue)
        timings.append((time.process_time() - started) * 1000)
    return round(statistics.median(timings), 2)


def _index_holds_no_personal_data(stack: DeployedStack) -> bool:
    """The applications index projects the summary only: the seeded ``pii`` never reaches it."""
    import boto3

    page = boto3.client("dynamodb", region_name=stack.region).query(
        TableName=stack.outputs["ApplicationsTableName"],
        IndexName="BorrowerApplications",
        KeyConditionExpression="borrower_id = :b",
        ExpressionAttributeValues={":b": {"S": BORROWER}},
        Limit=5,
    )
    return bool(page["Items"]) and all("pii" not in item for item in page["Items"])


def _transactions(stack: DeployedStack, get: Callable[..., tuple[int, Any]]) -> dict[str, Any]:
    """A loan with its 12 instalments paid: the calls and our own CPU for its transactions, a page of 100."""
    import boto3

    from lending.adapters.attribute_values import to_item
    from lending.money import Money

    loan_id = f"{BORROWER}-loan-0"
    schedule = _schedule_rows("12000.00", 12)
    events = [
        {
            "event_id": f"bench-pay-{n}",
            "kind": "repayment",
            "at": (datetime.fromisoformat(f"{row['due_date']}T02:00:00+00:00")).isoformat(),
            "amount": str(Money.of(row["principal"]) + Money.of(row["interest"])),
        }
        for n, row in enumerate(schedule)
    ]
    boto3.client("dynamodb", region_name=stack.region).update_item(
        TableName=stack.outputs["LoansTableName"],
        Key={"loan_id": {"S": loan_id}},
        UpdateExpression="SET servicing = :s",
        ExpressionAttributeValues=to_item({":s": {"events": events, "aged_through": schedule[-1]["due_date"]}}),
    )
    path = f"/v1/loans/{loan_id}/transactions"
    route = "/v1/loans/{loan_id}/transactions"
    status, page = get(route, path, {"loan_id": loan_id}, {"limit": "100"})
    if status != 200:
        raise RuntimeError(f"GET {path} answered {status}: {page}")
    kinds = Counter(item["kind"] for item in page["items"])
    cpu: list[float] = []
    for _ in range(TRANSACTION_RUNS):
        with counted_calls() as calls:
            started = time.process_time()
            get(route, path, {"loan_id": loan_id}, {"limit": "100"})
            cpu.append((time.process_time() - started) * 1000)
    return {
        "movements": len(page["items"]),
        "kinds": dict(sorted(kinds.items())),
        "calls": dict(sorted(calls.items())),
        "process_cpu_ms_p50_including_moto": round(statistics.median(cpu), 2),
        "modelled_aws_ms": _modelled_ms(calls),
    }


def run() -> dict[str, Any]:
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")  # as the local platform runs: no X-Ray daemon
    with local_stack() as (stack, _runtime):
        started = time.perf_counter()
        _seed(stack, "LoansTableName", "loan_id", _loans(), ("loan_id", "application_id", "borrower_id", "opened_at"))
        _seed(
            stack,
            "ApplicationsTableName",
            "application_id",
            _applications(),
            ("application_id", "borrower_id", "created_at", "loan_id"),
        )
        seeding = time.perf_counter() - started
        get = _read_api(stack)
        loans = [
            {**_pages(get, "/v1/loans", size), "own_cpu_ms_replaying_the_page": _summaries_cpu_ms(size)}
            for size in SIZES
        ]
        applications = [_pages(get, "/v1/applications", size) for size in SIZES]
        private = _index_holds_no_personal_data(stack)
        transactions = _transactions(stack, get)
    one_query = all(result["one_query_no_scan"] for result in [*loans, *applications])
    return {
        "borrower_records": OWN,
        "other_borrowers_records": OTHERS,
        "seeding_s": round(seeding, 1),
        "loans": loans,
        "applications": applications,
        "transactions": transactions,
        "one_index_query_per_page": one_query,
        "applications_index_holds_no_personal_data": private,
        "within_goal": one_query and private and transactions["calls"] == {"dynamodb:GetItem": 1},
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
