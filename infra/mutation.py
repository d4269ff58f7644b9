"""Mutation testing of the money core (make mutation): mutmut, one module at a time, each within a time budget.

mutmut names a mutant after its file's path below ``./``, ``src/`` or ``source/`` and must find the same name on the
running function, while the package lives at ``shared/lending`` and is imported as ``lending``. So the runs work in
a scratch directory, ``.local/mutation``, where ``src/lending`` is the package, ``tests`` the suite and
``pyproject.toml`` the project's own with a ``[tool.mutmut]`` table added: mutmut copies the package into
``mutants/src/lending``, puts it first on ``sys.path`` and runs pytest in-process against the copy.

Each module's mutants run with two workers until they are done or the module's budget (``MUTATION_SECONDS``, 420
by default) is spent; mutants left untried are reported as such, never counted as killed. ``loan`` and ``apr`` are
sampled: only the functions named below are mutated. Scores go to ``.local/mutation.json``; survivors are listed
with the command that shows each diff.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRATCH = ROOT / ".local" / "mutation"
REPORT = ROOT / ".local" / "mutation.json"
MUTMUT = Path(sys.executable).parent / "mutmut"
WORKERS = 2


@dataclass(frozen=True)
class Target:
    """One module of the money core and the functions of it that are mutated (all of them when none are named)."""

    module: str
    functions: tuple[str, ...] = ()

    @property
    def globs(self) -> list[str]:
        """mutmut's mutant-name patterns for this target: ``lending.loan.xǁInstalmentLoanǁadvance_to__mutmut_*``."""
        if not self.functions:
            return [f"lending.{self.module}.*"]
        return [f"lending.{self.module}.{_mangled(name)}__mutmut_*" for name in self.functions]


def _mangled(name: str) -> str:
    """mutmut's key for a function (``x_name``) or a method (``xǁClassǁname``)."""
    owner, _, function = name.rpartition(".")
    return f"xǁ{owner}ǁ{function}" if owner else f"x_{function}"


TARGETS = (
    Target("allocation"),
    Target("ledger"),
    Target("money"),
    # The penalty, the recognition of dues and the waterfall's application: the loan's sums.
    Target(
        "loan",
        (
            "InstalmentLoan._accrue_penalty",
            "InstalmentLoan.advance_to",
            "InstalmentLoan.apply_payment",
            "InstalmentLoan.days_past_due",
            "InstalmentLoan._spread",
        ),
    ),
    # The disclosed rates from a monthly IRR, and the IRR's own guard.
    Target("apr", ("monthly_irr", "annualise_monthly")),
)

#: The tests that exercise the money core: the domain's unit tests. mutmut records which of them reach each
#: function and runs only those against that function's mutants.
TEST_SELECTION = (
    "tests/unit/test_lending_*.py",
    "tests/unit/test_fast_paths_money.py",
    "tests/unit/test_fast_paths_apr.py",
    "tests/unit/test_funding.py",
    "tests/unit/test_reconciliation.py",
    "tests/unit/servicing",
)

_STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests", 36: "timeout", 24: "timeout"}
_STATUS |= {-24: "timeout", 152: "timeout", 255: "timeout", None: "not tried", 2: "not tried"}


def _selection() -> list[str]:
    paths: list[str] = []
    for pattern in TEST_SELECTION:
        paths += sorted(str(p.relative_to(ROOT)) for p in ROOT.glob(pattern))
    return paths


def _toml_list(items: list[str]) -> str:
    return "[" + ", ".join(json.dumps(item) for item in items) + "]"


def prepare(targets: tuple[Target, ...]) -> None:
    """A fresh scratch directory: the package as src/lending, the tests, and the config with mutmut's table."""
    shutil.rmtree(SCRATCH, ignore_errors=True)
    (SCRATCH / "src").mkdir(parents=True)
    (SCRATCH / "src" / "lending").symlink_to(ROOT / "shared" / "lending")
    (SCRATCH / "tests").symlink_to(ROOT / "tests")
    config = {
        "source_paths": ["src/lending"],
        "only_mutate": [f"src/lending/{t.module}.py" for t in targets],
        "pytest_add_cli_args_test_selection": _selection(),
        # The same examples for every mutant (see tests/conftest.py); no cache written into the copied tests.
        "pytest_add_cli_args": ["--hypothesis-profile=mutation", "-p", "no:cacheprovider", "-p", "no:warnings"],
    }
    table = "\n".join(f"{key} = {_toml_list(value)}" for key, value in config.items())
    (SCRATCH / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text() + f"\n[tool.mutmut]\n{table}\n")


def run(target: Target, budget: float) -> float:
    """Run one target's mutants until done or out of budget; returns the seconds it took."""
    started = time.monotonic()
    command = [str(MUTMUT), "run", "--max-children", str(WORKERS), *target.globs]
    log = (SCRATCH / f"{target.module}.log").open("w")
    process = subprocess.Popen(command, cwd=SCRATCH, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        process.wait(timeout=budget)
    except subprocess.TimeoutExpired:
        # mutmut stops its workers on an interrupt and keeps every result it has.
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    finally:
        log.close()
    return time.monotonic() - started


def results(target: Target) -> dict[str, str]:
    """Each of the target's mutants and what became of it, from mutmut's own record."""
    meta = SCRATCH / "mutants" / "src" / "lending" / f"{target.module}.py.meta"
    if not meta.exists():
        return {}
    codes: dict[str, int | None] = json.loads(meta.read_text())["exit_code_by_key"]
    prefixes = tuple(glob.removesuffix("*") for glob in target.globs)
    return {name: _STATUS.get(code, "suspicious") for name, code in codes.items() if name.startswith(prefixes)}


def main(argv: list[str]) -> int:
    chosen = tuple(t for t in TARGETS if not argv or t.module in argv)
    if not chosen:
        print(f"no such module; choose from {', '.join(t.module for t in TARGETS)}", file=sys.stderr)
        return 2
    budget = float(os.environ.get("MUTATION_SECONDS", "420"))
    prepare(chosen)
    report: dict[str, dict[str, object]] = {}
    print(f"mutmut, {WORKERS} workers, at most {budget:.0f} s a module (MUTATION_SECONDS); logs in {SCRATCH}")
    columns = ("mutants", 8), ("killed", 7), ("survived", 9), ("no test", 8), ("untried", 8), ("score", 6), ("s", 5)
    print(f"{'module':<11} " + " ".join(f"{name:>{width}}" for name, width in columns), flush=True)
    for target in chosen:
        seconds = run(target, budget)
        outcome = results(target)
        counts = Counter(outcome.values())
        tried = len(outcome) - counts["not tried"]
        # A mutant that hangs the tests (timeout) is caught, as mutmut counts it; one no selected test reaches is
        # not; untried ones (out of budget) count for nothing either way.
        caught = counts["killed"] + counts["timeout"]
        score = f"{caught / tried:.0%}" if tried else "-"
        print(
            f"{target.module:<11} {len(outcome):>8} {caught:>7} {counts['survived']:>9} {counts['no tests']:>8} "
            f"{counts['not tried']:>8} {score:>6} {seconds:>5.0f}",
            flush=True,
        )
        report[target.module] = {
            "functions": list(target.functions) or "all",
            "mutants": len(outcome),
            "counts": dict(counts),
            "seconds": round(seconds),
            "survivors": sorted(name for name, status in outcome.items() if status == "survived"),
        }
    REPORT.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    survivors = [name for module in report.values() for name in module["survivors"]]  # type: ignore[attr-defined]
    if survivors:
        print(f"\n{len(survivors)} survived; see each with: cd {SCRATCH.relative_to(ROOT)} && mutmut show NAME")
        for name in survivors:
            print(f"  {name}")
    print(f"\nfigures in {REPORT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
