"""``lending simulate``: replay a loan's or line's life offline, on the code that services real ones.

The events file is a JSON list, in any order (it is replayed by date, then as written):
``[{"on": "2026-02-01", "kind": "payment", "amount": "3000.00"}, {"on": "2026-02-10", "kind": "drawdown",
"amount": "5000"}, {"on": "2026-03-20", "kind": "day"}]`` — a payment, a drawdown (a line only), or a day passing
(to see the loan on that date). For each date the output has the loan's state (balances, days past due, the payoff
that day), its current schedule, and the ledger transaction servicing posts for it: "what if I pay X on Y".
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from infra.console.quote import _amount, _date, _rate
from lending.catalogue import Catalogue, Method, load_catalogue
from lending.clock import CHINA_STANDARD_TIME
from lending.money import Money
from lending.pricing import make_offer, price_annual_rate
from lending.rates import format_rate
from lending.servicing import (
    EventKind,
    LoanTerms,
    Position,
    ServicingEvent,
    difference,
    replay,
    schedule_record,
)


class Step(BaseModel):
    """One line of the events file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    on: date
    kind: Literal["payment", "drawdown", "day"]
    amount: str | None = Field(default=None, pattern=r"^[0-9]+(\.[0-9]{1,2})?$")


_STEPS = TypeAdapter(list[Step])


def register(commands: Any) -> None:
    """Add ``simulate`` to the command tree."""
    parser = commands.add_parser(
        "simulate", help="replay a loan's life offline: state, schedule, transactions by date", description=__doc__
    )
    parser.add_argument("--product", required=True, help="product code from the catalogue")
    parser.add_argument("--amount", required=True, type=_amount, help="principal (a line: its limit) in CNY")
    parser.add_argument("--start", required=True, type=_date, help="payout (a line: opening) date")
    parser.add_argument("--events", required=True, help="JSON file of events ('-' for stdin)")
    parser.add_argument("--months", type=int, default=12, help="term in months (default 12)")
    parser.add_argument("--method", type=Method, choices=list(Method), metavar="METHOD", help="amortisation method")
    parser.add_argument("--annual-rate", type=_rate, help="nominal annual rate; else priced from --grade")
    parser.add_argument("--grade", default="B", help="risk grade to price from (default B)")
    parser.add_argument("--industry", help="industry code to price from")
    parser.add_argument("--catalogue", help="another catalogue file")
    parser.add_argument("--table", action="store_true", help="a table for people instead of JSON")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Replay the events and print the loan on each of their dates."""
    from infra.console import UsageError

    text = sys.stdin.read() if args.events == "-" else Path(args.events).read_text(encoding="utf-8")
    try:
        steps = _STEPS.validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise UsageError(f"--events: {where}: {first['msg']}") from None
    catalogue = load_catalogue(args.catalogue)
    product = catalogue.product(args.product)
    rate = args.annual_rate or price_annual_rate(catalogue, product, args.grade, args.industry)
    method = args.method or (product.methods[0] if product.methods else None)
    terms = loan_terms(catalogue, args.product, args.amount, args.months, method, args.start, rate)
    days = simulate(terms, steps)
    print(render_table(days) if args.table else json.dumps(days, indent=2, ensure_ascii=False))
    return 0


def loan_terms(
    catalogue: Catalogue,
    product_code: str,
    amount: Money,
    months: int,
    method: Method | None,
    start: date,
    annual_rate: Decimal,
) -> LoanTerms:
    """Servicing terms of a loan (or line) booked on ``start``, read from a booked record as servicing reads one."""
    product = catalogue.product(product_code)
    record: dict[str, Any] = {
        "loan_id": "simulated",
        "product": product.code,
        "opened_on": start.isoformat(),
        "annual_rate": format_rate(annual_rate),
        "term_months": months,
    }
    if product.kind == "revolving":
        record["limit"] = str(amount)
    else:
        if method is None:
            raise ValueError(f"{product.code} needs --method")
        offer = make_offer(catalogue, product.code, amount, months, method, start, annual_rate)
        record |= {"principal": str(amount), "method": method.value, "schedule": schedule_record(offer.schedule)}
    return LoanTerms.from_record(record, catalogue)


def simulate(terms: LoanTerms, steps: Sequence[Step]) -> list[dict[str, Any]]:
    """The loan after each step, in date order: state, schedule, and the transaction posted since the last step."""
    from infra.console import UsageError

    events: list[ServicingEvent] = []
    booked: dict[Any, int] = dict(replay(terms, [], terms.opened_on).booked)  # as booking leaves it
    days: list[dict[str, Any]] = []
    for number, step in sorted(enumerate(steps), key=lambda pair: (pair[1].on, pair[0])):
        if step.on < terms.opened_on:
            raise UsageError(f"event {number}: {step.on} is before the loan opened on {terms.opened_on}")
        if step.kind != "day":
            if step.amount is None:
                raise UsageError(f"event {number}: a {step.kind} needs an amount")
            if step.kind == "drawdown" and terms.kind != "revolving":
                raise UsageError(f"event {number}: only a credit line is drawn down")
            kind = EventKind.DRAWDOWN if step.kind == "drawdown" else EventKind.REPAYMENT
            # The business day's noon in China: the replay orders a day's events as they are written.
            at = datetime.combine(step.on, time(12), CHINA_STANDARD_TIME).replace(microsecond=number)
            events.append(ServicingEvent(f"event-{number}", kind, at, Money.of(step.amount)))
        position = replay(terms, events, step.on)
        posted = difference(f"step-{number}", step.kind, step.on, booked, position.booked, terms.loan_id)
        booked = dict(position.booked)
        days.append(_document(step, position, posted))
    return days


def _document(step: Step, position: Position, posted: Any) -> dict[str, Any]:
    return {
        "date": step.on.isoformat(),
        "event": step.model_dump(mode="json", exclude_none=True),
        "state": {
            "status": position.status.value,
            "principal_outstanding": str(position.principal_outstanding),
            "interest_accrued": str(position.interest_accrued + position.fee_accrued),
            "penalty_accrued": str(position.penalty_accrued),
            "credit_balance": str(position.credit_balance),
            "available_limit": None if position.available_limit is None else str(position.available_limit),
            "days_past_due": position.days_past_due,
            "payoff": str(position.payoff),
        },
        "schedule": [
            {
                "due_date": row.due_date.isoformat(),
                "principal": str(row.principal),
                "interest": str(row.interest),
                "fee": str(row.fee),
                "paid": row.paid,
                "principal_paid": str(row.principal_paid),
                "interest_paid": str(row.interest_paid),
            }
            for row in position.schedule
        ],
        "transaction": None
        if posted is None
        else [{"account": str(p.account), "amount": str(p.amount)} for p in posted.postings],
    }


def render_table(days: list[dict[str, Any]]) -> str:
    """The replay as text a support person reads down."""
    lines: list[str] = []
    for day in days:
        event = day["event"]
        state = day["state"]
        what = event["kind"] + (f" {event['amount']}" if "amount" in event else "")
        lines += [
            f"{day['date']}  {what}",
            f"  {state['status']}  principal {state['principal_outstanding']}  interest due "
            f"{state['interest_accrued']}  penalty {state['penalty_accrued']}  credit {state['credit_balance']}  "
            f"days past due {state['days_past_due']}  payoff {state['payoff']}",
        ]
        for posting in day["transaction"] or []:
            lines.append(f"    {posting['account']:<40} {posting['amount']:>12}")
        for row in day["schedule"]:
            mark = "paid" if row["paid"] else f"paid {row['principal_paid']} + {row['interest_paid']}"
            lines.append(f"  {row['due_date']}  {row['principal']:>12}  {row['interest']:>10}  {mark}")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    from infra.console import main

    sys.exit(main(["simulate", *sys.argv[1:]]))
