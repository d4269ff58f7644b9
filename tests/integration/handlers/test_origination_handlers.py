"""Origination handlers on their events: the borrower's application and the underwriter's review, end to store."""

from __future__ import annotations

import json
from typing import Any

from handler_harness import Deployed, event, from_item, to_attribute

APPLICATION_ID = "app_62e4ab26d21301822e47538f72"  # the intake event's borrower and Idempotency-Key, hashed
BORROWER = "5b8f2c0e-7d1a-4a3e-9c61-2f0d8e4b7a19"
UNDERWRITER = "c2a9e7d4-1f3b-4e8a-b6d5-0a9f8e7d6c5b"
#: What the identity and assessment steps leave on an application the decision refers to an underwriter.
REFERRED_DECISION = {
    "outcome": "refer",
    "rule": "score_in_review_band",
    "product": "business_instalment",
    "risk_grade": "C",
    "score": 640,
    "reasons": [{"code": "model_short_trading_history", "text": "The business has traded for a short time."}],
}


def application(deployed: Deployed) -> dict[str, Any]:
    item = deployed.client("dynamodb").get_item(
        TableName=deployed.table("ApplicationsTable"), Key={"application_id": {"S": APPLICATION_ID}}
    )["Item"]
    return from_item(item)


def audit_kinds(deployed: Deployed) -> list[str]:
    items = deployed.client("dynamodb").query(
        TableName=deployed.table("AuditTable"),
        KeyConditionExpression="subject = :subject",
        ExpressionAttributeValues={":subject": {"S": APPLICATION_ID}},
    )["Items"]
    return [str(from_item(item)["kind"]) for item in items]


def assessed(deployed: Deployed, status: str, decision: dict[str, Any]) -> None:
    """The application as the workflow's identity and assessment steps leave it (they call vendors)."""
    deployed.client("dynamodb").update_item(
        TableName=deployed.table("ApplicationsTable"),
        Key={"application_id": {"S": APPLICATION_ID}},
        UpdateExpression="SET #status = :status, decision = :decision",
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues={
            ":status": {"S": status},
            ":decision": to_attribute(decision),
        },
    )


def test_an_application_posted_is_stored_encrypted_and_starts_its_workflow_once(deployed: Deployed) -> None:
    # Given the borrower's POST /v1/applications, as API Gateway hands it to the function
    request = event("application_intake")

    # When the intake function answers it
    response = deployed.invoke("ApplicationIntakeFunction", request)

    # Then it is accepted with the id to poll
    assert response["statusCode"] == 202
    assert json.loads(response["body"]) == {"application_id": APPLICATION_ID, "status": "RECEIVED"}
    # And the application is stored as received, the borrower's personal data encrypted, never in the clear
    stored = application(deployed)
    assert (stored["status"], stored["borrower_id"], stored["amount"]) == ("RECEIVED", BORROWER, "120000.00")
    assert stored["product"] == "business_instalment"
    assert set(stored["pii"]) == {"name", "id_number", "phone", "bank_account"}
    raw = json.dumps(stored, default=repr)
    assert "6222020200112345678" not in raw
    assert "110101198505050120" not in raw
    assert audit_kinds(deployed) == ["application_received"]
    # And its origination workflow started, named after it
    sfn = deployed.client("stepfunctions")
    machine = deployed.refs["OriginationStateMachine"]
    executions = sfn.list_executions(stateMachineArn=machine)["executions"]
    assert [e["name"] for e in executions] == [APPLICATION_ID]
    started = sfn.describe_execution(executionArn=executions[0]["executionArn"])
    assert json.loads(started["input"]) == {"application_id": APPLICATION_ID}

    # When the client sends the same request again (same Idempotency-Key, same body)
    again = deployed.invoke("ApplicationIntakeFunction", event("application_intake"))

    # Then the answer is the first one, and nothing more is stored or started
    assert (again["statusCode"], json.loads(again["body"])) == (202, json.loads(response["body"]))
    assert audit_kinds(deployed) == ["application_received"]
    assert len(sfn.list_executions(stateMachineArn=machine)["executions"]) == 1


def test_the_same_idempotency_key_with_another_body_is_a_conflict(deployed: Deployed) -> None:
    # Given an application accepted
    deployed.invoke("ApplicationIntakeFunction", event("application_intake"))

    # When the same Idempotency-Key comes with another amount
    changed = event("application_intake")
    body = json.loads(changed["body"])
    changed["body"] = json.dumps({**body, "amount": "90000.00"})
    response = deployed.invoke("ApplicationIntakeFunction", changed)

    # Then it is refused as a conflict, and the stored application keeps its first amount
    assert response["statusCode"] == 409
    assert json.loads(response["body"])["error"]["code"] == "idempotency_conflict"
    assert application(deployed)["amount"] == "120000.00"


def test_a_referred_application_waits_in_the_queue_until_an_underwriter_decides_it_once(deployed: Deployed) -> None:
    # Given an application the decision referred, and the workflow's referral step run with its task token
    deployed.invoke("ApplicationIntakeFunction", event("application_intake"))
    assessed(deployed, "ASSESSING", REFERRED_DECISION)
    referral = event("underwriter_referral")
    assert deployed.invoke("UnderwriterReferralFunction", referral) == {
        "application_id": APPLICATION_ID,
        "status": "UNDER_REVIEW",
    }
    stored = application(deployed)
    assert (stored["status"], stored["review_task_token"]) == ("UNDER_REVIEW", referral["task_token"])

    # When an underwriter reads the queue
    queue = deployed.invoke("ReviewsFunction", event("reviews_queue"))

    # Then the application is in it, with the decision's grade, score and reasons
    assert queue["statusCode"] == 200
    (item,) = json.loads(queue["body"])["reviews"]
    assert (item["application_id"], item["amount"], item["risk_grade"], item["score"]) == (
        APPLICATION_ID,
        "120000.00",
        "C",
        640,
    )
    assert item["reasons"] == [
        {"code": "model_short_trading_history", "message": REFERRED_DECISION["reasons"][0]["text"]}
    ]

    # When the underwriter approves it
    decided = deployed.invoke("ReviewsFunction", event("reviews_decision"))

    # Then the application is approved, the decision stored with who made it, and it has left the queue
    assert decided["statusCode"] == 200
    assert json.loads(decided["body"]) == {"application_id": APPLICATION_ID, "status": "APPROVED"}
    stored = application(deployed)
    assert stored["status"] == "APPROVED"
    assert (stored["underwriter"]["decision"], stored["underwriter"]["underwriter_id"]) == ("approve", UNDERWRITER)
    assert "review_queue" not in stored
    assert audit_kinds(deployed) == ["application_received", "referred_to_underwriter", "underwriter_decided"]
    assert json.loads(deployed.invoke("ReviewsFunction", event("reviews_queue"))["body"]) == {"reviews": []}

    # And a second decision on it is a conflict that changes nothing
    second = event("reviews_decision")
    second["body"] = json.dumps({"decision": "decline", "note": "second thoughts"})
    assert deployed.invoke("ReviewsFunction", second)["statusCode"] == 409
    assert application(deployed)["status"] == "APPROVED"


def test_a_borrower_cannot_read_the_underwriters_queue(deployed: Deployed) -> None:
    # Given the queue request with a borrower's token (no underwriters group)
    request = event("reviews_queue")
    claims = event("application_intake")["requestContext"]["authorizer"]["claims"]
    request["requestContext"]["authorizer"]["claims"] = claims

    # Then it is forbidden
    response = deployed.invoke("ReviewsFunction", request)
    assert response["statusCode"] == 403
    assert json.loads(response["body"])["error"]["code"] == "forbidden"
