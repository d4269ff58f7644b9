"""The nightly reconciliation and the operations API on their events, against moto holding the template's tables:
a loan booked through the workflow's steps, the books reconciled and kept, then read as operations read them."""

from __future__ import annotations

import json
from typing import Any

from handler_harness import Deployed, event
from test_money_handlers import APPLICATION_ID, LOAN_ID, booked, payouts  # noqa: F401 (fixtures)

from lending import clock


def _scheduled_for(day: str) -> dict[str, Any]:
    return {**event("reconciliation"), "close_date": day}


def _ops(deployed: Deployed, path: str, query: dict[str, str] | None = None, **claims: str) -> tuple[int, Any]:
    request = event("ops_funding")
    resource = "/v1/ops/loans/{loan_id}" if path.startswith("/v1/ops/loans/") else path
    request.update(resource=resource, path=path, queryStringParameters=query)
    request["multiValueQueryStringParameters"] = None if query is None else {k: [v] for k, v in query.items()}
    request["pathParameters"] = {"loan_id": path.rsplit("/", 1)[1]} if "{loan_id}" in resource else None
    request["requestContext"]["resourcePath"] = resource
    request["requestContext"]["authorizer"]["claims"].update(claims)
    answer = deployed.invoke("OpsApiFunction", request)
    return answer["statusCode"], json.loads(answer["body"])


def _kept(deployed: Deployed) -> list[dict[str, Any]]:
    return deployed.client("dynamodb").scan(TableName=deployed.table("ReconciliationTable"))["Items"]


def test_the_night_reconciles_the_books_keeps_the_report_once_and_operations_read_it(
    deployed: Deployed,
    booked: dict[str, Any],  # noqa: F811
) -> None:
    # Given a loan booked today / When the nightly reconciliation runs for today, twice (at-least-once delivery)
    today = clock.today().isoformat()
    summary = deployed.invoke("ReconciliationFunction", _scheduled_for(today))
    first = _kept(deployed)
    again = deployed.invoke("ReconciliationFunction", _scheduled_for(today))

    # Then the books balance, and one report is kept for the day, rewritten with the same content
    assert summary == again
    assert summary == {
        "close_date": today,
        "balanced": True,
        "loan_problems": 0,
        "sources_unbalanced": 0,
        "accounts_differing": 0,
    }
    assert _kept(deployed) == first
    assert len(first) == 1

    # And operations read that day's report, and the latest, the same
    status, report = _ops(deployed, "/v1/ops/reconciliation", {"date": today})
    assert status == 200, report
    assert (report["close_date"], report["balanced"]) == (today, True)
    assert _ops(deployed, "/v1/ops/reconciliation") == (200, report)
    assert sum(float(line["outstanding"]) for line in report["sources"]) == 120000.0

    # And the funding shows the sources lent the loan's principal, and the book's shares as of that report
    status, funding = _ops(deployed, "/v1/ops/funding")
    assert status == 200, funding
    assert funding["book_as_of"] == today
    assert funding["principal_outstanding"] == "120000.00"
    lent = {s["source"]: s["posted"] for s in funding["sources"] if s["posted"] != "0.00"}
    shares = booked["funding"]["shares"]
    assert lent == {source: str(amount) for source, amount in shares.items()}


def test_a_loan_as_operations_see_it_is_masked_and_a_borrower_is_refused(
    deployed: Deployed,
    booked: dict[str, Any],  # noqa: F811
) -> None:
    status, loan = _ops(deployed, f"/v1/ops/loans/{LOAN_ID}")
    assert status == 200, loan
    assert (loan["loan_id"], loan["application_id"]) == (LOAN_ID, APPLICATION_ID)
    intake = json.loads(event("application_intake")["body"])["applicant"]
    for field in ("name", "id_number", "phone", "bank_account"):
        assert intake[field] not in json.dumps(loan, ensure_ascii=False), field
    assert loan["borrower"]["phone"].count("****") == 1

    # A borrower's token (no operations group) is refused on every route
    for path in ("/v1/ops/funding", "/v1/ops/reconciliation", f"/v1/ops/loans/{LOAN_ID}"):
        status, answer = _ops(deployed, path, **{"cognito:groups": "[]"})
        assert (status, answer["error"]["code"]) == (403, "forbidden"), path


def test_bad_input_is_422_naming_the_field_and_a_missing_report_404(deployed: Deployed) -> None:
    status, answer = _ops(deployed, "/v1/ops/reconciliation", {"date": "2026-02-30"})
    assert status == 422
    assert [f["field"] for f in answer["error"]["fields"]] == ["query.date"]
    status, answer = _ops(deployed, "/v1/ops/reconciliation", {"date": "2026-02-28"})
    assert (status, answer["error"]["code"]) == (404, "report_not_found")
    status, answer = _ops(deployed, "/v1/ops/funding", {"limit": "5"})
    assert [f["field"] for f in answer["error"]["fields"]] == ["query.limit"]
