"""Hardship relief handlers on their events: the borrower's request, the workflow's steps, the underwriter's
decision and the borrower's acceptance, each against the template's tables in moto."""

from __future__ import annotations

import copy
import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from handler_harness import Deployed, event, from_item, to_attribute

from lending.calendar import business_date
from lending.catalogue import Method, load_catalogue
from lending.money import Money
from lending.pricing import make_offer
from lending.servicing import schedule_record

BORROWER = "5b8f2c0e-7d1a-4a3e-9c61-2f0d8e4b7a19"  # the intake event's borrower
UNDERWRITER = "c2a9e7d4-1f3b-4e8a-b6d5-0a9f8e7d6c5b"  # the review event's underwriter
LOAN_ID = "loan_hardship_1"


def _booked(deployed: Deployed, opened_on: date) -> date:
    """A 6-month loan of 12,000.00 at 12% as booking writes it, opened on ``opened_on``."""
    offer = make_offer(
        load_catalogue(),
        "business_instalment",
        Money.of("12000.00"),
        6,
        Method.EQUAL_INSTALMENT,
        opened_on,
        Decimal("0.12"),
    )
    schedule = schedule_record(offer.schedule)
    record = {
        "loan_id": LOAN_ID,
        "application_id": "app_hardship_1",
        "borrower_id": BORROWER,
        "product": "business_instalment",
        "kind": "instalment",
        "opened_at": f"{opened_on.isoformat()}T02:00:00+00:00",
        "opened_on": opened_on.isoformat(),
        "annual_rate": "0.1200",
        "term_months": 6,
        "status": "ACTIVE",
        "principal": "12000.00",
        "method": "equal_instalment",
        "upfront_fee": str(offer.upfront_fee),
        "apr": "0.1400",
        "schedule": schedule,
        "next_due_on": schedule[0]["due_date"],
    }
    deployed.client("dynamodb").put_item(
        TableName=deployed.table("LoansTable"), Item={k: to_attribute(v) for k, v in record.items()}
    )
    return date.fromisoformat(schedule[0]["due_date"])


def _api(
    method: str,
    resource: str,
    path: str,
    parameters: dict[str, str],
    body: Any = None,
    *,
    key: str | None = None,
    sub: str = BORROWER,
    underwriter: bool = False,
    query: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An API Gateway proxy event for the route, from the review event's shape, with the caller's claims."""
    request = copy.deepcopy(event("reviews_decision"))
    request.update(resource=resource, path=path, httpMethod=method, pathParameters=parameters)
    request["queryStringParameters"] = query
    request["multiValueQueryStringParameters"] = None if query is None else {k: [v] for k, v in query.items()}
    request["requestContext"].update(resourcePath=resource, httpMethod=method)
    claims = request["requestContext"]["authorizer"]["claims"]
    claims["sub"] = sub
    if not underwriter:
        claims.pop("cognito:groups")
    request["body"] = None if body is None else json.dumps(body)
    for name, value in {"Idempotency-Key": key, "Accept-Language": "en"}.items():
        if value is not None:
            request["headers"][name] = value
            request["multiValueHeaders"][name] = [value]
    return request


def _ask(deployed: Deployed, key: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    asked = _api(
        "POST",
        "/v1/loans/{loan_id}/hardship",
        f"/v1/loans/{LOAN_ID}/hardship",
        {"loan_id": LOAN_ID},
        body or {"kind": "term_extension", "months": 3, "reason": "a large customer went bankrupt"},
        key=key,
    )
    response = deployed.invoke("HardshipFunction", asked)
    return response["statusCode"], json.loads(response["body"])


def _request(deployed: Deployed, request_id: str) -> dict[str, Any]:
    item = deployed.client("dynamodb").get_item(
        TableName=deployed.table("HardshipTable"), Key={"request_id": {"S": request_id}}
    )["Item"]
    return from_item(item)


def _route(deployed: Deployed, method: str, suffix: str, request_id: str, body: Any = None) -> tuple[int, Any]:
    resource = "/v1/loans/{loan_id}/hardship/{request_id}" + suffix
    path = f"/v1/loans/{LOAN_ID}/hardship/{request_id}{suffix}"
    response = deployed.invoke(
        "HardshipFunction",
        _api(method, resource, path, {"loan_id": LOAN_ID, "request_id": request_id}, body, key="k-accept"),
    )
    return response["statusCode"], json.loads(response["body"])


def test_a_request_goes_from_review_to_a_restructured_loan_and_frees_the_loan(deployed: Deployed) -> None:
    # Given a loan whose first instalment fell due some days ago, unpaid
    today = business_date()
    late = (today - _booked(deployed, today - timedelta(days=34))).days

    # When the borrower asks for a 3-month extension
    status, asked = _ask(deployed, "key-1")

    # Then it is under review, stored with the loan claimed by it, and its workflow started, named by it
    assert (status, asked["status"]) == (202, "UNDER_REVIEW")
    request_id = asked["request_id"]
    stored = _request(deployed, request_id)
    assert (stored["kind"], stored["months"], stored["requested_by"], stored["days_past_due"]) == (
        "term_extension",
        3,
        BORROWER,
        late,
    )
    assert stored["proposal"]["instalments"] == 5 + 3  # five not yet due, plus three
    assert _request(deployed, f"loan#{LOAN_ID}")["holder"] == request_id
    sfn = deployed.client("stepfunctions")
    executions = sfn.list_executions(stateMachineArn=deployed.refs["HardshipFlow"])["executions"]
    assert [e["name"] for e in executions] == [request_id]
    # And a second request on the loan is refused while this one is open; the same key answers the same
    assert _ask(deployed, "key-2")[1]["error"]["code"] == "hardship_in_progress"
    assert _ask(deployed, "key-1") == (202, asked)

    # When the workflow queues it and the borrower, then an underwriter, decide it
    deployed.invoke("HardshipReferralFunction", {"request_id": request_id, "task_token": "review-token"})
    queue = deployed.invoke(
        "ReviewsFunction",
        _api("GET", "/v1/reviews", "/v1/reviews", {}, underwriter=True, query={"kind": "hardship"}, sub=UNDERWRITER),
    )
    (item,) = json.loads(queue["body"])["reviews"]
    assert (item["request_id"], item["days_past_due"], item["proposal"]["principal"]) == (request_id, late, "12000.00")
    decision = {"decision": "approve", "note": "one-off"}
    own = deployed.invoke(
        "ReviewsFunction",
        _api(
            "POST",
            "/v1/reviews/{application_id}",
            f"/v1/reviews/{request_id}",
            {"application_id": request_id},
            decision,
            underwriter=True,
            sub=BORROWER,
        ),
    )
    # Then the requester may not decide their own request (maker-checker); another underwriter may, once
    assert (own["statusCode"], json.loads(own["body"])["error"]["code"]) == (403, "maker_checker_violation")
    decided = deployed.invoke(
        "ReviewsFunction",
        _api(
            "POST",
            "/v1/reviews/{application_id}",
            f"/v1/reviews/{request_id}",
            {"application_id": request_id},
            decision,
            underwriter=True,
            sub=UNDERWRITER,
        ),
    )
    assert decided["statusCode"] == 200, decided
    stored = _request(deployed, request_id)
    assert (stored["review"]["underwriter_id"], "review_queue" in stored) == (UNDERWRITER, False)

    # When the workflow offers the plan, the borrower reads its contract and accepts it
    offered = deployed.invoke(
        "HardshipOfferFunction", {"request_id": request_id, "task_token": "acceptance-token", "timeout_seconds": 3600}
    )
    assert offered["status"] == "APPROVED"
    status, contract = _route(deployed, "GET", "/contract", request_id)
    assert status == 200, contract
    assert Decimal(contract["apr"]) <= Decimal("0.24")
    assert len(contract["schedule"]) == 8
    status, mismatch = _route(deployed, "POST", "/acceptance", request_id, {"contract_sha256": "a" * 64})
    assert (status, mismatch["error"]["code"]) == (409, "contract_mismatch")
    status, accepted = _route(deployed, "POST", "/acceptance", request_id, {"contract_sha256": contract["sha256"]})
    assert status == 202, accepted

    # And the workflow restructures the loan (twice, as a retry would)
    for _ in range(2):
        outcome = deployed.invoke("HardshipOutcomeFunction", {"request_id": request_id, "outcome": "RESTRUCTURED"})
        assert outcome["status"] == "RESTRUCTURED"

    # Then the loan keeps the restructure once, its inputs and the class before it; the loan is free again
    loan = from_item(
        deployed.client("dynamodb").get_item(TableName=deployed.table("LoansTable"), Key={"loan_id": {"S": LOAN_ID}})[
            "Item"
        ]
    )
    assert loan["servicing"]["restructures"] == [
        {"request_id": request_id, "kind": "term_extension", "months": 3, "on": today.isoformat(), "class_before": None}
    ]
    assert loan["servicing"]["days_past_due"] == 0
    assert "holder" not in _request(deployed, f"loan#{LOAN_ID}")
    status, view = _route(deployed, "GET", "", request_id)
    assert (status, view["status"], view["restructured_on"]) == (200, "RESTRUCTURED", today.isoformat())
    assert _ask(deployed, "key-3")[0] == 202


def test_a_declined_or_expired_request_ends_with_its_reason(deployed: Deployed) -> None:
    _booked(deployed, business_date() - timedelta(days=10))
    _, asked = _ask(deployed, "key-d", {"kind": "payment_holiday", "months": 1, "reason": "flood"})
    request_id = asked["request_id"]
    ended = deployed.invoke(
        "HardshipOutcomeFunction",
        {
            "request_id": request_id,
            "outcome": "EXPIRED",
            "reason": "review_deadline_passed",
            "error": {"Error": "States.Timeout"},
        },
    )
    assert ended["status"] == "EXPIRED"
    status, view = _route(deployed, "GET", "", request_id)
    assert (view["status"], view["outcome_reason"]) == ("EXPIRED", "review_deadline_passed")
    status, contract = _route(deployed, "GET", "/contract", request_id)
    assert (status, contract["error"]["code"]) == (409, "not_awaiting_acceptance")
    # The loan is free for another request
    assert _ask(deployed, "key-e")[0] == 202
