"""``lending``: developer and analyst tools. Each subcommand lives in its own module and imports lazily.

The console uses the domain, the adapters and the training pipeline (infra/model), and no Lambda runs it, so it
lives here, outside the layer that ``shared/`` builds.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from lending.errors import LendingError


class UsageError(Exception):
    """Bad command-line input: reported on one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    """argparse that reports errors as one line instead of usage and a message."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    """The command tree: every subcommand registers its arguments here."""
    from infra.console import audit, demo, model, operations, quote, score, simulate

    parser = _Parser(prog="lending", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    quote.register(commands)
    score.register(commands)
    model.register(commands)
    demo.register(commands)
    operations.register(commands)
    simulate.register(commands)
    audit.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; errors are one line on stderr and a non-zero exit, never a traceback."""
    try:
        args = build_parser().parse_args(argv)
        status: int = args.run(args)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except LendingError as exc:
        print(f"error: {exc.code}: {exc.message}", file=sys.stderr)
        return 1
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return status


if __name__ == "__main__":
    sys.exit(main())
