"""``lending score``: score a file of applicants for analysts, one JSON line out per line in.

Each input line: ``{"amount": "100000.00", "term_months": 12, "age_years": 40, "bureau": {...}}`` where
``bureau`` holds the credit-bureau report's fields (seniority_years, home, marital, derogatory_records, job,
monthly_expenses, monthly_income, assets, debt). A line that cannot be scored gives ``{"line": n, "error": ...}``.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from lending.money import Money


def register(commands: Any) -> None:
    parser = commands.add_parser("score", help="score applicants from a JSON-lines file", description=__doc__)
    parser.add_argument("--input", required=True, help="JSON-lines file of applicants ('-' for stdin)")
    parser.add_argument("--model", default=None, help="model id (default: the configured champion)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from lending.scoring.engine import score_applicant, score_json
    from lending.scoring.model import load_model

    model = load_model(args.model)
    stream = sys.stdin if args.input == "-" else open(args.input, encoding="utf-8")  # noqa: SIM115
    failures = 0
    with stream:
        for number, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            try:
                applicant = json.loads(line)
                if not isinstance(applicant, dict):
                    raise TypeError("each line must be a JSON object")
                _, result = score_applicant(
                    model,
                    Money.of(applicant["amount"]),
                    applicant["term_months"],
                    applicant["age_years"],
                    applicant["bureau"],
                )
                out: dict[str, Any] = {"line": number, **score_json(result)}
            except (ValueError, KeyError, TypeError, ArithmeticError) as exc:
                failures += 1
                out = {"line": number, "error": f"{type(exc).__name__}: {exc}"}
            print(json.dumps(out))
    return 1 if failures else 0
