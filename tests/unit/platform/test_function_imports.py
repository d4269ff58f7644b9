"""A function imports what it runs and nothing more: what a cold start loads, a user waits for (issue 13)."""

from __future__ import annotations

import subprocess
import sys

import pytest

#: The model runtime (~150-200 ms of imports) is the scoring function's alone.
MODEL_RUNTIME = ("onnxruntime", "numpy")

#: What each step's handler imports to run, beyond its module (the decision and the business review read the
#: stored score and the bank data; neither scores).
STEP_IMPORTS = {
    "decision": ["lending.catalogue", "lending.risk.policy", "lending.steps.assessment", "lending.steps.money"],
    "business_review": ["lending.adapters.vendors.bank_data", "lending.risk.policy", "lending.steps.assessment"],
}


@pytest.mark.parametrize("function", sorted(STEP_IMPORTS))
def test_a_step_that_never_scores_never_imports_the_model_runtime(function: str) -> None:
    # Given a fresh interpreter that imports what the step's first invocation imports
    modules = "; ".join(f"import {name}" for name in STEP_IMPORTS[function])
    probe = f"import sys; {modules}; print(sorted(m for m in {MODEL_RUNTIME!r} if m in sys.modules))"
    # When it has imported them / Then neither onnxruntime nor numpy is loaded
    loaded = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True).stdout.strip()
    assert loaded == "[]"
