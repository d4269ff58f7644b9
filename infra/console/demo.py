"""``lending demo``: one borrower through apply → verify → decide → accept the contract → disburse, against the
running local stack.

Start the stack first (``make run``); the demo reads ``.local/stack.json`` for the URL and a sandbox token.
"""

from __future__ import annotations

import argparse
import json
import time
import urllib.error
import urllib.request
import uuid
from datetime import date
from pathlib import Path
from typing import Any

TERMINAL = {"DISBURSED", "LINE_OPENED", "DECLINED", "EXPIRED", "FAILED"}


def register(commands: Any) -> None:
    parser = commands.add_parser("demo", help="walk one borrower through the running local stack", description=__doc__)
    parser.add_argument("--stack", type=Path, default=Path(".local/stack.json"), help="the local stack's description")
    parser.add_argument("--phone-suffix", default="0001", help="sandbox outcome by phone (0001 approve, 0002 decline…)")
    parser.add_argument("--product", default="business_instalment")
    parser.add_argument("--amount", default="120000.00")
    parser.add_argument("--months", type=int, default=12)
    parser.set_defaults(run=run)


def _call(url: str, token: str, method: str = "GET", body: Any = None, headers: dict[str, str] | None = None) -> Any:
    request = urllib.request.Request(
        url,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as error:
        raise ValueError(f"{method} {url}: {error.code} {error.read().decode()}") from None


def _accept(api: str, token: str, application_id: str, started: float) -> None:
    """Read the contract for the offer as it stands and accept exactly it; say what was accepted."""
    contract = _call(f"{api}/v1/applications/{application_id}/contract", token, headers={"Accept-Language": "en"})
    _call(
        f"{api}/v1/applications/{application_id}/acceptance",
        token,
        "POST",
        {"contract_sha256": contract["sha256"]},
        {"Idempotency-Key": f"demo-accept-{application_id}"},
    )
    print(
        f"{time.monotonic() - started:6.2f}s  {'accepted':<17} {contract['amount']} CNY over "
        f"{contract['term_months']} months: APR {contract['apr']}, total cost of credit "
        f"{contract['total_cost_of_credit']} CNY (contract {contract['sha256'][:16]}…)"
    )


def run(args: argparse.Namespace) -> int:
    from infra.console import UsageError
    from lending.prc_id import make_id_number

    if not args.stack.is_file():
        raise UsageError(f"{args.stack} not found: start the local stack with `make run` first")
    stack = json.loads(args.stack.read_text())
    api, token = stack["api_url"], stack["tokens"]["borrower"]
    body = {
        "product": args.product,
        "amount": args.amount,
        "term_months": args.months,
        "purpose": "inventory",
        "applicant": {
            "name": "Demo Borrower",
            "id_number": make_id_number("110101", date(1986, 6, 16), 7),
            "phone": f"+861380000{args.phone_suffix}",
            "bank_account": "6222020000005678",
        },
        "business": {"name": "Demo Trading", "industry": "retail", "registered_on": "2021-03-01"},
        "consent": {"credit_report": True, "data_processing": True},
    }
    started = time.monotonic()
    accepted = _call(f"{api}/v1/applications", token, "POST", body, {"Idempotency-Key": str(uuid.uuid4())})
    application_id = accepted["application_id"]
    print(f"{0:6.2f}s  applied           {application_id}  {accepted['status']}")
    seen = accepted["status"]
    while True:
        view = _call(f"{api}/v1/applications/{application_id}", token)
        if view["status"] != seen:
            seen = view["status"]
            print(f"{time.monotonic() - started:6.2f}s  {seen.lower():<17} ", end="")
            if view.get("decision") and seen in {"APPROVED", "DECLINED", "UNDER_REVIEW"}:
                reasons = ", ".join(r["code"] for r in view["decision"]["reasons"][:3])
                print(f"score {view['decision']['score']} grade {view['decision']['risk_grade']} {reasons}", end="")
            if view.get("offer") and seen in {"DISBURSING", "DISBURSED", "LINE_OPENED"}:
                offer = view["offer"]
                print(f"{offer['limit']} CNY at {offer['annual_rate']} (APR {offer['apr']})", end="")
            print()
        if seen in TERMINAL:
            break
        if seen == "APPROVED" and (view.get("offer") or {}).get("expires_at") and not view.get("accepted"):
            _accept(api, token, application_id, started)
        time.sleep(0.2)
    if view.get("loan_id"):
        loan = _call(f"{api}/v1/loans/{view['loan_id']}", token)
        first = loan["schedule"][0] if loan["schedule"] else None
        print(f"loan {loan['loan_id']}: principal outstanding {loan['principal_outstanding']}", end="")
        print(f", first instalment {first['due_date']} {first['principal']} + {first['interest']}" if first else "")
    return 0
