"""The application repository's acceptance writes against moto's DynamoDB (ApplicationsTable from template.yaml):
contracts issued only while the offer is open, and no more of them than the item can keep; one acceptance, of an
issued contract, while the application waits for it."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import TABLES

from lending.adapters.applications import MAX_CONTRACTS, ApplicationRepository
from lending.errors import NotAwaitingAcceptance, TooManyContracts

TERMS = {"amount": "50000.00", "term_months": 12, "issued_on": "2024-03-06"}


@pytest.fixture
def applications(dynamodb: Any) -> ApplicationRepository:
    definition = TABLES["ApplicationsTable"]
    if definition["TableName"] in dynamodb.list_tables()["TableNames"]:
        dynamodb.delete_table(TableName=definition["TableName"])
    dynamodb.create_table(**definition)
    repository = ApplicationRepository(definition["TableName"])
    repository._dynamodb = dynamodb  # the fixture's client, made inside moto
    repository.create({"application_id": "app-1", "borrower_id": "b", "status": "APPROVED", "contracts": {}})
    return repository


def test_a_contract_issued_once_or_again_is_kept_once_and_can_then_be_accepted_once(
    applications: ApplicationRepository,
) -> None:
    applications.issue_contract("app-1", "a" * 64, TERMS)
    applications.issue_contract("app-1", "a" * 64, TERMS)
    assert applications.get("app-1")["contracts"] == {"a" * 64: TERMS}

    assert applications.record_acceptance("app-1", "b" * 64, {"contract_sha256": "b" * 64}) is False  # never issued
    assert applications.record_acceptance("app-1", "a" * 64, {"contract_sha256": "a" * 64}) is True
    assert applications.record_acceptance("app-1", "a" * 64, {"contract_sha256": "a" * 64}) is False  # once
    assert applications.get("app-1")["accepted"] == {"contract_sha256": "a" * 64}
    # Once accepted, no contract is issued any more
    with pytest.raises(NotAwaitingAcceptance):
        applications.issue_contract("app-1", "c" * 64, TERMS)


def test_an_application_keeps_a_bounded_number_of_contract_variants(applications: ApplicationRepository) -> None:
    for n in range(MAX_CONTRACTS):
        applications.issue_contract("app-1", f"{n:064x}", {**TERMS, "term_months": n})
    with pytest.raises(TooManyContracts):
        applications.issue_contract("app-1", "f" * 64, TERMS)
    applications.issue_contract("app-1", f"{0:064x}", {**TERMS, "term_months": 0})  # one kept may be shown again
    assert len(applications.get("app-1")["contracts"]) == MAX_CONTRACTS


def test_no_contract_is_issued_or_accepted_outside_the_offers_wait(applications: ApplicationRepository) -> None:
    applications.create({"application_id": "app-2", "borrower_id": "b", "status": "EXPIRED", "contracts": {}})
    with pytest.raises(NotAwaitingAcceptance):
        applications.issue_contract("app-2", "a" * 64, TERMS)
    assert applications.record_acceptance("app-2", "a" * 64, {"contract_sha256": "a" * 64}) is False
