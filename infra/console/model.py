"""``lending model train|evaluate``: rebuild the credit models and their cards from scratch, or check them;
``lending model monitor --month YYYY-MM``: the month's model-monitoring report.

Training needs the training stack (``uv sync --extra train``); it lives in ``infra/model`` and never ships in a
Lambda. The report reads the applications scored in the month: from the running local stack (``make run``) through
its control port, where the local tables live, or with ``--applications-table`` from a deployed table directly with
the caller's AWS credentials. It gives the population stability index (PSI) of each model's score and of each model
input against the training sample (< 0.10 stable, 0.10-0.25 watch, > 0.25 shift), and how often the champion and
the challenger shadow-scoring beside it agree.
"""

from __future__ import annotations

import argparse
import json
import urllib.error
import urllib.parse
from pathlib import Path
from typing import Any

DEFAULT_STACK = Path(".local/stack.json")


def register(commands: Any) -> None:
    parser = commands.add_parser("model", help="train or evaluate the credit models", description=__doc__)
    actions = parser.add_subparsers(dest="action", required=True)
    train = actions.add_parser("train", help="train both models with the fixed seed and write their artefacts")
    train.add_argument("--out", type=Path, default=None, help="directory for the artefacts (default: the layer's)")
    train.set_defaults(run=run)
    evaluate = actions.add_parser("evaluate", help="reload the artefacts and recompute their figures")
    evaluate.add_argument("--dir", type=Path, default=None, help="artefact directory (default: the layer's)")
    evaluate.set_defaults(run=run)
    monitor = actions.add_parser("monitor", help="a month's score and input stability, and model agreement")
    monitor.add_argument("--month", required=True, help="the month the applications were scored in, YYYY-MM")
    monitor.add_argument("--stack", type=Path, default=DEFAULT_STACK, help="the local stack (default: %(default)s)")
    monitor.add_argument("--applications-table", help="read a deployed applications table directly instead")
    monitor.add_argument("--json", action="store_true", help="print the report as JSON")
    monitor.set_defaults(run=monitor_command)


def run(args: argparse.Namespace) -> int:
    from infra.console import UsageError

    try:
        import infra.model as pipeline
    except ImportError as exc:
        raise UsageError(f"the training stack is not installed here ({exc}); run `uv sync --extra train`") from None
    if args.action == "train":
        result: dict[str, Any] = pipeline.train(args.out) if args.out else pipeline.train()
    else:
        result = pipeline.evaluate(args.dir) if args.dir else pipeline.evaluate()
    print(json.dumps(result, indent=2, default=str))
    return 0 if result.get("ok", True) else 1


def monitor_command(args: argparse.Namespace) -> int:
    from lending.monitoring import MONTH

    if not MONTH.match(args.month):
        raise ValueError(f"the month must be YYYY-MM, not {args.month!r}")
    if args.applications_table:
        from lending.adapters.model_monitoring import monitor_table

        report = monitor_table(args.applications_table, args.month)
        text, figures = report.render(), report.to_json()
    else:
        from infra.console.operations import _call, _control_url

        url = f"{_control_url(args.stack)}/reports/model-monitoring?month={urllib.parse.quote(args.month)}"
        try:
            answer = _call(url)
        except urllib.error.HTTPError as exc:
            raise ValueError(json.loads(exc.read() or b"{}").get("error", str(exc))) from None
        text, figures = answer["text"], answer["report"]
    print(json.dumps(figures, indent=2) if args.json else text)
    return 0
