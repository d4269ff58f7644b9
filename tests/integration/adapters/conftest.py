"""Fixtures of the adapter tests: moto's DynamoDB with LedgerTable and AuditTable built from template.yaml.

moto's DynamoDB runs here with the local stack's two DynamoDB hooks (infra.local.hooks): each request alone, as
each is atomic in DynamoDB (threads still interleave between requests, which is what the concurrency tests are
about), and transactions rolled back item by item.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra.local.hooks import item_level_rollback, serialised_dynamodb
from infra.local.template import load_template, table_definitions

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
        with serialised_dynamodb(), item_level_rollback(), mock_aws():
            yield boto3.session.Session(region_name=REGION)


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
