"""The platform's goals (issue 4): application to DISBURSED on the local stack, and the AWS calls (and their list
price) per originated loan. A function's cold start is :mod:`infra.bench.cold`'s.

- Origination: wall time from ``POST /v1/applications`` to ``DISBURSED`` over HTTP, the borrower reading the
  contract and accepting it included (as soon as the offer opens), sandbox vendors included,
  after one warm-up loan; how it splits between the functions that ran (their in-process durations) and the rest
  (Step Functions hand-offs, vendor round trips, the identity vendor's callback delay, polling).
- Calls: every AWS API call the stack makes for one loan, by service and operation, plus its state transitions,
  priced at list prices so later changes can be held against it.
"""

from __future__ import annotations

import json
import statistics
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from infra.local.calls import listening
from infra.local.platform import running_platform

GOAL_ORIGINATION_S = 3.0

#: us-east-1 list prices (USD), for holding later changes against; other regions (ap-east-1) cost more.
PRICES = {
    "state_transition": 0.025 / 1_000,  # Step Functions Standard
    "lambda_request": 0.20 / 1_000_000,
    "lambda_gb_second": 0.0000166667,
    "dynamodb_write": 0.625 / 1_000_000,  # on-demand write request unit (an item up to 1 KB)
    "dynamodb_read": 0.125 / 1_000_000,  # on-demand read request unit (strongly consistent, up to 4 KB)
    "kms_request": 0.03 / 10_000,
    "secrets_request": 0.05 / 10_000,
    "sns_publish": 0.50 / 1_000_000,
}
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}
READS = {"GetItem", "Query", "Scan", "TransactGetItems", "BatchGetItem"}


@contextmanager
def counted_calls() -> Iterator[Counter[str]]:
    """Count every AWS API call made in this process (functions, the front and moto's Step Functions)."""
    calls: Counter[str] = Counter()

    def count(model: Any, _params: dict[str, Any], _context: dict[str, Any]) -> None:
        calls[f"{model.service_model.service_name}:{model.name}"] += 1

    with listening(count):
        yield calls


def _application(key: str) -> dict[str, Any]:
    from lending.prc_id import make_id_number

    return {
        "product": "business_instalment",
        "amount": "120000.00",
        "term_months": 12,
        "purpose": "inventory",
        "applicant": {
            "name": "Bench Borrower",
            "id_number": make_id_number("110101", date(1985, 5, 5), 12),
            "phone": "+8613800000001",
            "bank_account": f"62220200{abs(hash(key)) % 10**8:08d}"[:-4] + "5678",
        },
        "business": {"name": "Bench Trading", "industry": "retail", "registered_on": "2020-01-01"},
        "consent": {"credit_report": True, "data_processing": True},
    }


def _request(url: str, token: str, method: str = "GET", body: Any = None, key: str | None = None) -> Any:
    import urllib.request

    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    if key:
        headers["Idempotency-Key"] = key
    data = None if body is None else json.dumps(body).encode()
    with urllib.request.urlopen(urllib.request.Request(url, data=data, method=method, headers=headers)) as response:
        return json.loads(response.read())


def accept_open_offer(api: str, token: str, view: dict[str, Any]) -> None:
    """As the borrower's app does once the offer is open: read the contract as it stands and accept it."""
    if view["status"] != "APPROVED" or not (view.get("offer") or {}).get("expires_at") or view.get("accepted"):
        return
    application_id = view["application_id"]
    contract = _request(f"{api}/v1/applications/{application_id}/contract", token)
    body = {"contract_sha256": contract["sha256"]}
    _request(f"{api}/v1/applications/{application_id}/acceptance", token, "POST", body, f"accept-{application_id}")


def _originate(api: str, token: str, key: str) -> tuple[str, float]:
    """Apply, accept the contract once it is offered, and wait for the payout: what the borrower waits for."""
    started = time.perf_counter()
    application_id = _request(f"{api}/v1/applications", token, "POST", _application(key), key)["application_id"]
    while True:
        view = _request(f"{api}/v1/applications/{application_id}", token)
        accept_open_offer(api, token, view)
        status = view["status"]
        if status in {"DISBURSED", "DECLINED", "FAILED", "EXPIRED"}:
            if status != "DISBURSED":
                raise AssertionError(f"the benchmark loan ended {status}")
            return application_id, time.perf_counter() - started
        time.sleep(0.05)


def _origination(loans: int = 3) -> dict[str, Any]:
    # Port 0: the front binds a free port before the stack is told its URL (where the vendors call back).
    with running_platform(port=0, callback_delay=0.05) as platform:
        api, token = platform.api_url, platform.tokens["borrower"]
        _originate(api, token, "warm-up")
        seconds, transitions = [], []
        by_function: Counter[str] = Counter()
        with counted_calls() as calls:
            for n in range(loans):
                first = len(platform.runtime.invocations)
                application_id, wall = _originate(api, token, f"bench-{n}")
                seconds.append(wall)
                for invocation in platform.runtime.invocations[first:]:
                    if invocation.function != "ReadApiFunction":  # the benchmark's own polling
                        by_function[invocation.function] += invocation.seconds
                import boto3

                sfn = boto3.client("stepfunctions", region_name=platform.stack.region)
                arn = platform.stack.outputs["OriginationStateMachineArn"].replace(":stateMachine:", ":execution:")
                history = sfn.get_execution_history(executionArn=f"{arn}:{application_id}", maxResults=1000)
                transitions.append(sum(1 for e in history["events"] if e["type"].endswith("StateEntered")))
        per_loan = {name: count / loans for name, count in sorted(calls.items())}
        in_functions = sum(by_function.values()) / loans
    return {
        "application_to_disbursed_s_p50": round(statistics.median(seconds), 3),
        "application_to_disbursed_s_runs": [round(s, 3) for s in seconds],
        "split_s": {
            "in_functions": round(in_functions, 3),
            "by_function": {name: round(total / loans, 4) for name, total in by_function.most_common()},
            "outside_functions": round(statistics.median(seconds) - in_functions, 3),
        },
        "calls_per_loan": per_loan,
        "state_transitions_per_loan": statistics.median(transitions),
        "goal_s": GOAL_ORIGINATION_S,
        "within_goal": statistics.median(seconds) < GOAL_ORIGINATION_S,
    }


def _price(calls: dict[str, float], transitions: float, invocations: int, gb_seconds: float) -> dict[str, float]:
    dynamodb_writes = sum(
        n for name, n in calls.items() if name.startswith("dynamodb:") and name.split(":")[1] in WRITES
    )
    dynamodb_reads = sum(n for name, n in calls.items() if name.startswith("dynamodb:") and name.split(":")[1] in READS)
    parts = {
        "step_functions": transitions * PRICES["state_transition"],
        "lambda_requests": invocations * PRICES["lambda_request"],
        "lambda_duration": gb_seconds * PRICES["lambda_gb_second"],
        "dynamodb_writes": dynamodb_writes * PRICES["dynamodb_write"],
        "dynamodb_reads": dynamodb_reads * PRICES["dynamodb_read"],
        "kms": sum(n for name, n in calls.items() if name.startswith("kms:")) * PRICES["kms_request"],
        "secrets_manager": sum(n for name, n in calls.items() if name.startswith("secretsmanager:"))
        * PRICES["secrets_request"],
        "sns": calls.get("sns:Publish", 0) * PRICES["sns_publish"],
    }
    return {name: round(cost * 1000, 4) for name, cost in parts.items()} | {
        "total": round(sum(parts.values()) * 1000, 4)
    }


def run() -> dict[str, Any]:
    origination = _origination()
    functions_run = sum(1 for _ in origination["split_s"]["by_function"])
    invocations = (
        round(sum(n for name, n in origination["calls_per_loan"].items() if name == "lambda:Invoke")) or functions_run
    )
    gb_seconds = origination["split_s"]["in_functions"] * 0.5  # 512 MB functions (the scoring one has 1 GB: a floor)
    cost = _price(origination["calls_per_loan"], origination["state_transitions_per_loan"], invocations, gb_seconds)
    return {
        "origination": origination,
        "cost_usd_per_1000_loans_us_east_1_list_prices": cost,
        "within_goal": origination["within_goal"],
    }
