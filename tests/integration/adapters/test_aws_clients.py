"""The boto3 client factory: nothing at import, one client per (service, region), the region from the function's
environment."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from lending.adapters.aws import client, forget_clients
from lending.adapters.environment import provided_environment

DUMMY = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


@pytest.fixture(autouse=True)
def no_cached_clients() -> Iterator[None]:
    forget_clients()
    yield
    forget_clients()


def test_importing_the_factory_builds_no_client_and_imports_no_boto3() -> None:
    probe = "import sys, lending.adapters.aws as aws; print(len(aws._clients), 'boto3' in sys.modules)"
    # The timeout only ends a hung interpreter: a loaded machine starts one in seconds, well inside it.
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=300)
    assert result.stdout.split() == ["0", "False"]


def test_a_client_is_built_once_per_service_and_region() -> None:
    with provided_environment({"AWS_REGION": "ap-east-1", **DUMMY}):
        dynamodb = client("dynamodb")
        assert client("dynamodb") is dynamodb
        assert dynamodb.meta.region_name == "ap-east-1"
        assert client("sqs") is not dynamodb
    with provided_environment({"AWS_REGION": "cn-north-1", **DUMMY}):
        elsewhere = client("dynamodb")
        assert elsewhere is not dynamodb
        assert elsewhere.meta.region_name == "cn-north-1"


def test_the_region_falls_back_to_aws_default_region() -> None:
    with provided_environment({"AWS_DEFAULT_REGION": "ap-southeast-1", **DUMMY}):
        assert client("dynamodb").meta.region_name == "ap-southeast-1"


def test_threads_asking_at_once_share_one_client() -> None:
    start = threading.Barrier(6)

    def ask(_: int) -> Any:
        with provided_environment({"AWS_REGION": "ap-east-1", **DUMMY}):
            start.wait()
            return client("dynamodb")

    with ThreadPoolExecutor(6) as pool:
        clients = list(pool.map(ask, range(6)))
    assert all(found is clients[0] for found in clients)
