"""``python -m infra.bench [name ...]``: run the benchmarks (all, or those named) and print their figures as JSON
(``make bench``). The functions' own output (logs, metrics) goes to stderr."""

from __future__ import annotations

import contextlib
import importlib
import json
import sys

BENCHMARKS = (
    "domain",
    "scoring",
    "platform",
    "cold",
    "servicing",
    "lists",
    "collections",
    "operations",
    "early_warning",
)


def main(argv: list[str] | None = None) -> int:
    names = (sys.argv[1:] if argv is None else argv) or list(BENCHMARKS)
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    # What the functions print (their logs and metrics, CloudWatch's in AWS) goes to stderr: stdout is the report.
    with contextlib.redirect_stdout(sys.stderr):
        results = {name: importlib.import_module(f"infra.bench.{name}").run() for name in names}
    print(json.dumps(results, indent=2))
    return 0 if all(r.get("within_goal", True) for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
