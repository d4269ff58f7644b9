"""Fixtures of the handler tests (see handler_harness): moto holding template.yaml's resources, fresh per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from handler_harness import Deployed, deployed_template, process_environment


@pytest.fixture
def deployed(monkeypatch: pytest.MonkeyPatch) -> Iterator[Deployed]:
    """The template's resources in a fresh moto, and the process set up as the functions expect it."""
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB"):
        monkeypatch.delenv(name, raising=False)
    for name, value in process_environment().items():
        monkeypatch.setenv(name, value)
    with deployed_template() as resources:
        yield resources
