"""``lending model train|evaluate``: rebuild the credit models and their cards from scratch, or check them.

Needs the training stack (``uv sync --extra train``); it lives in ``infra/model`` and never ships in a Lambda.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def register(commands: Any) -> None:
    parser = commands.add_parser("model", help="train or evaluate the credit models", description=__doc__)
    actions = parser.add_subparsers(dest="action", required=True)
    train = actions.add_parser("train", help="train both models with the fixed seed and write their artefacts")
    train.add_argument("--out", type=Path, default=None, help="directory for the artefacts (default: the layer's)")
    train.set_defaults(run=run)
    evaluate = actions.add_parser("evaluate", help="reload the artefacts and recompute their figures")
    evaluate.add_argument("--dir", type=Path, default=None, help="artefact directory (default: the layer's)")
    evaluate.set_defaults(run=run)


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
