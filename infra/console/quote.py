"""``lending quote``: a loan calculator for people, on the same code that prices real offers."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from decimal import Decimal
from typing import Any

from lending.calendar import business_date
from lending.catalogue import Method, load_catalogue
from lending.money import Money, total
from lending.pricing import Fees, Offer, make_offer, price_offer
from lending.rates import format_rate, parse_rate


def _amount(text: str) -> Money:
    try:
        return Money.of(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _rate(text: str) -> Decimal:
    try:
        return parse_rate(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def register(commands: Any) -> None:
    """Add ``quote`` to the command tree."""
    parser = commands.add_parser(
        "quote",
        help="schedule, total interest and APR of a loan",
        description="Price a loan and print its schedule, total interest, APR and effective annual rate.",
    )
    parser.add_argument("--product", required=True, help="product code from the catalogue")
    parser.add_argument("--amount", required=True, type=_amount, help="principal in CNY, e.g. 120000 or 120000.00")
    parser.add_argument("--months", required=True, type=int, help="term in months")
    parser.add_argument("--method", required=True, type=Method, choices=list(Method), metavar="METHOD")
    parser.add_argument("--start", type=_date, default=None, help="disbursement date (default: today in China)")
    parser.add_argument("--annual-rate", type=_rate, help="nominal annual rate, e.g. 0.12; else priced by grade")
    parser.add_argument(
        "--fee", action="append", type=_amount, default=[], help="an upfront fee in CNY (with --annual-rate)"
    )
    parser.add_argument("--grade", help="risk grade to price from (without --annual-rate)")
    parser.add_argument("--industry", help="industry code to price from (without --annual-rate)")
    parser.add_argument("--grace-months", type=int, help="interest-only months (interest_only_grace)")
    parser.add_argument("--repayment-day", type=int, help="fixed day of the month; the first period is broken")
    parser.add_argument("--catalogue", help="another catalogue file")
    parser.add_argument("--table", action="store_true", help="a table for people instead of JSON")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Price the loan and print it."""
    from infra.console import UsageError

    catalogue = load_catalogue(args.catalogue)
    start = args.start or business_date()
    if args.annual_rate is not None:
        if args.grade or args.industry:
            raise UsageError("give --annual-rate, or --grade (and --industry), not both")
        offer = make_offer(
            catalogue,
            args.product,
            args.amount,
            args.months,
            args.method,
            start,
            args.annual_rate,
            fees=Fees(upfront=total(args.fee)),
            repayment_day=args.repayment_day,
            grace_months=args.grace_months,
        )
    else:
        if args.fee:
            raise UsageError("--fee goes with --annual-rate; priced offers take the product's fees")
        if not args.grade:
            raise UsageError("give --annual-rate, or --grade to price from the catalogue")
        if args.grace_months is not None:
            raise UsageError("--grace-months goes with --annual-rate; priced offers take the product's grace")
        offer = price_offer(
            catalogue,
            args.product,
            args.amount,
            args.months,
            args.method,
            start,
            args.grade,
            args.industry,
            repayment_day=args.repayment_day,
        )
    print(render_table(offer) if args.table else json.dumps(quote_document(offer), indent=2))
    return 0


def quote_document(offer: Offer) -> dict[str, Any]:
    """The quote as JSON: money as two-place strings, rates as four-place strings."""
    return {
        "product": offer.product,
        "method": offer.schedule.method.value,
        "amount": str(offer.amount),
        "term_months": offer.term_months,
        "annual_rate": format_rate(offer.annual_rate),
        "upfront_fee": str(offer.upfront_fee),
        "net_disbursement": str(offer.net_disbursement),
        "schedule": [
            {
                "number": i.number,
                "due_date": i.due_date.isoformat(),
                "principal": str(i.principal),
                "interest": str(i.interest),
                **({"fee": str(i.fee)} if i.fee else {}),
                "total": str(i.total),
            }
            for i in offer.schedule.instalments
        ],
        "total_interest": str(offer.schedule.total_interest),
        "total_repayable": str(offer.schedule.total_repayable),
        "apr": format_rate(offer.apr),
        "effective_annual_rate": format_rate(offer.effective_annual_rate),
    }


def render_table(offer: Offer) -> str:
    """The quote as a table a person can read."""
    doc = quote_document(offer)
    lines = [
        f"{doc['product']}  {doc['amount']} CNY over {doc['term_months']} months, {doc['method']}",
        f"annual rate {_percent(doc['annual_rate'])}   APR {_percent(doc['apr'])}   "
        f"effective annual {_percent(doc['effective_annual_rate'])}",
        f"upfront fee {doc['upfront_fee']}   paid out {doc['net_disbursement']}",
        "",
        f"{'#':>3}  {'due date':<10}  {'principal':>12}  {'interest':>10}  {'total':>12}",
    ]
    lines += [
        f"{row['number']:>3}  {row['due_date']:<10}  {row['principal']:>12}  {row['interest']:>10}  {row['total']:>12}"
        for row in doc["schedule"]
    ]
    lines += ["", f"total interest {doc['total_interest']}   total repayable {doc['total_repayable']}"]
    return "\n".join(lines)


def _percent(rate: str) -> str:
    return f"{Decimal(rate).scaleb(2).quantize(Decimal('0.01'))}%"


if __name__ == "__main__":
    from infra.console import main

    sys.exit(main(["quote", *sys.argv[1:]]))
