"""The roles of template.yaml judged as IAM would judge them: what moto lets through, decided offline."""

from __future__ import annotations

from typing import Any

import pytest
from least_privilege import ACCOUNT, NAMES, REGION

from infra.local.iam import (
    TemplateRoles,
    UnknownManagedPolicies,
    UnresolvedReference,
    UnsupportedPolicy,
    allowed,
    key_policy_allows,
    pseudo_parameters,
    role_policies,
)
from infra.local.template import load_template

TEMPLATE = load_template()
PII_KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{NAMES['PiiKey']}"


def table_arn(logical_id: str) -> str:
    return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{NAMES[logical_id]}"


@pytest.fixture(scope="module")
def roles() -> TemplateRoles:
    """The template's roles, translated once for the module (samtranslator takes a moment)."""
    return TemplateRoles(TEMPLATE, NAMES)


# ---------------------------------------------------------------- the roles of template.yaml


def test_the_decision_function_may_decrypt_with_the_pii_key_and_nothing_else(roles: TemplateRoles) -> None:
    # Given the DecisionFunction's role as samtranslator expands it (the decision decrypts the ID number via pii.py;
    # without KMSDecryptPolicy, AWS refused it and every application that passed identity ended FAILED)
    statements = roles.statements("DecisionFunction")
    # When IAM weighs kms:Decrypt on the PII key, on another key, and kms:Encrypt on it
    # Then only the first is allowed
    assert allowed(statements, "kms:Decrypt", PII_KEY_ARN) is True
    assert allowed(statements, "kms:Decrypt", f"arn:aws:kms:{REGION}:{ACCOUNT}:key/another-key") is False
    assert allowed(statements, "kms:Encrypt", PII_KEY_ARN) is False


def test_a_function_with_kms_decrypt_policy_may_decrypt_with_the_pii_key_and_nothing_else(
    roles: TemplateRoles,
) -> None:
    # Given a function whose Policies include KMSDecryptPolicy on the PII key
    statements = roles.statements("CreditScoringFunction")
    # When IAM weighs kms:Decrypt on that key, on another key, and kms:Encrypt on it
    # Then only the first is allowed
    assert allowed(statements, "kms:Decrypt", PII_KEY_ARN) is True
    assert allowed(statements, "kms:Decrypt", f"arn:aws:kms:{REGION}:{ACCOUNT}:key/another-key") is False
    assert allowed(statements, "kms:Encrypt", PII_KEY_ARN) is False


def test_the_function_level_role_matches_role_policies_called_alone() -> None:
    # Given the one-call form and the translated-once form
    # When both expand the DecisionFunction's role
    alone = role_policies(TEMPLATE, "DecisionFunction", NAMES)
    # Then they agree
    assert alone == TemplateRoles(TEMPLATE, NAMES).statements("DecisionFunction")


def test_dynamodb_crud_policy_allows_delete_item_on_its_table_and_its_indexes_but_nothing_on_another() -> None:
    # Given a function with SAM's DynamoDBCrudPolicy on one table
    template = _one_function_template({"Policies": [{"DynamoDBCrudPolicy": {"TableName": "orders"}}]})
    statements = role_policies(template, "Fn", pseudo_parameters(REGION, ACCOUNT))
    orders = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/orders"
    # When IAM weighs calls on that table, an index of it, and another table
    # Then the table allows DeleteItem, Scan and Query on its indexes; the other table allows nothing
    assert allowed(statements, "dynamodb:DeleteItem", orders) is True
    assert allowed(statements, "dynamodb:Scan", orders) is True
    assert allowed(statements, "dynamodb:Query", orders + "/index/by-day") is True
    for action in ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Query"):
        assert allowed(statements, action, orders.replace("orders", "ledger")) is False


def test_dynamodb_read_policy_allows_reads_and_no_writes() -> None:
    # Given a function with SAM's DynamoDBReadPolicy on one table
    template = _one_function_template({"Policies": [{"DynamoDBReadPolicy": {"TableName": "ledger"}}]})
    statements = role_policies(template, "Fn", pseudo_parameters(REGION, ACCOUNT))
    ledger = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/ledger"
    # When IAM weighs a read and the writes
    # Then the read is allowed and no write is
    assert allowed(statements, "dynamodb:GetItem", ledger) is True
    for action in ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"):
        assert allowed(statements, action, ledger) is False


def test_a_role_that_only_posts_may_update_ledger_balances_but_no_written_transaction(roles: TemplateRoles) -> None:
    # Given the payments webhook, which posts repayments to the ledger and resolves no pending transfer
    statements = roles.statements("PaymentsWebhookFunction")
    ledger = table_arn("LedgerTable")
    # When IAM weighs UpdateItem on a balance item and on a transaction, and a new transaction's PutItem
    # Then only the balance and the new transaction are allowed
    assert allowed(statements, "dynamodb:UpdateItem", ledger, {"dynamodb:LeadingKeys": ["ACCOUNT#cash"]})
    assert not allowed(statements, "dynamodb:UpdateItem", ledger, {"dynamodb:LeadingKeys": ["TX#repayment-1"]})
    assert allowed(statements, "dynamodb:PutItem", ledger)
    assert not allowed(statements, "dynamodb:DeleteItem", ledger)


def test_every_function_gets_what_globals_add_through_samtranslator(roles: TemplateRoles) -> None:
    # Given every function of the template (Globals: a dead-letter queue and active tracing)
    functions = [p for p in roles.principals() if p.endswith("Function")]
    template = load_template()
    assert len(functions) == sum(r["Type"] == "AWS::Serverless::Function" for r in template["Resources"].values())
    for logical_id in functions:
        statements = roles.statements(logical_id)
        # When IAM weighs the dead-letter send, X-Ray and the basic execution role's logging
        # Then each is allowed: SAM's additions and the AWS managed policies are expanded, not skipped
        assert allowed(statements, "sqs:SendMessage", NAMES["DeadLetterQueue.Arn"]), logical_id
        assert allowed(statements, "xray:PutTraceSegments", "*"), logical_id
        log_stream = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/lending/dev/functions:log-stream:x"
        assert allowed(statements, "logs:PutLogEvents", log_stream), logical_id
        # And nothing the role was not given
        assert not allowed(statements, "sqs:SendMessage", f"arn:aws:sqs:{REGION}:{ACCOUNT}:other"), logical_id


def test_sam_policy_templates_resolve_to_their_resources(roles: TemplateRoles) -> None:
    # Given functions with the Step Functions, Secrets Manager, SNS and EventBridge policy templates
    intake = roles.statements("ApplicationIntakeFunction")
    webhook = roles.statements("IdentityWebhookFunction")
    notification = roles.statements("NotificationFunction")
    close = roles.statements("DailyCloseFunction")
    machine = NAMES["OriginationStateMachine"]
    # When IAM weighs the call each template grants, and the same call elsewhere
    # Then the grant reaches exactly the resource the template named
    assert allowed(intake, "states:StartExecution", machine)
    assert not allowed(intake, "states:StartExecution", machine.replace("origination", "drawdown"))
    assert allowed(intake, "kms:Encrypt", PII_KEY_ARN)
    assert not allowed(intake, "kms:Decrypt", PII_KEY_ARN)
    assert allowed(webhook, "secretsmanager:GetSecretValue", NAMES["IdentityWebhookSecret"])
    assert not allowed(webhook, "secretsmanager:GetSecretValue", NAMES["PaymentsWebhookSecret"])
    assert allowed(webhook, "states:SendTaskSuccess", machine)  # the inline statement
    topic = f"arn:aws:sns:{REGION}:{ACCOUNT}:{NAMES['BorrowerNotificationsTopic.TopicName']}"
    assert allowed(notification, "sns:Publish", topic)
    assert not allowed(notification, "sns:Publish", topic.replace("borrower-notifications", "operations-alarms"))
    assert allowed(close, "events:PutEvents", f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/lending-events-dev")


def test_the_state_machines_roles_invoke_their_own_functions_only(roles: TemplateRoles) -> None:
    # Given the two state machines' roles (lambda:InvokeFunction on each step's ARN, as the ASL names it)
    origination = roles.statements("OriginationStateMachine")
    drawdown = roles.statements("DrawdownStateMachine")
    decision = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{NAMES['DecisionFunction']}"
    payout = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{NAMES['DrawdownDisbursementFunction']}"
    # When IAM weighs lambda:InvokeFunction on a step of each, on a qualified one, and on a longer name
    # Then each machine may invoke its own steps, unqualified as the ASL names them, and not the other's
    assert allowed(origination, "lambda:InvokeFunction", decision)
    assert not allowed(origination, "lambda:InvokeFunction", decision + ":live")
    assert not allowed(origination, "lambda:InvokeFunction", decision + "Shadow")
    assert not allowed(origination, "lambda:InvokeFunction", payout)
    assert allowed(drawdown, "lambda:InvokeFunction", payout)
    assert not allowed(drawdown, "lambda:InvokeFunction", decision)


def test_a_name_the_caller_did_not_give_is_an_error_not_a_guess() -> None:
    # Given names without the audit table
    names = {k: v for k, v in NAMES.items() if not k.startswith("AuditTable")}
    # When the DecisionFunction's role is expanded
    # Then the missing reference is named
    with pytest.raises(UnresolvedReference, match="AuditTable"):
        role_policies(TEMPLATE, "DecisionFunction", names)


def _one_function_template(extra: dict[str, Any]) -> dict[str, Any]:
    properties = {"CodeUri": "x/", "Handler": "app.handler", "Runtime": "python3.13", **extra}
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Transform": "AWS::Serverless-2016-10-31",
        "Resources": {"Fn": {"Type": "AWS::Serverless::Function", "Properties": properties}},
    }


def test_a_managed_policy_by_name_is_expanded_from_its_document() -> None:
    # Given a function whose Policies name an AWS managed policy and hold an inline statement
    template = _one_function_template(
        {
            "Policies": [
                "AmazonSQSReadOnlyAccess",
                {"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]},
            ]
        }
    )
    # When its role is expanded
    statements = role_policies(template, "Fn", pseudo_parameters(REGION, ACCOUNT))
    # Then the managed policy's document and the inline statement both count
    assert allowed(statements, "sqs:GetQueueAttributes", f"arn:aws:sqs:{REGION}:{ACCOUNT}:q")
    assert allowed(statements, "s3:GetObject", "arn:aws:s3:::b/k")
    assert not allowed(statements, "sqs:SendMessage", f"arn:aws:sqs:{REGION}:{ACCOUNT}:q")


def test_a_managed_policy_arn_that_cannot_be_expanded_is_listed_in_the_error() -> None:
    # Given a function attached to two customer managed policies by ARN, one of them given by the caller
    known = f"arn:aws:iam::{ACCOUNT}:policy/known"
    unknown = f"arn:aws:iam::{ACCOUNT}:policy/team-boundary"
    template = _one_function_template({"Policies": [known, unknown]})
    names = pseudo_parameters(REGION, ACCOUNT)
    statement = {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}
    # When its role is expanded
    # Then the error names the one nobody could expand
    with pytest.raises(UnknownManagedPolicies, match="team-boundary") as raised:
        role_policies(template, "Fn", names, managed={known: [statement]})
    assert raised.value.arns == (unknown,)
    # And with both documents given, it expands
    statements = role_policies(template, "Fn", names, managed={known: [statement], unknown: []})
    assert allowed(statements, "s3:ListBucket", "arn:aws:s3:::b")


def test_a_permission_boundary_is_refused_rather_than_ignored() -> None:
    # Given a function with a permissions boundary (a ceiling this module does not model)
    template = _one_function_template({"PermissionsBoundary": f"arn:aws:iam::{ACCOUNT}:policy/ceiling"})
    # When its role is expanded
    # Then it raises
    with pytest.raises(UnsupportedPolicy, match="permission boundaries"):
        role_policies(template, "Fn", pseudo_parameters(REGION, ACCOUNT))


# ---------------------------------------------------------------- evaluation on hand-made statements


def allow(action: Any, resource: Any, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: Any, resource: Any, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def test_no_statement_is_the_implicit_deny() -> None:
    # Given no statements / When anything is asked / Then it is denied
    assert allowed([], "s3:GetObject", "arn:aws:s3:::b/k") is False


def test_an_explicit_deny_wins_over_any_allow() -> None:
    # Given an Allow of everything and a Deny of one action on one table
    table = table_arn("AuditTable")
    statements = [allow("*", "*"), deny("dynamodb:DeleteItem", table)]
    # When IAM weighs that action there, another action there, and that action elsewhere
    # Then only the denied combination is refused
    assert allowed(statements, "dynamodb:DeleteItem", table) is False
    assert allowed(statements, "dynamodb:PutItem", table) is True
    assert allowed(statements, "dynamodb:DeleteItem", table_arn("LoansTable")) is True


def test_action_wildcards_match_case_insensitively() -> None:
    # Given statements with * and ? in actions, in mixed case
    statements = [allow("DynamoDB:Get*", "*"), allow(["sqs:Send?essage"], "*")]
    # When IAM weighs matching and non-matching actions
    # Then actions compare without regard to case, * spans any run and ? one character
    assert allowed(statements, "dynamodb:GetItem", "x")
    assert allowed(statements, "DYNAMODB:getitem", "x")
    assert allowed(statements, "sqs:SendMessage", "x")
    assert not allowed(statements, "sqs:SendMessageBatch", "x")
    assert not allowed(statements, "dynamodb:PutItem", "x")


def test_resource_wildcards_match_case_sensitively_and_keep_to_their_segment() -> None:
    # Given a resource pattern with a wildcard mid-segment and one ending a segment
    statements = [
        allow("lambda:InvokeFunction", "arn:aws:lambda:*:123456789012:function:step-*"),
        allow("s3:GetObject", "arn:aws:s3:::bucket/reports/??.csv"),
    ]
    # Then a trailing * runs past colons (a qualifier), a segment's * does not, and case counts
    assert allowed(statements, "lambda:InvokeFunction", "arn:aws:lambda:ap-east-1:123456789012:function:step-a")
    assert allowed(statements, "lambda:InvokeFunction", "arn:aws:lambda:ap-east-1:123456789012:function:step-a:1")
    assert not allowed(statements, "lambda:InvokeFunction", "arn:aws:lambda:ap-east-1:123456789012:function:Step-a")
    assert allowed(statements, "s3:GetObject", "arn:aws:s3:::bucket/reports/q1.csv")
    assert not allowed(statements, "s3:GetObject", "arn:aws:s3:::bucket/reports/q10.csv")
    mid = [allow("sqs:SendMessage", "arn:aws:sqs:*-1:123456789012:queue")]
    assert allowed(mid, "sqs:SendMessage", "arn:aws:sqs:ap-east-1:123456789012:queue")
    assert not allowed(mid, "sqs:SendMessage", "arn:aws:sqs:ap:east-1:123456789012:queue")


def test_not_action_and_not_resource_apply_to_everything_they_do_not_name() -> None:
    # Given an Allow of everything but IAM, and a Deny of everything outside one bucket
    statements: list[dict[str, Any]] = [
        {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:*", "NotResource": ["arn:aws:s3:::mine", "arn:aws:s3:::mine/*"]},
    ]
    # Then the NotAction allows what it does not name, and the NotResource denies what it does not name
    assert allowed(statements, "s3:GetObject", "arn:aws:s3:::mine/k")
    assert not allowed(statements, "s3:GetObject", "arn:aws:s3:::theirs/k")
    assert not allowed(statements, "iam:CreateUser", "*")
    assert allowed(statements, "kms:Decrypt", PII_KEY_ARN)


def test_conditions_must_all_hold_and_a_missing_key_fails_a_positive_test() -> None:
    # Given an Allow with two condition operators
    statement = allow(
        "kms:Decrypt",
        "*",
        Condition={
            "StringEquals": {"kms:EncryptionContext:purpose": ["pii", "audit"]},
            "ArnLike": {"aws:SourceArn": "arn:aws:lambda:*:123456789012:function:*"},
        },
    )
    source = "arn:aws:lambda:ap-east-1:123456789012:function:decision"
    # Then it allows only when both hold; keys compare case-insensitively; values are OR-ed
    assert allowed([statement], "kms:Decrypt", "k", {"kms:EncryptionContext:purpose": "audit", "aws:SourceArn": source})
    assert allowed([statement], "kms:Decrypt", "k", {"KMS:encryptioncontext:PURPOSE": "pii", "aws:sourcearn": source})
    assert not allowed(
        [statement], "kms:Decrypt", "k", {"kms:EncryptionContext:purpose": "other", "aws:SourceArn": source}
    )
    assert not allowed([statement], "kms:Decrypt", "k", {"kms:EncryptionContext:purpose": "pii"})
    other_account = source.replace("123456789012", "999999999999")
    assert not allowed(
        [statement], "kms:Decrypt", "k", {"kms:EncryptionContext:purpose": "pii", "aws:SourceArn": other_account}
    )


def test_negated_if_exists_and_null_operators_follow_iam() -> None:
    # Given a Deny unless transport is secure, an Allow limited by a negated StringLike, and a Null test
    statements = [
        allow("s3:GetObject", "*", Condition={"StringNotLike": {"s3:prefix": "private/*"}}),
        deny("s3:*", "*", Condition={"Bool": {"aws:SecureTransport": False}}),
        allow("s3:PutObject", "*", Condition={"StringEqualsIfExists": {"s3:x-amz-acl": "private"}}),
        allow("s3:ListBucket", "*", Condition={"Null": {"aws:TokenIssueTime": "false"}}),
    ]
    secure = {"aws:SecureTransport": True}
    # Then a negated test passes when the key is missing and fails when it matches
    assert allowed(statements, "s3:GetObject", "b", secure)
    assert not allowed(statements, "s3:GetObject", "b", {**secure, "s3:prefix": "private/x"})
    # And the Bool deny refuses insecure transport whatever allows it
    assert not allowed(statements, "s3:GetObject", "b", {"aws:SecureTransport": "false"})
    # And IfExists passes a missing key, checks a present one
    assert allowed(statements, "s3:PutObject", "b", secure)
    assert not allowed(statements, "s3:PutObject", "b", {**secure, "s3:x-amz-acl": "public-read"})
    # And Null "false" requires the key to be present
    assert not allowed(statements, "s3:ListBucket", "b", secure)
    assert allowed(statements, "s3:ListBucket", "b", {**secure, "aws:TokenIssueTime": "2026-12-03T00:00:00Z"})


def test_set_operators_weigh_every_value_of_a_multivalued_key() -> None:
    # Given an Allow only when every requested attribute is one of two, and one when any tag is "pii"
    statements = [
        allow(
            "dynamodb:GetItem",
            "*",
            Condition={"ForAllValues:StringEquals": {"dynamodb:Attributes": ["pk", "status"]}},
        ),
        allow("kms:Decrypt", "*", Condition={"ForAnyValue:StringLike": {"aws:TagKeys": "pii*"}}),
    ]
    # Then ForAllValues holds for a subset (and vacuously for none), ForAnyValue needs one match
    assert allowed(statements, "dynamodb:GetItem", "t", {"dynamodb:Attributes": ["pk"]})
    assert allowed(statements, "dynamodb:GetItem", "t", {})
    assert not allowed(statements, "dynamodb:GetItem", "t", {"dynamodb:Attributes": ["pk", "id_number"]})
    assert allowed(statements, "kms:Decrypt", "k", {"aws:TagKeys": ["team", "pii-owner"]})
    assert not allowed(statements, "kms:Decrypt", "k", {"aws:TagKeys": ["team"]})
    assert not allowed(statements, "kms:Decrypt", "k", {})


@pytest.mark.parametrize(
    "operator", ["NumericLessThan", "DateGreaterThan", "IpAddress", "BinaryEquals", "ForAllValues:NumericEquals"]
)
def test_an_unsupported_condition_operator_raises_whatever_the_request(operator: str) -> None:
    # Given a statement with an operator this module does not model, on an action nobody asks about
    statements = [allow("s3:GetObject", "*"), allow("ec2:RunInstances", "*", Condition={operator: {"k": "1"}})]
    # When any request is weighed
    # Then it raises instead of ignoring the condition
    with pytest.raises(UnsupportedPolicy, match=operator):
        allowed(statements, "s3:GetObject", "arn:aws:s3:::b/k")


@pytest.mark.parametrize(
    "statement",
    [
        {"Effect": "allow", "Action": "s3:*", "Resource": "*"},
        {"Effect": "Allow", "Resource": "*"},
        {"Effect": "Allow", "Action": "s3:*", "NotAction": "s3:Get*", "Resource": "*"},
        {"Effect": "Allow", "Action": "s3:*"},
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Principal": "*"},
        {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::${aws:username}/*"},
        {"Effect": "Allow", "Action": "s3:*", "Resource": {"Ref": "Bucket"}},
    ],
)
def test_a_statement_iam_would_reject_or_this_module_cannot_judge_raises(statement: dict[str, Any]) -> None:
    # Given a malformed statement, a policy variable, or an unresolved intrinsic
    # When a request is weighed
    # Then it raises rather than answering
    with pytest.raises(UnsupportedPolicy):
        allowed([statement], "s3:GetObject", "arn:aws:s3:::b/k")


def test_a_request_action_must_be_concrete() -> None:
    # Given an Allow of everything / When the request's action is a pattern / Then it is a caller's error
    with pytest.raises(ValueError, match="service:Operation"):
        allowed([allow("*", "*")], "s3:*", "*")


# ---------------------------------------------------------------- KMS key policies

ROLE = f"arn:aws:iam::{ACCOUNT}:role/lending-local-DecisionFunctionRole"


def _key_policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def test_the_pii_key_policy_lets_iam_policies_grant_its_use(roles: TemplateRoles) -> None:
    # Given the PII key's policy as the template writes it (the account administers; IAM grants the rest)
    policy = roles.names.resolve(TEMPLATE["Resources"]["PiiKey"]["Properties"]["KeyPolicy"])
    where = {"role_arn": ROLE, "account": ACCOUNT, "action": "kms:Decrypt", "key_arn": PII_KEY_ARN}
    # When KMS weighs a decrypt by a role whose identity policy allows it, and by one whose does not
    # Then the first is allowed and the second is not: the key delegates to IAM
    assert key_policy_allows(policy, **where, identity_allows=True) is True
    assert key_policy_allows(policy, **where, identity_allows=False) is False


def test_a_key_policy_without_the_account_refuses_what_the_role_allows() -> None:
    # Given a key policy naming only a service (as a key made for CloudWatch alone would)
    policy = _key_policy(
        {"Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"}, "Action": "kms:*", "Resource": "*"}
    )
    # When KMS weighs a decrypt that the role's identity policy allows / Then it is refused
    assert not key_policy_allows(
        policy, role_arn=ROLE, account=ACCOUNT, action="kms:Decrypt", key_arn=PII_KEY_ARN, identity_allows=True
    )


def test_a_key_policy_naming_the_role_allows_it_and_its_deny_wins() -> None:
    # Given a key policy that allows the role directly, and the same with a Deny of decrypt for it
    allow_role = {"Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "kms:Decrypt", "Resource": "*"}
    deny_role = {"Effect": "Deny", "Principal": {"AWS": [ROLE]}, "Action": "kms:Decrypt", "Resource": "*"}
    account = {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
        "Action": "kms:*",
        "Resource": "*",
    }
    where = {"role_arn": ROLE, "account": ACCOUNT, "action": "kms:Decrypt", "key_arn": PII_KEY_ARN}
    # Then the direct grant allows without any identity policy, and an explicit Deny refuses whatever IAM says
    assert key_policy_allows(_key_policy(allow_role), **where, identity_allows=False)
    assert not key_policy_allows(_key_policy(account, deny_role), **where, identity_allows=True)
    # And a Deny in the role's own policies wins over the key policy's direct grant
    assert not key_policy_allows(_key_policy(allow_role), **where, identity_allows=False, identity_denies=True)
    # And a principal the model cannot judge is refused, not guessed
    with pytest.raises(UnsupportedPolicy):
        key_policy_allows(
            _key_policy({"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"}),
            **where,
            identity_allows=True,
        )
