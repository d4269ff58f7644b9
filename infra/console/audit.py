"""``lending audit verify --loan ID --root HEX``: check a loan's audit trail offline against a published root.

The audit answer (``GET /v1/loans/{id}/audit``) comes from ``--file`` (saved earlier, or handed over by the
borrower) or from the API (``--api-url`` and ``--token``). Nothing in the answer is trusted: every link of the chain
is recomputed, the sealed head must be in it, and the head's inclusion proof must lead to the root the operator
published for that day (``--root``, e.g. the ``root`` of ``anchors/<day>.json`` in the write-once bucket). Prints
each check; exits 1 on any that fails.
"""

from __future__ import annotations

import argparse
import json
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from lending.anchoring import Anchor, check
from lending.audit import AuditEvent


def register(commands: Any) -> None:
    audit = commands.add_parser("audit", help="the audit trail, checked offline", description=__doc__)
    audit_commands = audit.add_subparsers(dest="audit_command", required=True, parser_class=type(audit))
    verify = audit_commands.add_parser("verify", help="a loan's chain and its anchor against a published root")
    verify.add_argument("--loan", required=True, help="the loan id")
    verify.add_argument("--root", required=True, help="the published Merkle root of the sealed day (64 hex digits)")
    verify.add_argument("--file", type=Path, help="the audit answer as JSON (instead of fetching it)")
    verify.add_argument("--api-url", help="the API's base URL, to fetch the audit answer (with --token)")
    verify.add_argument("--token", help="a bearer token of the borrower, an underwriter or operations")
    verify.set_defaults(run=verify_command)


def _fetch(api_url: str, token: str, loan_id: str) -> Any:
    url = f"{api_url.rstrip('/')}/v1/loans/{urllib.parse.quote(loan_id, safe='')}/audit"
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def read_answer(raw: Any, loan_id: str) -> tuple[list[AuditEvent], Anchor | None]:
    """The events and anchor of an audit answer for ``loan_id``; a ValueError when it is not one."""
    if not isinstance(raw, dict) or not isinstance(raw.get("events"), list):
        raise ValueError("not an audit answer: no events")
    if raw.get("loan_id") != loan_id:
        raise ValueError(f"the audit answer is for loan {raw.get('loan_id')!r}, not {loan_id!r}")
    anchor = None if raw.get("anchor") is None else Anchor.from_json(raw["anchor"])
    subject = anchor.chain if anchor is not None else ""
    events = [AuditEvent.from_json({**event, "subject": subject}) for event in raw["events"]]
    return events, anchor


def verify_command(args: argparse.Namespace) -> int:
    if args.file is not None:
        raw = json.loads(args.file.read_text())
    elif args.api_url and args.token:
        raw = _fetch(args.api_url, args.token, args.loan)
    else:
        raise ValueError("give the audit answer with --file, or --api-url and --token to fetch it")
    events, anchor = read_answer(raw, args.loan)
    results = check(events, anchor, args.root)
    print(f"loan {args.loan}: {len(events)} audit events" + (f", sealed on {anchor.day}" if anchor else ""))
    for result in results:
        print(f"{'ok  ' if result.ok else 'FAIL'}  {result.what}")
    passed = all(result.ok for result in results)
    print("verified: the chain and its sealed head match the published root" if passed else "NOT verified")
    return 0 if passed else 1
