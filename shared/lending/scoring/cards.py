"""Where the shipped models live and their cards, read without onnxruntime (for reports over stored scores)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any


def model_directory(model_id: str) -> Path:
    """Where a shipped model lives in the layer."""
    return Path(str(resources.files("lending").joinpath("models", model_id)))


@cache
def shipped_card(model_id: str) -> dict[str, Any]:
    """A shipped model's card (its files are verified only when the model is loaded to score)."""
    path = model_directory(model_id) / "card.json"
    if not path.is_file():
        raise ValueError(f"no model {model_id!r} is shipped")
    card: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return card
