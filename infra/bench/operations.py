"""The operations API's funding endpoint (issue 15, part 6) on the stack deployed from template.yaml into moto, its
handler run in-process as Lambda runs it: the AWS calls ``GET /v1/ops/funding`` makes for a small book and for a
book forty times larger (the goal: the same calls, as it reads the funding sources' ledger balance items and the
latest kept reconciliation report, never a loan), and the AWS latency those calls would add, modelled.

Each book is real in the tables: its loans in LoansTable in the shape booking writes them, 10,000.00 each (the
product's least) funded 30/70 by own capital and partner bank A (the larger book, 4,000 loans, is as much as bank
A's 30,000,000.00 quota allows at its 70% share), the ledger's funding and principal balance items agreeing with
them, and the night's report built from those loans (lending.reconciliation) and kept as the nightly job keeps
it. Set-up is not measured.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable
from datetime import date
from typing import Any

from infra.bench.lists import _moment, _seed
from infra.bench.platform import counted_calls
from infra.bench.servicing import MODELLED_MS, OPENED, _quiet, _schedule_rows
from infra.local.api import proxy_event
from infra.local.runtime import InProcessRuntime, LambdaContext
from infra.local.stack import DeployedStack, local_stack
from lending.adapters.environment import provided_environment

BOOKS = (100, 4_000)
REQUESTS = 5
PRINCIPAL = "10000.00"
SHARES = {"own_capital": "3000.00", "partner:bank_a": "7000.00"}
#: A batch read of a few items, modelled as a little more than one GetItem.
MODELLED = {**MODELLED_MS, "dynamodb:BatchGetItem": 6}


def _loans(count: int) -> list[dict[str, Any]]:
    schedule = _schedule_rows(PRINCIPAL, 12)
    return [
        {
            "loan_id": f"bench-loan-{n}",
            "application_id": f"bench-app-{n}",
            "borrower_id": f"bench-borrower-{n % 500}",
            "product": "business_instalment",
            "kind": "instalment",
            "opened_at": _moment(n),
            "opened_on": OPENED.isoformat(),
            "annual_rate": "0.1200",
            "term_months": 12,
            "status": "ACTIVE",
            "principal": PRINCIPAL,
            "method": "equal_instalment",
            "upfront_fee": "0.00",
            "schedule": schedule,
            "funding": {"reservation_id": f"bench-app-{n}/funding", "shares": SHARES},
        }
        for n in range(count)
    ]


def _ledger(count: int) -> tuple[list[dict[str, Any]], dict[Any, int]]:
    """The balance items a book of ``count`` such loans stands at, and the posted balances they hold."""
    from lending.ledger import Account, AccountCode
    from lending.money import Money

    posted: dict[Any, int] = {}
    for source, share in SHARES.items():
        posted[Account(AccountCode.FUNDING, source)] = -Money.of(share).fen * count
    for n in range(count):
        posted[Account(AccountCode.PRINCIPAL_RECEIVABLE, f"bench-loan-{n}")] = Money.of(PRINCIPAL).fen
    items = [
        {"pk": f"ACCOUNT#{account}", "sk": "BALANCE", "account": str(account), "posted": fen, "pending": 0, "net": fen}
        for account, fen in posted.items()
    ]
    return items, posted


def _write(stack: DeployedStack, output: str, records: list[dict[str, Any]]) -> None:
    """Records written through moto's API in batches (the ledger's table has a sort key, which the fast seeding of
    the lists' bench does not handle): set-up, not measured."""
    import boto3

    from lending.adapters.attribute_values import to_item

    dynamodb = boto3.client("dynamodb", region_name=stack.region)
    table = stack.outputs[output]
    for start in range(0, len(records), 25):
        batch = [{"PutRequest": {"Item": to_item(r)}} for r in records[start : start + 25]]
        dynamodb.batch_write_item(RequestItems={table: batch})


def _keep_report(stack: DeployedStack, loans: list[dict[str, Any]], posted: dict[Any, int], day: date) -> bool:
    """The night's report over the book, kept as the nightly job keeps it; whether it balanced."""
    from lending.adapters.aws import client
    from lending.adapters.reconciliation import loan_facts
    from lending.adapters.reconciliation_store import ReconciliationStore
    from lending.catalogue import load_catalogue
    from lending.reconciliation import build_report

    report = build_report(
        posted=posted,
        unbalanced_accounts=[],
        loans=[loan_facts(record) for record in loans],
        catalogue=load_catalogue(),
        close_date=day,
    )
    with provided_environment({"AWS_REGION": stack.region}):
        ReconciliationStore(stack.outputs["ReconciliationTableName"], client("dynamodb")).put(report.to_record())
    return report.ok


def _ops_api(stack: DeployedStack) -> Callable[[str], tuple[int, Any]]:
    """The operations API's handler, imported as Lambda runs it (its deployed environment), called as an operator."""
    import boto3

    routes = {r.path: r for r in stack.routes if r.method == "GET"}
    function = routes["/v1/ops/funding"].function
    spec = stack.functions[function]
    name = stack.physical_ids[function]
    configuration = boto3.client("lambda", region_name=stack.region).get_function_configuration(FunctionName=name)
    environment = {
        "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_REGION": stack.region,
        **configuration.get("Environment", {}).get("Variables", {}),
    }
    runtime = InProcessRuntime({spec.logical_id: spec})
    claims = {"sub": "bench-operator", "cognito:groups": "[operations]"}

    def get(path: str) -> tuple[int, Any]:
        event = proxy_event(routes[path], "GET", path, {}, {}, {}, b"", claims)
        context = LambdaContext(name, configuration["FunctionArn"], configuration["MemorySize"], 29)
        with provided_environment(environment), _quiet():
            answer = runtime.handler_for(spec)(event, context)
        return int(answer["statusCode"]), json.loads(answer["body"])

    return get


def _book(count: int) -> dict[str, Any]:
    day = OPENED
    with local_stack() as (stack, _runtime):
        loans = _loans(count)
        _seed(stack, "LoansTableName", "loan_id", loans, ("loan_id", "application_id", "borrower_id", "opened_at"))
        items, posted = _ledger(count)
        _write(stack, "LedgerTableName", items)
        balanced = _keep_report(stack, loans, posted, day)
        get = _ops_api(stack)
        per_request: list[dict[str, int]] = []
        answer: Any = None
        for _ in range(REQUESTS):
            with counted_calls() as calls:
                status, answer = get("/v1/ops/funding")
            if status != 200:
                raise RuntimeError(f"GET /v1/ops/funding answered {status}: {answer}")
            per_request.append(dict(sorted(calls.items())))
    book = sum(float(s["posted"]) for s in answer["sources"])
    return {
        "loans": count,
        "report_balanced": balanced,
        "book_as_of": answer["book_as_of"],
        "principal_outstanding": answer["principal_outstanding"],
        "lent_by_sources": f"{book:.2f}",
        "available": {s["source"]: s["available"] for s in answer["sources"]},
        "calls_per_request": per_request[0],
        "same_calls_every_request": all(calls == per_request[0] for calls in per_request),
        "modelled_aws_ms_per_request": float(sum(MODELLED.get(c, 0) * n for c, n in per_request[0].items())),
    }


#: The portfolio endpoint's books: it reads the close's snapshot, kept from running figures (lending.portfolio).
PORTFOLIO_BOOKS = (10_000, 100_000)


def _standings(count: int) -> dict[Any, Any]:
    """The cells ``count`` loans stand in, summed as their bookings and servicing writes leave them: every loan's
    record and servicing state made (products, industries, states, grades and vintages varied by its number) and
    placed by lending.portfolio.standing, the function the writes use."""
    from lending.catalogue import load_catalogue
    from lending.portfolio import Figures, standing

    catalogue = load_catalogue()
    products, industries = sorted(catalogue.products), sorted(catalogue.industries)
    states = [("current", "normal")] * 6 + [
        ("dpd_1_30", "special_mention"),
        ("dpd_31_60", "special_mention"),
        ("dpd_61_90", "special_mention"),
        ("dpd_90_plus", "substandard"),
    ]
    cells: dict[Any, Any] = {}
    for n in range(count):
        bucket, grade = states[n % len(states)]
        record = {
            "product": products[n % len(products)],
            "industry": industries[n % len(industries)],
            "status": "ACTIVE",
            "opened_on": f"2026-{1 + n % 12:02d}-10",
        }
        state = {
            "bucket": None if bucket == "current" else bucket,
            "classification": grade,
            "principal_outstanding": "10000.00",
            "provision": "100.00",
        }
        cell, figures = standing(record, state)
        cells[cell] = cells.get(cell, Figures()) + figures
    return cells


def _portfolio_book(count: int) -> dict[str, Any]:
    from lending.adapters.aws import client
    from lending.adapters.portfolio import PortfolioStore
    from lending.catalogue import load_catalogue
    from lending.steps.daily_close import snapshot_day

    day = OPENED
    cells = _standings(count)
    with local_stack() as (stack, _runtime):
        # The cells as the book's writes leave them, spread over the shards (set-up, not measured)
        items = [
            {
                "part": f"cells#{n % 16}",
                "cell": cell.key,
                "loans": figures.loans,
                "principal": figures.principal,
                "provision": figures.provision,
                "written_off": figures.written_off,
            }
            for n, (cell, figures) in enumerate(sorted(cells.items()))
        ]
        _write(stack, "PortfolioTableName", items)
        with provided_environment({"AWS_REGION": stack.region}):
            store = PortfolioStore(stack.outputs["PortfolioTableName"], client("dynamodb"))
            with counted_calls() as close_calls:
                snapshot = snapshot_day(day, portfolio=store, catalogue=load_catalogue())
        get = _ops_api(stack)
        with counted_calls() as calls:
            status, answer = get("/v1/ops/portfolio")
        if status != 200:
            raise RuntimeError(f"GET /v1/ops/portfolio answered {status}: {answer}")
    return {
        "loans": count,
        "cells": len(cells),
        "snapshot_loans": snapshot["loans"],
        "principal_outstanding": answer["principal_outstanding"],
        "close_snapshot_calls": dict(sorted(close_calls.items())),
        "calls_per_request": dict(sorted(calls.items())),
        "modelled_aws_ms_per_request": float(sum(MODELLED.get(c, 0) * n for c, n in calls.items())),
    }


def run() -> dict[str, Any]:
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")  # as the local platform runs: no X-Ray daemon
    portfolio = [_portfolio_book(count) for count in PORTFOLIO_BOOKS]
    portfolio_same = portfolio[0]["calls_per_request"] == portfolio[1]["calls_per_request"] and (
        portfolio[0]["close_snapshot_calls"] == portfolio[1]["close_snapshot_calls"]
    )
    portfolio_right = all(p["snapshot_loans"] == p["loans"] for p in portfolio)
    books = [_book(count) for count in BOOKS]
    small, large = books[0]["calls_per_request"], books[-1]["calls_per_request"]
    expected = [f"{count * 10000:.2f}" for count in BOOKS]
    right = [b["principal_outstanding"] for b in books] == expected and all(b["report_balanced"] for b in books)
    return {
        "funding": books,
        "ratio_of_books": BOOKS[-1] // BOOKS[0],
        "same_calls_for_both_books": small == large and Counter(small).total() == Counter(large).total(),
        "portfolio": portfolio,
        "portfolio_same_calls_for_both_books": portfolio_same,
        "within_goal": small == large
        and all(b["same_calls_every_request"] for b in books)
        and right
        and portfolio_same
        and portfolio_right,
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
