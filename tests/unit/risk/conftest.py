"""Fixtures of the risk tests: the shipped catalogue and policy."""

from __future__ import annotations

import pytest

from lending.catalogue import Catalogue, load_catalogue
from lending.risk.policy import DecisionPolicy, load_policy


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    return load_catalogue()


@pytest.fixture(scope="session")
def policy() -> DecisionPolicy:
    return load_policy()
