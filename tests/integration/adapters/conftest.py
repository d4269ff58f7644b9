"""Fixtures of the adapter tests: moto's DynamoDB with LedgerTable and AuditTable built from template.yaml.

moto 5.2.5's DynamoDB is not thread-safe (measured): TransactWriteItems deep-copies the table for its rollback while
other threads write, so concurrent calls crash ("dictionary changed size during iteration"), apply one conditional
put twice, or roll back another thread's committed write. DynamoDB itself runs each request atomically, so the
tests serialize moto's request handling with one lock: threads still interleave between requests (a read, then a
conditional write), which is what the concurrency tests are about.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import boto3
import pytest
from moto import mock_aws
from moto.dynamodb.responses import DynamoHandler

from infra.local.template import load_template, table_definitions
from infra.local.transactions import item_level_rollback

REGION = "ap-east-1"
TABLES = table_definitions(load_template())


@pytest.fixture(scope="module")
def aws() -> Iterator[Any]:
    """moto for one test module, with dummy credentials in the test region, and a boto3 session to make clients.

    Module-scoped because starting moto and loading the DynamoDB model cost ~0.5 s; each test gets fresh tables.
    """
    with pytest.MonkeyPatch.context() as environment:
        for name in ("AWS_PROFILE", "AWS_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB"):
            environment.delenv(name, raising=False)
        environment.setenv("AWS_DEFAULT_REGION", REGION)
        environment.setenv("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")
        environment.setenv("AWS_ACCESS_KEY_ID", "testing")
        environment.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        environment.setenv("AWS_SESSION_TOKEN", "testing")
        with _atomic_requests(), item_level_rollback(), mock_aws():
            yield boto3.session.Session(region_name=REGION)


@contextmanager
def _atomic_requests() -> Iterator[None]:
    """Each moto DynamoDB request runs alone, as each request is atomic in DynamoDB."""
    handle = DynamoHandler.call_action
    lock = threading.Lock()

    def one_at_a_time(self: DynamoHandler) -> Any:
        with lock:
            return handle(self)

    with mock.patch.object(DynamoHandler, "call_action", one_at_a_time):
        yield


@pytest.fixture
def new_client(aws: Any) -> Callable[[], Any]:
    """A maker of DynamoDB clients (a client of its own for each thread in the concurrency tests); the tables are
    created empty for each test."""

    def make() -> Any:
        return aws.client("dynamodb")

    dynamodb = make()
    existing = set(dynamodb.list_tables()["TableNames"])
    for logical_id in ("LedgerTable", "AuditTable"):
        if TABLES[logical_id]["TableName"] in existing:
            dynamodb.delete_table(TableName=TABLES[logical_id]["TableName"])
        dynamodb.create_table(**TABLES[logical_id])
    return make


@pytest.fixture
def fresh_table(dynamodb: Any) -> Callable[[str], None]:
    """Drop a table and create it again, empty, from the template (for property tests, one per example)."""

    def recreate(logical_id: str) -> None:
        dynamodb.delete_table(TableName=TABLES[logical_id]["TableName"])
        dynamodb.create_table(**TABLES[logical_id])

    return recreate


@pytest.fixture
def dynamodb(new_client: Callable[[], Any]) -> Any:
    return new_client()


@pytest.fixture
def ledger_table() -> str:
    return str(TABLES["LedgerTable"]["TableName"])


@pytest.fixture
def audit_table() -> str:
    return str(TABLES["AuditTable"]["TableName"])
