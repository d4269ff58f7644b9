"""``lending local clock``, ``lending local close-day`` and ``lending report reconcile``: the test clock, the nightly
close and the books, on demand.

Against the local stack (``make run``) both go through its control port (``control_url`` in ``.local/stack.json``),
since the local tables live in that process. ``lending report reconcile --loans-table T --ledger-table L`` reads
deployed tables directly with the caller's AWS credentials instead.
"""

from __future__ import annotations

import argparse
import json
import urllib.request
from datetime import date
from pathlib import Path
from typing import Any

DEFAULT_STACK = Path(".local/stack.json")


def register(commands: Any) -> None:
    local = commands.add_parser("local", help="drive the running local stack", description=__doc__)
    local_commands = local.add_subparsers(dest="local_command", required=True, parser_class=type(local))
    close = local_commands.add_parser("close-day", help="run the daily close for a date, as the nightly rule would")
    close.add_argument("--date", required=True, type=date.fromisoformat, help="the business day to close")
    close.add_argument("--stack", type=Path, default=DEFAULT_STACK)
    close.set_defaults(run=close_day)
    moving = local_commands.add_parser("clock", help="read the test clock, or move it forward running each day's jobs")
    moving.add_argument("--advance-to", type=date.fromisoformat, help="the business day to move to (never back)")
    moving.add_argument("--stack", type=Path, default=DEFAULT_STACK)
    moving.set_defaults(run=test_clock)

    report = commands.add_parser("report", help="reports over the books", description=__doc__)
    report_commands = report.add_subparsers(dest="report_command", required=True, parser_class=type(report))
    reconcile = report_commands.add_parser("reconcile", help="trial balance, funding sources, delinquency, roll rates")
    reconcile.add_argument("--stack", type=Path, default=DEFAULT_STACK)
    reconcile.add_argument("--loans-table", help="read deployed tables directly (with --ledger-table)")
    reconcile.add_argument("--ledger-table")
    reconcile.add_argument("--date", type=date.fromisoformat, help="the close date (default: the latest close)")
    reconcile.set_defaults(run=reconcile_report)


def _control_url(stack: Path) -> str:
    try:
        url: str = json.loads(stack.read_text())["control_url"]
    except (OSError, KeyError, ValueError):
        raise ValueError(f"no running local stack described in {stack}: start it with `make run`") from None
    return url


def _call(url: str, body: Any = None) -> Any:
    request = urllib.request.Request(
        url,
        method="GET" if body is None else "POST",
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=900) as response:
        return json.loads(response.read())


def close_day(args: argparse.Namespace) -> int:
    result = _call(f"{_control_url(args.stack)}/schedules/EveryNight", {"date": args.date.isoformat()})
    print(json.dumps(result, indent=2))
    return 0


def test_clock(args: argparse.Namespace) -> int:
    url = f"{_control_url(args.stack)}/clock"
    result = _call(url, {"advance_to": args.advance_to.isoformat()}) if args.advance_to else _call(url)
    print(json.dumps(result, indent=2))
    return 0


def reconcile_report(args: argparse.Namespace) -> int:
    if args.loans_table or args.ledger_table:
        if not (args.loans_table and args.ledger_table):
            raise ValueError("give both --loans-table and --ledger-table")
        from lending.adapters.reconciliation import reconcile_tables

        report = reconcile_tables(args.loans_table, args.ledger_table, close_date=args.date)
        print(report.render())
        return 0 if report.ok else 1
    query = f"?date={args.date.isoformat()}" if args.date else ""
    result = _call(f"{_control_url(args.stack)}/reports/reconcile{query}")
    print(result["text"])
    return 0 if result["ok"] else 1
