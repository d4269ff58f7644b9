"""Each role of template.yaml grants what its code uses and nothing more; audit and ledger records stay written."""

from __future__ import annotations

import pytest
from least_privilege import NAMES, USES, granted

from infra.local.iam import TemplateRoles, allowed
from infra.local.template import load_template

TEMPLATE = load_template()


@pytest.fixture(scope="module")
def roles() -> TemplateRoles:
    return TemplateRoles(TEMPLATE, NAMES)


def table(logical_id: str) -> str:
    return NAMES[f"{logical_id}.Arn"]


def test_every_function_and_state_machine_is_listed(roles: TemplateRoles) -> None:
    # Given every principal of the template / Then each has its uses listed, and nothing else is listed
    assert sorted(roles.principals()) == sorted(USES)


@pytest.mark.parametrize("principal", sorted(USES))
def test_a_role_grants_exactly_what_its_code_uses(roles: TemplateRoles, principal: str) -> None:
    # Given the principal's role as samtranslator expands it (SAM's Globals additions aside)
    grants = granted(roles.statements(principal), NAMES)
    # Then it grants each use, and no grant without a use
    assert {
        "granted, never used": sorted(grants - USES[principal]),
        "used, not granted": sorted(USES[principal] - grants),
    } == {
        "granted, never used": [],
        "used, not granted": [],
    }


#: The one job that reads whole tables (an offline check of the books, never a request path), and which ones.
WHOLE_TABLE_READERS = {"ReconciliationFunction": {"LoansTable", "LedgerTable"}}


@pytest.mark.parametrize("principal", sorted(USES))
def test_no_role_may_update_or_delete_an_audit_record_delete_a_ledger_entry_or_replace_a_balance(
    roles: TemplateRoles, principal: str
) -> None:
    # Given the whole role, Globals and managed policies included
    statements = roles.statements(principal)
    # When IAM weighs every way of changing a written record but a PutItem (which the code conditions on the record
    # being new: IAM has no key that requires a condition)
    # Then none is allowed: a deleted audit tail would still verify as a shorter chain
    for action in ("UpdateItem", "DeleteItem", "BatchWriteItem", "PartiQLUpdate", "PartiQLDelete"):
        assert not allowed(statements, f"dynamodb:{action}", table("AuditTable")), action
    for action in ("DeleteItem", "BatchWriteItem", "PartiQLDelete"):
        assert not allowed(statements, f"dynamodb:{action}", table("LedgerTable")), action
    # And no role may replace a ledger balance item whole
    balance = {"dynamodb:LeadingKeys": ["ACCOUNT#funding:own_capital"]}
    assert not allowed(statements, "dynamodb:PutItem", table("LedgerTable"), balance)
    # And no role may Scan a table or an index, but the nightly reconciliation's the two tables it checks whole
    scans = WHOLE_TABLE_READERS.get(principal, set())
    for logical in ("ApplicationsTable", "LoansTable", "LedgerTable", "AuditTable", "IdempotencyTable"):
        assert allowed(statements, "dynamodb:Scan", table(logical)) == (logical in scans), logical
        assert not allowed(statements, "dynamodb:Scan", table(logical) + "/index/DueLoans")


@pytest.mark.parametrize(
    "principal",
    ["FundingReservationFunction", "DrawdownFundingFunction", "PaymentsWebhookFunction", "DailyCloseFunction"],
)
def test_a_role_that_only_posts_updates_ledger_balances_and_never_a_transaction(
    roles: TemplateRoles, principal: str
) -> None:
    # Given a role whose code posts new ledger transactions and resolves no pending transfer
    statements = roles.statements(principal)
    # When IAM weighs UpdateItem on a balance item, on a transaction item, and PutItem of a new transaction
    # Then the balance and the new transaction are allowed, a written transaction is not
    ledger = table("LedgerTable")
    assert allowed(statements, "dynamodb:UpdateItem", ledger, {"dynamodb:LeadingKeys": ["ACCOUNT#cash"]})
    assert not allowed(statements, "dynamodb:UpdateItem", ledger, {"dynamodb:LeadingKeys": ["TX#funding-1"]})
    assert allowed(statements, "dynamodb:PutItem", ledger, {"dynamodb:LeadingKeys": ["TX#funding-2"]})


def test_leading_keys_conditions_narrow_item_writes_only(roles: TemplateRoles) -> None:
    # Given every statement of every role
    # Then a dynamodb:LeadingKeys condition sits only on PutItem, UpdateItem or BatchGetItem, which always name their
    # items: the local check gives a Query no LeadingKeys (its partition key is in the key condition), and
    # ForAllValues on an absent key would hold
    item_writes = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:BatchGetItem"}
    for principal in roles.principals():
        for statement in roles.statements(principal):
            if "dynamodb:LeadingKeys" in str(statement.get("Condition", "")):
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                assert set(actions) <= item_writes, principal


@pytest.mark.parametrize("principal", sorted(USES))
def test_no_role_may_change_a_sealed_day(roles: TemplateRoles, principal: str) -> None:
    # Given the whole role, and the anchor bucket's objects (moto lets a compliance-mode retention be weakened and
    # an Object Lock bucket's versioning be suspended, which AWS refuses: here IAM refuses them to every role)
    statements = roles.statements(principal)
    bucket = NAMES["AuditAnchorBucket.Arn"]
    sealed = f"{bucket}/anchors/2024-03-06.json"
    # Then no role may delete a seal, change its retention or the bucket's lock, versioning or policy
    for action in ("DeleteObject", "DeleteObjectVersion", "PutObjectRetention", "BypassGovernanceRetention"):
        assert not allowed(statements, f"s3:{action}", sealed), action
    for action in ("PutBucketVersioning", "PutBucketObjectLockConfiguration", "PutBucketPolicy", "DeleteBucket"):
        assert not allowed(statements, f"s3:{action}", bucket), action
    # And the seal's writer may add anchors only, never a link of a chain
    if principal == "AuditAnchorFunction":
        assert not allowed(statements, "dynamodb:PutItem", table("AuditTable"), {"dynamodb:LeadingKeys": ["app_1"]})
        assert allowed(statements, "dynamodb:PutItem", table("AuditTable"), {"dynamodb:LeadingKeys": ["ANCHOR#app_1"]})
