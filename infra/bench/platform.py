"""The platform's goals (issue 4): application to DISBURSED on the local stack, function cold starts, and the AWS
calls (and their list price) per originated loan.

- Origination: wall time from ``POST /v1/applications`` to ``DISBURSED`` over HTTP, sandbox vendors included,
  after one warm-up loan; how it splits between the functions that ran (their in-process durations) and the rest
  (Step Functions hand-offs, vendor round trips, the identity vendor's callback delay, polling).
- Cold start: a fresh interpreter importing each non-scoring function's module, beside a bare ``import boto3``.
  Functions import their heavy parts (boto3, the X-Ray tracer, the event handler, the domain steps) on first use,
  so the first invocation pays for them: each function's first invocation on the local stack (the warm-up loan) is
  reported beside its later ones. The local stack runs every function in one interpreter, so a first invocation
  there does not pay again for modules another function loaded before it: a floor, not a Lambda cold start.
- Calls: every AWS API call the stack makes for one loan, by service and operation, plus its state transitions,
  priced at list prices so later changes can be held against it.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any
from unittest import mock

from infra.local.platform import running_platform
from infra.local.template import ROOT, functions, load_template

GOAL_ORIGINATION_S = 3.0
GOAL_COLD_START_S = 0.25
SCORING = "CreditScoringFunction"

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
    """Count every botocore API call made in this process (functions, the front and moto's Step Functions)."""
    from botocore.client import BaseClient

    calls: Counter[str] = Counter()
    original = BaseClient._make_api_call

    def counting(self: Any, operation: str, params: Any) -> Any:
        calls[f"{self.meta.service_model.service_name}:{operation}"] += 1
        return original(self, operation, params)

    with mock.patch.object(BaseClient, "_make_api_call", counting):
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


def _originate(api: str, token: str, key: str) -> tuple[str, float]:
    started = time.perf_counter()
    application_id = _request(f"{api}/v1/applications", token, "POST", _application(key), key)["application_id"]
    while True:
        status = _request(f"{api}/v1/applications/{application_id}", token)["status"]
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
        first_invocations: dict[str, float] = {}
        for invocation in platform.runtime.invocations:
            first_invocations.setdefault(invocation.function, invocation.seconds)
        seconds, transitions = [], []
        by_function: Counter[str] = Counter()
        later: defaultdict[str, list[float]] = defaultdict(list)
        with counted_calls() as calls:
            for n in range(loans):
                first = len(platform.runtime.invocations)
                application_id, wall = _originate(api, token, f"bench-{n}")
                seconds.append(wall)
                for invocation in platform.runtime.invocations[first:]:
                    later[invocation.function].append(invocation.seconds)
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
        "first_invocation_s": {
            name: {"first": round(first_s, 3), "later_p50": round(statistics.median(later[name]), 3)}
            for name, first_s in sorted(first_invocations.items())
            if later[name]
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


_IMPORT = """
import sys, time, importlib.util
started = time.perf_counter()
spec = importlib.util.spec_from_file_location("handler", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
print(time.perf_counter() - started)
"""
_BOTO3 = "import time; s = time.perf_counter(); import boto3; print(time.perf_counter() - s)"


def _fresh(code: str, *args: str, runs: int = 3) -> float:
    env = {"AWS_DEFAULT_REGION": "ap-east-1", "POWERTOOLS_TRACE_DISABLED": "true", "PATH": "/usr/bin:/bin"}
    times = [
        float(
            subprocess.run(
                [sys.executable, "-c", code, *args], check=True, capture_output=True, text=True, env=env, cwd=ROOT
            ).stdout
        )
        for _ in range(runs)
    ]
    return statistics.median(times)


def _cold_starts() -> dict[str, Any]:
    boto3_s = _fresh(_BOTO3)
    imports = {}
    for spec in sorted(functions(load_template()).values(), key=lambda s: s.logical_id):
        if spec.logical_id == SCORING:
            continue
        module = spec.handler.rpartition(".")[0]
        imports[spec.logical_id] = round(_fresh(_IMPORT, str(spec.code_dir / f"{module}.py")), 3)
    worst = max(imports.values())
    return {
        "bare_import_boto3_s": round(boto3_s, 3),
        "function_import_s": imports,
        "worst_s": worst,
        "worst_vs_boto3_ratio": round(worst / boto3_s, 2),
        "goal_s": GOAL_COLD_START_S,
        "within_goal": worst < GOAL_COLD_START_S,
    }


def run() -> dict[str, Any]:
    origination = _origination()
    functions_run = sum(1 for _ in origination["split_s"]["by_function"])
    invocations = (
        round(sum(n for name, n in origination["calls_per_loan"].items() if name == "lambda:Invoke")) or functions_run
    )
    gb_seconds = origination["split_s"]["in_functions"] * 0.5  # 512 MB functions (the scoring one has 1 GB: a floor)
    cost = _price(origination["calls_per_loan"], origination["state_transitions_per_loan"], invocations, gb_seconds)
    cold = _cold_starts()
    # What the imports left for later cost: each function's first invocation (warm-up loan) beside its later ones.
    cold["first_invocation_local_stack_s"] = origination.pop("first_invocation_s")
    return {
        "origination": origination,
        "cost_usd_per_1000_loans_us_east_1_list_prices": cost,
        "cold_start": cold,
        "within_goal": origination["within_goal"] and cold["within_goal"],
    }
