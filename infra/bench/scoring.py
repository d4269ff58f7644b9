"""The scoring function against the same model served natively: latency, cold start and package size.

Goals (issue 3): one applicant end to end in-process (features, inference, reason codes, decision) p50 ≤ 0.3 ms;
a fresh process to its first score ≤ 0.4 s; the deployment package ≤ 150 MiB unzipped. Each is measured beside
the alternative in the same run, and reported as a ratio (ours / native: below 1 is better).

* Latency: the champion through onnxruntime from the bureau client's validated report (its facts →
  ``model.vector`` → one graph for P(bad) and contributions → reason codes → ``decide``) against a LightGBM
  Booster refit by ``infra.model`` with the card's parameters and seed, asked for ``predict`` and
  ``pred_contrib=True`` on the same float32 row, one thread, feeding the same ``decide``.
* Cold start: a fresh interpreter importing the scoring stack, loading the model and scoring once, against one
  importing lightgbm (which pulls scikit-learn and pandas when they are installed), loading a saved booster and
  predicting once. Measured with a compiled bytecode cache (a package shipped with ``.pyc``) and as installed
  here (no ``.pyc`` for site-packages: every import compiles its source, as an unprepared Lambda package would).
* Shadow scoring (issue 15): what the challenger scoring beside the champion adds, per request (the champion
  alone against both on the same input row, with the inputs' monitoring bins) and to the fresh process (both
  models verified and their sessions built, against the champion alone), measured in the same rounds.
* Size: apparent size of the installed files (each distribution's RECORD, plus the ``lending`` package and its
  models) of everything the scoring function and its layer install, against the native stack.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from importlib import metadata, resources
from pathlib import Path
from typing import Any

import numpy as np

from lending.adapters.vendors.bureau import CreditReport
from lending.calendar import add_months
from lending.catalogue import Catalogue, load_catalogue
from lending.money import Money
from lending.risk.business_assessment import BusinessAssessment, assess_business
from lending.risk.cash_flow import BankStatement, BankTransaction
from lending.risk.decision import decide
from lending.risk.facts import Application, IdentityResult
from lending.risk.outcome import Decision, Outcome
from lending.risk.policy import DecisionPolicy, load_policy
from lending.risk.tax import TaxFiling
from lending.scoring.engine import score_applicant, score_beside, to_outcome
from lending.scoring.features import raw_inputs
from lending.scoring.model import REASON_COUNT, REASON_TEXT, CreditModel, ModelReason, ModelScore, load_model

GOAL_END_TO_END_MS = 0.3
GOAL_COLD_START_S = 0.4
GOAL_PACKAGE_MIB = 150.0
MIB = 2**20

#: The applicant: a retailer borrowing 120,000 over 12 months, with a clean bureau report (an approval).
AGE = 40
REPORT: dict[str, Any] = {
    "seniority_years": 8,
    "home": "owner",
    "marital": "married",
    "derogatory_records": False,
    "job": "fixed",
    "monthly_expenses": "6000.00",
    "monthly_income": "30000.00",
    "assets": "800000.00",
    "debt": "0.00",
}

#: What the scoring Lambda and its layer install (function requirements + layer requirements), and the same
#: function built on the native stack instead of onnxruntime.
SCORING_REQUIREMENTS = ("onnxruntime", "numpy", "pydantic", "aws-lambda-powertools[tracer]")
NATIVE_ML_REQUIREMENTS = ("scikit-learn", "scipy", "numpy", "lightgbm")
LAYER_REQUIREMENTS = ("pydantic", "aws-lambda-powertools[tracer]")
#: Distributions the Lambda Python runtime already provides; the layer still carries a copy if a dependency
#: pulls them in (aws-xray-sdk, for powertools' tracer, requires botocore).
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath", "urllib3", "python-dateutil", "six")

_SCORING_CHILD = """
import json, sys, time
started = time.perf_counter()
from lending.money import Money
from lending.scoring.features import BureauFacts, raw_inputs
from lending.scoring.model import load_model
model = load_model()
model.score(raw_inputs(Money.of("120000.00"), 12, 40, BureauFacts.from_report(json.loads(sys.argv[1]))))
print(json.dumps({"seconds": time.perf_counter() - started}))
"""

#: The scoring function's init and first request with the challenger beside the champion (both sessions built).
#: The same first score with the challenger beside the champion: both sessions built, the challenger scoring the
#: champion's row, the row's input bins taken (what ``score_beside`` does), and nothing else imported.
_SHADOW_CHILD = """
import json, sys, time
started = time.perf_counter()
from lending.money import Money
from lending.scoring.features import BureauFacts, raw_inputs
from lending.scoring.model import load_model
champion, challenger = load_model(), load_model(sys.argv[2])
row = champion.vector(raw_inputs(Money.of("120000.00"), 12, 40, BureauFacts.from_report(json.loads(sys.argv[1]))))
champion.score_row(row), challenger.score_row(row), champion.binning.bins(row[0].tolist())
print(json.dumps({"seconds": time.perf_counter() - started}))
"""

_NATIVE_CHILD = """
import json, sys, time
started = time.perf_counter()
import lightgbm as lgb
import numpy as np
booster = lgb.Booster(model_file=sys.argv[1])
booster.predict(np.array([json.loads(sys.argv[2])], dtype=np.float32), num_threads=1)
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "sklearn": "sklearn" in sys.modules, "pandas": "pandas" in sys.modules}))
"""


@dataclass(frozen=True)
class _Case:
    """One applicant and everything the decision reads, built once, outside every timed loop."""

    model: CreditModel
    #: The bureau's report as the scoring function holds it: parsed and validated by the bureau client.
    report: CreditReport
    application: Application
    identity: IdentityResult
    assessment: BusinessAssessment
    catalogue: Catalogue
    policy: DecisionPolicy

    def decide(self, result: ModelScore) -> Decision:
        return decide(
            self.application,
            self.identity,
            to_outcome(result),
            self.assessment,
            catalogue=self.catalogue,
            policy=self.policy,
        )

    def raw(self) -> dict[str, Any]:
        """The feature builder: bureau report and application to the model's raw fields."""
        application = self.application
        return raw_inputs(application.amount, application.term_months, AGE, self.report.facts())


def _statement() -> BankStatement:
    """A year of steady trade: 100,000 in and 70,000 out each month of 2025."""
    first = date(2025, 1, 1)
    transactions = []
    for index in range(12):
        month = add_months(first, index)
        transactions.append(BankTransaction(month.replace(day=5), Money.of("100000.00"), "sales"))
        transactions.append(BankTransaction(month.replace(day=25), Money.of("-70000.00"), "suppliers"))
    return BankStatement(first, date(2025, 12, 31), tuple(transactions))


def _filings() -> list[TaxFiling]:
    """Quarterly filings that declare what the bank saw."""
    quarters = [add_months(date(2025, 1, 1), 3 * q) for q in range(4)]
    return [
        TaxFiling(start, date.fromordinal(add_months(start, 3).toordinal() - 1), Money.of("300000.00"))
        for start in quarters
    ]


def _case() -> _Case:
    policy = load_policy()
    return _Case(
        model=load_model(),
        report=CreditReport.model_validate({"report_id": "r-1", "generated_at": "2026-01-10T08:00:00Z", **REPORT}),
        application=Application.model_validate(
            {
                "product": "business_instalment",
                "amount": "120000.00",
                "term_months": 12,
                "decided_on": date(2026, 1, 10),
                "applicant_age": AGE,
                "consent": {"credit_report": True, "data_processing": True},
                "industry": "retail",
                "business_registered_on": date(2019, 5, 1),
            }
        ),
        identity=IdentityResult(passed=True, face_match=Decimal("0.93"), liveness=True),
        assessment=assess_business(_statement(), _filings(), policy=policy, industry="retail"),
        catalogue=load_catalogue(),
        policy=policy,
    )


# --- the two ways of serving the model ----------------------------------------------------------------------------


def _onnx_end_to_end(case: _Case) -> Decision:
    """The scoring function: engine (the report's facts, features, one graph run, reason codes) then the decision."""
    application = case.application
    report = case.report.facts()
    outcome, _ = score_applicant(case.model, application.amount, application.term_months, AGE, report)
    return decide(application, case.identity, outcome, case.assessment, catalogue=case.catalogue, policy=case.policy)


def _native_result(model: CreditModel, p_bad: float, contributions: np.ndarray) -> ModelScore:
    """LightGBM's probability and TreeSHAP contributions as the engine's result: same scale, grades and texts."""
    score = model.score_of(p_bad)
    cost = {name: model.factor * float(c) for name, c in zip(model.names, contributions, strict=False)}
    adverse = sorted(((c, n) for n, c in cost.items() if c > 0), reverse=True)[:REASON_COUNT]
    reasons = tuple(ModelReason(name, REASON_TEXT[name], Decimal(f"{points:.1f}")) for points, name in adverse)
    return ModelScore(p_bad, score, model.grade_of(score), reasons, "lightgbm_native")


def _native_inference(booster: Any, row: np.ndarray) -> tuple[float, np.ndarray]:
    """P(bad) and per-feature contributions from the Booster, one thread (as the ONNX sessions run)."""
    p_bad = float(booster.predict(row, num_threads=1)[0])
    contributions = np.asarray(booster.predict(row, pred_contrib=True, num_threads=1))[0]
    return p_bad, contributions


def _native_end_to_end(case: _Case, booster: Any) -> Decision:
    """The same applicant through the same feature builder, the Booster and the same decision."""
    row = case.model.vector(case.raw())
    p_bad, contributions = _native_inference(booster, row)
    return case.decide(_native_result(case.model, p_bad, contributions))


def _native_booster(model: CreditModel) -> Any:
    """The champion refit natively, by the pipeline's own functions, with the card's codes, split and seed."""
    from infra.model import gbdt
    from infra.model.pipeline import prepare

    data = prepare(model.card["features"], model.card["split"]["seed"])
    x_train, y_train = data.train
    return gbdt.fit_booster(x_train, y_train, [feature["monotone"] for feature in model.card["features"]])


def _check(case: _Case, booster: Any) -> None:
    """What is timed must be right: the same probability within the parity limit, and the same decision."""
    row = case.model.vector(case.raw())
    p_onnx, _ = case.model.predict(row)
    p_native, _ = _native_inference(booster, row)
    onnx_decision, native_decision = _onnx_end_to_end(case), _native_end_to_end(case, booster)
    if abs(p_onnx - p_native) > 1e-5:
        raise AssertionError(f"the benchmark's two models disagree: {p_onnx} against {p_native}")
    if onnx_decision.outcome is not Outcome.APPROVE or (onnx_decision.outcome, onnx_decision.rule) != (
        native_decision.outcome,
        native_decision.rule,
    ):
        raise AssertionError("the benchmark's applicant must be approved, alike by both paths")


# --- timing -------------------------------------------------------------------------------------------------------


def _timings_ns(function: Callable[[], object], samples: int) -> list[int]:
    """Wall time of each of ``samples`` calls, in nanoseconds."""
    timings = []
    for _ in range(samples):
        started = time.perf_counter_ns()
        function()
        timings.append(time.perf_counter_ns() - started)
    return timings


def _p50_ms(function: Callable[[], object], samples: int, warm_up: int = 50) -> float:
    """Median wall time of one call, in milliseconds, over ``samples`` calls after a warm-up."""
    for _ in range(warm_up):
        function()
    return statistics.median(_timings_ns(function, samples)) / 1e6


@dataclass(frozen=True)
class _Timed:
    """One function's calls over interleaved rounds: the median of all of them, and each round's median (ms)."""

    p50: float
    rounds: list[float]


def _interleaved_ms(
    functions: dict[str, tuple[Callable[[], object], int]], rounds: int = 8, warm_up: int = 50
) -> dict[str, _Timed]:
    """Time the functions in turn, ``samples`` calls each per round (the order reversed every other round).

    Each path sees the same phases of a busy machine, so a ratio taken round by round compares like with like,
    and the spread of the rounds' medians shows how far a phase moves the p50.
    """
    for function, _ in functions.values():
        for _ in range(warm_up):
            function()
    every: dict[str, list[int]] = {name: [] for name in functions}
    by_round: dict[str, list[float]] = {name: [] for name in functions}
    order = list(functions.items())
    for round_number in range(rounds):
        for name, (function, samples) in order if round_number % 2 == 0 else order[::-1]:
            timings = _timings_ns(function, samples)
            every[name].extend(timings)
            by_round[name].append(statistics.median(timings) / 1e6)
    return {name: _Timed(statistics.median(every[name]) / 1e6, by_round[name]) for name in functions}


def _latency(case: _Case, booster: Any) -> dict[str, Any]:
    """p50 of one applicant end to end on each path, and of each part."""
    import pandas as pd

    model = case.model
    raw = case.raw()
    row = model.vector(raw)
    result = model.score(raw)
    frame = pd.DataFrame(row, columns=model.names)

    paths = _interleaved_ms(
        {
            "onnx": (lambda: _onnx_end_to_end(case), 300),
            "native": (lambda: _native_end_to_end(case, booster), 150),
        }
    )
    onnx_ms, native_ms = paths["onnx"].p50, paths["native"].p50
    round_ratios = [o / n for o, n in zip(paths["onnx"].rounds, paths["native"].rounds, strict=True)]
    features_ms = _p50_ms(lambda: model.vector(case.raw()), 5000)
    vector_ms = _p50_ms(lambda: model.vector(raw), 5000)
    inference_ms = _p50_ms(lambda: model.predict(row), 5000)
    scored_ms = _p50_ms(lambda: to_outcome(model.score(raw)), 5000)
    decision_ms = _p50_ms(lambda: case.decide(result), 2000)
    native_inference_ms = _p50_ms(lambda: _native_inference(booster, row), 1000)
    native_predict_ms = _p50_ms(lambda: booster.predict(row, num_threads=1), 2000)
    native_frame_ms = _p50_ms(
        lambda: (
            booster.predict(pd.DataFrame(row, columns=model.names), num_threads=1),
            booster.predict(frame, pred_contrib=True, num_threads=1),
        ),
        300,
        warm_up=20,
    )
    # Reason codes, grade and the decision's score record: what model.score and to_outcome add to vector + predict.
    reasons_ms = max(scored_ms - vector_ms - inference_ms, 0.0)
    scoring_ms = features_ms + inference_ms + reasons_ms
    return {
        "end_to_end_onnx_p50_ms": round(onnx_ms, 4),
        "end_to_end_native_p50_ms": round(native_ms, 4),
        "end_to_end_onnx_vs_native_ratio": round(onnx_ms / native_ms, 3),
        "end_to_end_rounds": {
            "rounds": len(round_ratios),
            "onnx_p50_ms_least_greatest": [round(min(paths["onnx"].rounds), 4), round(max(paths["onnx"].rounds), 4)],
            "native_p50_ms_least_greatest": [
                round(min(paths["native"].rounds), 4),
                round(max(paths["native"].rounds), 4),
            ],
            "ratio_least_greatest": [round(min(round_ratios), 3), round(max(round_ratios), 3)],
        },
        "onnx_parts_p50_ms": {
            "features": round(features_ms, 4),
            "inference_and_contributions": round(inference_ms, 4),
            "reason_codes_and_grade_derived": round(reasons_ms, 4),
            "decision": round(decision_ms, 4),
        },
        "native_parts_p50_ms": {
            "features": round(features_ms, 4),
            "inference_and_contributions": round(native_inference_ms, 4),
            "of_which_predict_only": round(native_predict_ms, 4),
            "decision": round(decision_ms, 4),
            "dataframe_row_inference_and_contributions": round(native_frame_ms, 4),
        },
        "inference_and_contributions_onnx_vs_native_ratio": round(inference_ms / native_inference_ms, 3),
        "scoring_without_decision_p50_ms": round(scoring_ms, 4),
        "decision_share_of_end_to_end": round(decision_ms / onnx_ms, 3),
        "end_to_end_goal_ms": GOAL_END_TO_END_MS,
        "end_to_end_within_goal": onnx_ms <= GOAL_END_TO_END_MS,
        "end_to_end_within_goal_in_quietest_round": min(paths["onnx"].rounds) <= GOAL_END_TO_END_MS,
        "scoring_without_decision_within_goal": scoring_ms <= GOAL_END_TO_END_MS,
    }


# --- shadow scoring -----------------------------------------------------------------------------------------------


def _shadow_latency(case: _Case, challenger: CreditModel) -> dict[str, Any]:
    """p50 of scoring one applicant with the champion alone and with the challenger beside it, interleaved."""
    application, facts = case.application, case.report.facts()
    amount, term = application.amount, application.term_months
    paths = _interleaved_ms(
        {
            "champion_alone": (lambda: score_applicant(case.model, amount, term, AGE, facts), 2000),
            "champion_and_bins": (lambda: score_beside(case.model, None, amount, term, AGE, facts), 2000),
            "with_challenger": (lambda: score_beside(case.model, challenger, amount, term, AGE, facts), 2000),
        }
    )
    alone, binned, both = (paths[name].p50 for name in ("champion_alone", "champion_and_bins", "with_challenger"))
    return {
        "champion_alone_p50_ms": round(alone, 4),
        "champion_with_input_bins_p50_ms": round(binned, 4),
        "champion_and_challenger_p50_ms": round(both, 4),
        "added_per_request_ms": round(both - alone, 4),
        "of_which_input_bins_ms": round(binned - alone, 4),
        "challenger_reads_the_champions_row": challenger.reads_as(case.model),
    }


def _shadow_cold_start(challenger_id: str, runs: int = 7) -> dict[str, Any]:
    """Fresh process to first score: the champion alone against both models (compiled bytecode), interleaved."""
    with tempfile.TemporaryDirectory(prefix="bench-shadow-") as scratch:
        environment = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
        environment["PYTHONPYCACHEPREFIX"] = str(Path(scratch) / "pycache")
        report = json.dumps(REPORT)
        alone, both = _cold_runs(
            [(_SCORING_CHILD, [report]), (_SHADOW_CHILD, [report, challenger_id])], environment, scratch, runs
        )
    alone_s, both_s = _median(alone, "seconds"), _median(both, "seconds")
    return {
        "runs": runs,
        "champion_alone_s": round(alone_s, 3),
        "champion_and_challenger_s": round(both_s, 3),
        "added_s": round(both_s - alone_s, 3),
    }


def _challenger_load_ms(challenger_id: str) -> float:
    """Verifying the challenger's files and building its session, in a process that has loaded the champion."""
    from lending.scoring.model import model_directory

    started = time.perf_counter()
    CreditModel(model_directory(challenger_id))
    return (time.perf_counter() - started) * 1000


def _shadow(case: _Case) -> dict[str, Any]:
    from infra.local.template import load_template

    challenger_id = load_template()["Parameters"]["ChallengerModelId"]["Default"]
    challenger = load_model(challenger_id)
    return {
        "challenger": challenger_id,
        **_shadow_latency(case, challenger),
        "challenger_load_in_process_ms": round(min(_challenger_load_ms(challenger_id) for _ in range(5)), 2),
        "cold_start": _shadow_cold_start(challenger_id),
    }


# --- cold start ---------------------------------------------------------------------------------------------------


def _child(code: str, arguments: list[str], environment: dict[str, str], directory: str) -> dict[str, Any]:
    """Run a fresh interpreter; its own figures, and the wall time from spawn to exit."""
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-c", code, *arguments],
        capture_output=True,
        text=True,
        env=environment,
        cwd=directory,
        check=True,
    )
    wall = time.perf_counter() - started
    reported: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return {**reported, "wall": wall}


def _cold_runs(
    children: list[tuple[str, list[str]]], environment: dict[str, str], directory: str, runs: int
) -> list[list[dict[str, Any]]]:
    """One warm-up run of each child (it fills the bytecode cache when there is one), then ``runs`` rounds that
    run each child in turn, so a change in the machine's load falls on both alike."""
    for code, arguments in children:
        _child(code, arguments, environment, directory)
    measured: list[list[dict[str, Any]]] = [[] for _ in children]
    for _ in range(runs):
        for index, (code, arguments) in enumerate(children):
            measured[index].append(_child(code, arguments, environment, directory))
    return measured


def _median(runs: list[dict[str, Any]], key: str) -> float:
    return float(statistics.median(run[key] for run in runs))


def _cold_start(case: _Case, booster: Any, runs: int = 5, uncached_runs: int = 3) -> dict[str, Any]:
    """Fresh process to first score, scoring stack against native stack, with and without compiled bytecode."""
    row = [float(v) for v in case.model.vector(case.raw())[0]]
    with tempfile.TemporaryDirectory(prefix="bench-scoring-") as scratch:
        booster_path = str(Path(scratch) / "booster.txt")
        booster.save_model(booster_path)
        scoring_arguments = [json.dumps(REPORT)]
        native_arguments = [booster_path, json.dumps(row)]

        compiled = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
        compiled["PYTHONPYCACHEPREFIX"] = str(Path(scratch) / "pycache")
        as_installed = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        as_installed.pop("PYTHONPYCACHEPREFIX", None)

        figures: dict[str, Any] = {}
        for label, environment, count in (
            ("bytecode_compiled", compiled, runs),
            ("as_installed", as_installed, uncached_runs),
        ):
            children = [(_SCORING_CHILD, scoring_arguments), (_NATIVE_CHILD, native_arguments)]
            scoring, native = _cold_runs(children, environment, scratch, count)
            figures[label] = {
                "runs": count,
                "scoring_s": round(_median(scoring, "seconds"), 3),
                "native_s": round(_median(native, "seconds"), 3),
                "ratio": round(_median(scoring, "seconds") / _median(native, "seconds"), 3),
                "scoring_wall_s": round(_median(scoring, "wall"), 3),
                "native_wall_s": round(_median(native, "wall"), 3),
                "wall_ratio": round(_median(scoring, "wall") / _median(native, "wall"), 3),
                "native_imported_sklearn_and_pandas": all(run["sklearn"] and run["pandas"] for run in native),
            }
    headline = figures["bytecode_compiled"]
    return {
        **figures,
        "goal_s": GOAL_COLD_START_S,
        "within_goal": headline["scoring_s"] <= GOAL_COLD_START_S,
        "within_goal_without_bytecode": figures["as_installed"]["scoring_s"] <= GOAL_COLD_START_S,
    }


# --- deployment size ----------------------------------------------------------------------------------------------


def _closure(requirements: Iterable[str]) -> dict[str, set[str]]:
    """Every installed distribution these requirements pull in, by canonical name, with the extras asked of it."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    wanted: dict[str, set[str]] = {}
    pending = [Requirement(text) for text in requirements]
    while pending:
        requirement = pending.pop()
        name = canonicalize_name(requirement.name)
        extras = set(requirement.extras)
        if name in wanted and extras <= wanted[name]:
            continue
        wanted[name] = wanted.get(name, set()) | extras
        environments = [{"extra": extra} for extra in sorted(wanted[name]) or [""]]
        for text in metadata.distribution(name).requires or []:
            dependency = Requirement(text)
            if dependency.marker is None or any(dependency.marker.evaluate(env) for env in environments):
                pending.append(dependency)
    return wanted


def _installed_bytes(name: str) -> int:
    """Apparent size of the files a distribution's RECORD lists that are on disk."""
    distribution = metadata.distribution(name)
    total = 0
    for file in distribution.files or []:
        path = Path(str(distribution.locate_file(file)))
        if path.is_file():
            total += path.stat().st_size
    return total


def _lending_bytes() -> int:
    """The lending package as the layer ships it: source, data and models, without bytecode caches."""
    root = Path(str(resources.files("lending")))
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def _package(requirements: Iterable[str], with_lending: bool) -> dict[str, Any]:
    """MiB per distribution of the closure, the total, and how much of it the Lambda runtime already has."""
    sizes = {name: _installed_bytes(name) for name in sorted(_closure(requirements)) if name != "lending"}
    if with_lending:
        sizes["lending (layer incl. models)"] = _lending_bytes()
    total = sum(sizes.values())
    provided = sum(size for name, size in sizes.items() if name in RUNTIME_PROVIDED)
    return {
        "mib": round(total / MIB, 1),
        "runtime_provided_mib": round(provided / MIB, 1),
        # What ships: shared/Makefile leaves out what the Lambda runtime already provides.
        "shipped_mib": round((total - provided) / MIB, 1),
        "by_distribution_mib": {name: round(size / MIB, 2) for name, size in sizes.items()},
    }


def _size() -> dict[str, Any]:
    """The scoring function's package against the native ML stack, and against the same function built on it."""
    scoring = _package(SCORING_REQUIREMENTS, with_lending=True)
    native_ml = _package(NATIVE_ML_REQUIREMENTS, with_lending=False)
    native_function = _package((*NATIVE_ML_REQUIREMENTS, *LAYER_REQUIREMENTS), with_lending=True)
    return {
        "site_packages": str(Path(str(metadata.distribution("numpy").locate_file(""))).resolve()),
        "scoring_package": scoring,
        "native_ml_stack_mib": native_ml["mib"],
        "native_ml_stack": native_ml["by_distribution_mib"],
        "native_function_package_mib": native_function["mib"],
        "scoring_vs_native_function_ratio": round(scoring["shipped_mib"] / native_function["shipped_mib"], 3),
        "scoring_vs_native_ml_stack_ratio": round(scoring["shipped_mib"] / native_ml["mib"], 3),
        "goal_mib": GOAL_PACKAGE_MIB,
        "within_goal": scoring["shipped_mib"] <= GOAL_PACKAGE_MIB,
    }


def run() -> dict[str, Any]:
    """Measure and return the figures (prints nothing)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        case = _case()
        booster = _native_booster(case.model)
        _check(case, booster)
        latency = _latency(case, booster)
        shadow = _shadow(case)
    cold = _cold_start(case, booster)
    size = _size()
    return {
        **latency,
        "cold_start": cold,
        "shadow_scoring": shadow,
        "size": size,
        "within_goal": bool(latency["end_to_end_within_goal"] and cold["within_goal"] and size["within_goal"]),
    }
