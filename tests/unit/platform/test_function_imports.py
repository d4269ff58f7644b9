"""A function imports what it runs and nothing more: what a cold start loads, a user waits for (issue 13)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from infra.local.template import functions, load_template

pytestmark = pytest.mark.slow  # starts a fresh interpreter: make test runs it, make unit leaves it out

#: The model runtime (~150-200 ms of imports) is the scoring function's alone.
MODEL_RUNTIME = ["onnxruntime", "numpy"]
SCORING = "CreditScoringFunction"

_PROBE = """
import importlib.util, json, sys
runtime, found = json.loads(sys.argv[1]), {}
for name, path in json.loads(sys.argv[2]).items():
    spec = importlib.util.spec_from_file_location(f"app_{name}", path)
    spec.loader.exec_module(importlib.util.module_from_spec(spec))
    found[name] = sorted(m for m in runtime if m in sys.modules)
print(json.dumps(found))
"""


def test_no_function_but_scoring_imports_the_model_runtime() -> None:
    # Given one fresh interpreter that loads every other function's module in turn (each handler imports all it
    # runs at module level), noting what of the model runtime is loaded after each
    modules = {
        logical_id: str(spec.code_dir / f"{spec.handler.rpartition('.')[0]}.py")
        for logical_id, spec in sorted(functions(load_template()).items())
        if logical_id != SCORING
    }
    answer = subprocess.run(
        [sys.executable, "-P", "-c", _PROBE, json.dumps(MODEL_RUNTIME), json.dumps(modules)],
        check=True,
        capture_output=True,
        text=True,
        env={"AWS_DEFAULT_REGION": "ap-east-1", "PATH": "/usr/bin:/bin"},
    ).stdout
    # Then after every one of them, neither onnxruntime nor numpy is loaded
    assert json.loads(answer) == {name: [] for name in modules}
