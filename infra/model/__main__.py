"""``python -m infra.model train [--out DIR]`` and ``python -m infra.model evaluate [--dir DIR]``, printing JSON."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from infra.model.pipeline import default_models_dir, evaluate, train


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    """The sub-command and its directory."""
    parser = argparse.ArgumentParser(prog="python -m infra.model", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    train_command = commands.add_parser("train", help="retrain both models from scratch and write the artefacts")
    train_command.add_argument("--out", default=str(default_models_dir()), help="artefact root (default: %(default)s)")
    evaluate_command = commands.add_parser("evaluate", help="reload the artefacts and check metrics and parity")
    evaluate_command.add_argument(
        "--dir", default=str(default_models_dir()), help="artefact root (default: %(default)s)"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the sub-command and print its result as JSON."""
    arguments = parse_arguments(argv)
    result = train(arguments.out) if arguments.command == "train" else evaluate(arguments.dir)
    print(json.dumps(result, indent=2))
    # train raises on a parity failure; evaluate reports it, and the exit status carries it to CI.
    return 0 if result.get("ok", True) else 1


if __name__ == "__main__":
    sys.exit(main())
