"""What each function and state machine of template.yaml uses, and so is granted: nothing more (issue 12).

``USES`` is the evidence: every entry is an AWS call some code path makes, in IAM's terms (action, then the
template resource by logical id, ``/index/<name>`` for an index, ``[ACCOUNT#*]`` for an UpdateItem limited to the
ledger's balance items by ``dynamodb:LeadingKeys``). ``tests/unit/local_iam/test_least_privilege.py`` holds the
template's grants equal to it; the e2e suite records every call and fails on a grant no call used, but for
``UNRECORDED``, the paths it does not drive (each with the reason it exists).

Not listed: what SAM adds to every role from Globals (the dead-letter queue's sqs:SendMessage, X-Ray's writes, the
basic execution role's logs), which Lambda itself uses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from infra.local.aws_resources import Request
from infra.local.iam import Statement, allowed, pseudo_parameters
from infra.local.iam_audit import Authoriser
from infra.local.runtime import AwsCall

REGION = "ap-east-1"
ACCOUNT = "123456789012"
WORKFLOW_FUNCTIONS = [
    "IdentityRequestFunction",
    "CreditScoringFunction",
    "BusinessAssessmentFunction",
    "DecisionFunction",
    "UnderwriterReferralFunction",
    "OfferPricingFunction",
    "AcceptanceRequestFunction",
    "FundingReservationFunction",
    "FundingReleaseFunction",
    "DisbursementFunction",
    "BookingFunction",
    "ApplicationOutcomeFunction",
    "NotificationFunction",
    "DrawdownFundingFunction",
    "DrawdownDisbursementFunction",
    "DrawdownBookingFunction",
    "DrawdownReleaseFunction",
    "HardshipReferralFunction",
    "HardshipOfferFunction",
    "HardshipOutcomeFunction",
    "OpenLoansFunction",
    "EarlyWarningCheckFunction",
]
TABLES = [
    "ApplicationsTable",
    "LoansTable",
    "LedgerTable",
    "AuditTable",
    "IdempotencyTable",
    "CollectionsTable",
    "PortfolioTable",
    "ReconciliationTable",
    "HardshipTable",
    "WarningsTable",
]
#: Physical names as the deployed stack would report them, made by hand (Ref of a table is its name, and so on).
NAMES: dict[str, str] = {
    **pseudo_parameters(REGION, ACCOUNT),
    "ApplicationsTable": "lending-applications-dev",
    "LoansTable": "lending-loans-dev",
    "LedgerTable": "lending-ledger-dev",
    "AuditTable": "lending-audit-dev",
    "IdempotencyTable": "lending-idempotency-dev",
    "CollectionsTable": "lending-collections-dev",
    "PortfolioTable": "lending-portfolio-dev",
    "ReconciliationTable": "lending-reconciliation-dev",
    "HardshipTable": "lending-hardship-requests-dev",
    "WarningsTable": "lending-warnings-dev",
    "EarlyWarningFlow": f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:lending-early-warning-dev",
    "EarlyWarningFlow.Name": "lending-early-warning-dev",
    "PiiKey": "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0",
    "DeadLetterQueue.Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:lending-dlq-dev",
    "OriginationStateMachine": f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:lending-origination-dev",
    "OriginationStateMachine.Name": "lending-origination-dev",
    "DrawdownStateMachine.Name": "lending-drawdown-dev",
    "HardshipFlow": f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:lending-hardship-dev",
    "HardshipFlow.Name": "lending-hardship-dev",
    "IdentityWebhookSecret": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:lending/identity-webhook-Ab12Cd",
    "PaymentsWebhookSecret": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:lending/payments-webhook-Ef34Gh",
    "ListCursorSecret": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:lending/list-cursor-Ij56Kl",
    "BorrowerNotificationsTopic.TopicName": "lending-borrower-notifications-dev",
    "LendingEventBus": "lending-events-dev",
    "AuditAnchorBucket": "lending-audit-anchors-123456789012-ap-east-1-dev",
    "AuditAnchorBucket.Arn": "arn:aws:s3:::lending-audit-anchors-123456789012-ap-east-1-dev",
    **{name: f"lending-local-{name}" for name in WORKFLOW_FUNCTIONS},
}
NAMES.update({f"{t}.Arn": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{NAMES[t]}" for t in TABLES})
NAMES.update({f"{f}.Arn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{NAMES[f]}" for f in WORKFLOW_FUNCTIONS})

_APPLICATION_STEP = {"dynamodb:GetItem ApplicationsTable", "dynamodb:UpdateItem ApplicationsTable"}
_LOAN_STEP = {"dynamodb:GetItem LoansTable", "dynamodb:UpdateItem LoansTable"}
#: Appends to an audit chain at its tail, read first (``AuditStore.append``).
_AUDIT = {"dynamodb:PutItem AuditTable", "dynamodb:Query AuditTable"}
_DECRYPT = {"kms:Decrypt PiiKey"}
#: Posts new ledger transactions: PutItem of TX# items, and UpdateItem on balance items only.
_POSTS = {"dynamodb:PutItem LedgerTable[TX#*]", "dynamodb:UpdateItem LedgerTable[ACCOUNT#*]"}
#: Resolves pending transfers too (reads them, moves their state): UpdateItem on any ledger item.
_RESOLVES = {"dynamodb:GetItem LedgerTable", "dynamodb:PutItem LedgerTable[TX#*]", "dynamodb:UpdateItem LedgerTable"}
#: Keeps repayments (created once, their status moved once) and reminders (claimed, then marked sent).
_REPAYMENTS = {
    "dynamodb:GetItem CollectionsTable",
    "dynamodb:PutItem CollectionsTable",
    "dynamodb:UpdateItem CollectionsTable",
}

USES: dict[str, set[str]] = {
    "ApplicationIntakeFunction": {
        "dynamodb:PutItem ApplicationsTable",
        *_AUDIT,
        "dynamodb:PutItem IdempotencyTable",
        "dynamodb:UpdateItem IdempotencyTable",
        "dynamodb:DeleteItem IdempotencyTable",
        "kms:Encrypt PiiKey",
        "states:StartExecution OriginationStateMachine",
    },
    "IdentityRequestFunction": _APPLICATION_STEP | _AUDIT | _DECRYPT,
    "IdentityWebhookFunction": _APPLICATION_STEP
    | _AUDIT
    | {"secretsmanager:GetSecretValue IdentityWebhookSecret", "states:SendTaskSuccess OriginationStateMachine"},
    "CreditScoringFunction": _APPLICATION_STEP | _AUDIT | _DECRYPT,
    "BusinessAssessmentFunction": _APPLICATION_STEP | _AUDIT | _DECRYPT,
    "DecisionFunction": _APPLICATION_STEP | _AUDIT | _DECRYPT,
    "UnderwriterReferralFunction": _APPLICATION_STEP | _AUDIT,
    "ReviewsFunction": _APPLICATION_STEP
    | _AUDIT
    | {"dynamodb:Query ApplicationsTable/index/ReviewQueue", "states:SendTaskSuccess OriginationStateMachine"}
    | {"dynamodb:GetItem HardshipTable", "dynamodb:UpdateItem HardshipTable"}
    | {"dynamodb:Query HardshipTable/index/HardshipQueue", "states:SendTaskSuccess HardshipFlow"},
    "HardshipFunction": {
        "dynamodb:GetItem LoansTable",
        "dynamodb:GetItem HardshipTable",
        "dynamodb:PutItem HardshipTable",
        "dynamodb:UpdateItem HardshipTable",
        *_AUDIT,
        "states:StartExecution HardshipFlow",
        "states:SendTaskSuccess HardshipFlow",
    },
    "HardshipReferralFunction": {"dynamodb:UpdateItem HardshipTable"},
    "HardshipOfferFunction": {"dynamodb:GetItem LoansTable", "dynamodb:GetItem HardshipTable"}
    | {"dynamodb:UpdateItem HardshipTable", "events:PutEvents LendingEventBus"}
    | _AUDIT,
    "HardshipOutcomeFunction": _LOAN_STEP
    | _AUDIT
    | _POSTS
    | {
        "dynamodb:GetItem HardshipTable",
        "dynamodb:UpdateItem HardshipTable",
        "events:PutEvents LendingEventBus",
        "dynamodb:UpdateItem PortfolioTable",
    },
    "OfferPricingFunction": _APPLICATION_STEP | _AUDIT,
    "AcceptanceRequestFunction": _APPLICATION_STEP | _AUDIT | {"states:SendTaskSuccess OriginationStateMachine"},
    "AcceptanceFunction": _APPLICATION_STEP | _AUDIT | {"states:SendTaskSuccess OriginationStateMachine"},
    "FundingReservationFunction": _APPLICATION_STEP | _AUDIT | _POSTS | {"dynamodb:GetItem LedgerTable"},
    "FundingReleaseFunction": {"dynamodb:GetItem ApplicationsTable"} | _AUDIT | _RESOLVES,
    "DisbursementFunction": _APPLICATION_STEP | _AUDIT | _DECRYPT,
    "BookingFunction": _APPLICATION_STEP
    | _AUDIT
    | _RESOLVES
    | {"dynamodb:PutItem LoansTable", "dynamodb:UpdateItem PortfolioTable"},
    "ApplicationOutcomeFunction": _APPLICATION_STEP | _AUDIT,
    "NotificationFunction": {"dynamodb:GetItem ApplicationsTable", "sns:Publish BorrowerNotificationsTopic"},
    "PaymentsWebhookFunction": _LOAN_STEP
    | _AUDIT
    | _POSTS
    | _REPAYMENTS
    | {"secretsmanager:GetSecretValue PaymentsWebhookSecret", "dynamodb:UpdateItem PortfolioTable"},
    "DrawdownRequestFunction": _LOAN_STEP | _AUDIT | {"states:StartExecution DrawdownStateMachine"},
    "DrawdownFundingFunction": _LOAN_STEP | _AUDIT | _POSTS | {"dynamodb:GetItem LedgerTable"},
    "DrawdownDisbursementFunction": {"dynamodb:GetItem ApplicationsTable"} | _LOAN_STEP | _AUDIT | _DECRYPT,
    "DrawdownBookingFunction": _LOAN_STEP | _AUDIT | _RESOLVES | {"dynamodb:UpdateItem PortfolioTable"},
    "DrawdownReleaseFunction": _LOAN_STEP | _AUDIT | _RESOLVES,
    "DailyCloseFunction": _LOAN_STEP
    | _AUDIT
    | _POSTS
    | {
        "dynamodb:Query LoansTable/index/DueLoans",
        "events:PutEvents LendingEventBus",
        "dynamodb:UpdateItem PortfolioTable",
        "dynamodb:Query PortfolioTable",
        "dynamodb:PutItem PortfolioTable",
        "dynamodb:PutItem WarningsTable",
    },
    "EarlyWarningStartFunction": {"states:StartExecution EarlyWarningFlow"},
    "OpenLoansFunction": {"dynamodb:Query LoansTable/index/OpenLoans"},
    "EarlyWarningCheckFunction": _LOAN_STEP
    | _AUDIT
    | _DECRYPT
    | {
        "dynamodb:GetItem ApplicationsTable",
        "dynamodb:PutItem WarningsTable",
        "dynamodb:UpdateItem WarningsTable",
        "events:PutEvents LendingEventBus",
        "sns:Publish BorrowerNotificationsTopic",
    },
    "WarningsFunction": {
        "dynamodb:Query WarningsTable/index/WarningsFeed",
        "secretsmanager:GetSecretValue ListCursorSecret",
    },
    "AuditAnchorFunction": {
        "dynamodb:Query AuditTable/index/AuditChains",
        "dynamodb:Query AuditTable",
        "dynamodb:PutItem AuditTable[ANCHOR#*]",
        "s3:PutObject AuditAnchorBucket/anchors/*",
        "s3:GetObject AuditAnchorBucket/anchors/*",
        "s3:ListBucket AuditAnchorBucket",
    },
    "ReadApiFunction": {
        "dynamodb:GetItem ApplicationsTable",
        "dynamodb:GetItem LoansTable",
        "dynamodb:Query AuditTable",
        "dynamodb:Query ApplicationsTable/index/BorrowerApplications",
        "dynamodb:Query LoansTable/index/BorrowerLoans",
        "secretsmanager:GetSecretValue ListCursorSecret",
        "dynamodb:Query CollectionsTable/index/LoanRepayments",
    },
    "OpsApiFunction": {
        "dynamodb:GetItem LoansTable",
        "dynamodb:GetItem ApplicationsTable",
        *_DECRYPT,
        "dynamodb:BatchGetItem LedgerTable[ACCOUNT#funding:*]",
        "dynamodb:GetItem ReconciliationTable",
        "dynamodb:Query ReconciliationTable",
        "dynamodb:GetItem PortfolioTable",
        "dynamodb:Query PortfolioTable",
        "dynamodb:Query WarningsTable/index/LoanWarnings",
    },
    "WriteOffFunction": _LOAN_STEP
    | _AUDIT
    | _POSTS
    | {"dynamodb:UpdateItem PortfolioTable", "events:PutEvents LendingEventBus"},
    "ReconciliationFunction": {
        "dynamodb:Scan LoansTable",
        "dynamodb:Scan LedgerTable",
        "dynamodb:PutItem ReconciliationTable",
    },
    "RepaymentRequestFunction": {
        "dynamodb:GetItem LoansTable",
        "dynamodb:GetItem ApplicationsTable",
        *_REPAYMENTS,
        "dynamodb:Query CollectionsTable/index/LoanRepayments",
        "dynamodb:PutItem IdempotencyTable",
        "dynamodb:UpdateItem IdempotencyTable",
        "dynamodb:DeleteItem IdempotencyTable",
        *_DECRYPT,
    },
    "AutoDebitFunction": {
        "dynamodb:GetItem LoansTable",
        "dynamodb:Query LoansTable/index/DueLoans",
        "dynamodb:GetItem ApplicationsTable",
        *_REPAYMENTS,
        "dynamodb:Query CollectionsTable/index/LoanRepayments",
        *_DECRYPT,
        "sns:Publish BorrowerNotificationsTopic",
    },
    "OriginationStateMachine": {
        f"lambda:InvokeFunction {name}"
        for name in WORKFLOW_FUNCTIONS
        if not name.startswith(("Drawdown", "Hardship"))
        and name not in ("OpenLoansFunction", "EarlyWarningCheckFunction")
    },
    "HardshipFlow": {f"lambda:InvokeFunction {name}" for name in WORKFLOW_FUNCTIONS if name.startswith("Hardship")},
    "DrawdownStateMachine": {
        f"lambda:InvokeFunction {name}" for name in WORKFLOW_FUNCTIONS if name.startswith("Drawdown")
    },
    "EarlyWarningFlow": {
        "lambda:InvokeFunction OpenLoansFunction",
        "lambda:InvokeFunction EarlyWarningCheckFunction",
    },
}

#: Grants the e2e suite does not drive, and why each exists.
UNRECORDED: dict[str, str] = {
    **{
        f"{name} dynamodb:Query AuditTable": (
            "a drawdown step appends after the head the line keeps, and reads the head only when the chain grew "
            "outside servicing since (tests/integration/adapters/test_servicing_store.py drives that path)"
        )
        for name in (
            "DrawdownFundingFunction",
            "DrawdownDisbursementFunction",
            "DrawdownBookingFunction",
            "DrawdownReleaseFunction",
        )
    },
    "EarlyWarningCheckFunction dynamodb:Query AuditTable": (
        "the re-check's servicing write reads the chain's head only when the loan keeps none (no servicing write "
        "since booking) or the chain grew outside servicing; on the test clock every loan was serviced first "
        "(tests/integration/adapters/test_early_warning_recheck.py drives that path)"
    ),
    "AcceptanceRequestFunction states:SendTaskSuccess OriginationStateMachine": (
        "a retried wait for acceptance (after a Lambda error) finds the borrower accepted on the failed attempt's "
        "token and hands the acceptance over on its own (tests/unit/test_acceptance_steps.py drives it)"
    ),
    "AuditAnchorFunction s3:ListBucket AuditAnchorBucket": (
        "S3 answers a missing key NoSuchKey rather than AccessDenied only to a role that may list the bucket; the "
        "local stack answers NoSuchKey regardless, so the seal's read of a day not sealed never calls ListBucket"
    ),
    "HardshipOutcomeFunction dynamodb:PutItem LedgerTable[TX#*]": (
        "a restructure posts only when the new plan moves a recognition: a due date fell between the offer and the "
        "acceptance (tests/unit/hardship drives the replay; the e2e accepts on the offer's day)"
    ),
    "HardshipOutcomeFunction dynamodb:UpdateItem LedgerTable[ACCOUNT#*]": (
        "a restructure posts only when the new plan moves a recognition (see its PutItem)"
    ),
    "ApplicationIntakeFunction dynamodb:DeleteItem IdempotencyTable": (
        "Powertools idempotency deletes the in-progress record when the handler raises, so a retry may run"
    ),
}

#: What SAM adds to every role from Globals (dead-letter queue, tracing, logs): Lambda's own, not the code's.
GLOBAL_ACTIONS = re.compile(r"^(sqs:SendMessage|xray:.*|logs:.*)$")


def _listed(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _last_segment(value: str) -> str:
    return value.rsplit(":", 1)[-1].rsplit("/", 1)[-1]


def resource_label(resource: str, names: Mapping[str, str]) -> str:
    """The template's logical id for a resource ARN (``/index/<name>`` kept, an S3 object path kept after the
    bucket's; a Lambda qualifier ``:*`` dropped)."""
    if resource.startswith("arn:aws:s3:::") and "/" in resource:
        bucket, _, path = resource.partition("/")
        return f"{resource_label(bucket, names)}/{path}"
    base, _, index = resource.partition("/index/")
    base = base.removesuffix(":*")
    for key, value in names.items():
        logical = key.split(".", 1)[0]
        if key.startswith("AWS::") or not isinstance(value, str):
            continue
        if base == value or base.endswith((f":{_last_segment(value)}", f"/{_last_segment(value)}")):
            return logical + (f"/index/{index}" if index else "")
    raise KeyError(f"no resource of the template is {resource}")


def _leading_keys(statement: Mapping[str, Any]) -> str:
    condition = statement.get("Condition")
    if not condition:
        return ""
    values = condition["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
    return f"[{','.join(values if isinstance(values, list) else [values])}]"


def _grants(statements: Iterable[Mapping[str, Any]], names: Mapping[str, str]) -> Iterator[tuple[str, Statement]]:
    """Each Allow grant of a role in ``USES``'s terms, with the one-action, one-resource statement it stands for;
    SAM's Globals additions left out."""
    for statement in statements:
        if statement["Effect"] != "Allow":
            continue
        for action in _listed(statement["Action"]):
            if GLOBAL_ACTIONS.match(action):
                continue
            for resource in _listed(statement["Resource"]):
                label = f"{action} {resource_label(resource, names)}{_leading_keys(statement)}"
                yield label, {**statement, "Action": action, "Resource": resource}


def granted(statements: Iterable[Mapping[str, Any]], names: Mapping[str, str]) -> set[str]:
    """The role's grants in ``USES``'s terms."""
    return {label for label, _ in _grants(statements, names)}


def grant_evidence(
    authoriser: Authoriser, calls: Iterable[AwsCall], names: Mapping[str, str]
) -> tuple[set[str], set[str]]:
    """Every grant of the stack's roles as ``"<principal> <grant>"``, and those some recorded call used.

    A grant is used when one of its principal's calls is allowed by that grant alone (its action, its resource,
    its condition). ``names``: the deployed stack's names of the template's resources, for the labels.
    """
    requests: dict[str, list[Request]] = {}
    for call in calls:
        requests.setdefault(call.function, []).extend(authoriser.requests(call))
    every, used = set(), set()
    for principal in USES:
        for label, alone in _grants(authoriser.statements(principal), names):
            every.add(f"{principal} {label}")
            if any(allowed([alone], *request) for request in requests.get(principal, [])):
                used.add(f"{principal} {label}")
    return every, used
