"""Origination end to end over HTTP against the local stack: every sandbox row reaches its documented status.

The platform here keeps the template's deadlines (days), so nothing races one: a referral waits for the test's
underwriter however slow the machine, and a silent identity vendor leaves its application waiting. The deadlines
passing is test_deadlines.py's.
"""

from __future__ import annotations

import json
import time
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from infra.local.iam_audit import denials
from infra.local.platform import LocalPlatform
from infra.local.template import load_template
from lending import clock
from lending.calendar import add_months
from lending.prc_id import check_character, make_id_number
from lending.webhooks import sign

if TYPE_CHECKING:
    from conftest import Client

TERMINAL = {"DISBURSED", "DECLINED", "FAILED", "EXPIRED", "LINE_OPENED"}


@pytest.fixture(scope="module")
def started(client: Client) -> dict[str, str]:
    """Every sandbox case applied for at once: they run side by side through one local runtime, as a busy
    stack's would."""
    return {
        "approved": client.apply("0001", key="approved"),
        "declined": client.apply("0002", key="declined"),
        "referred_approve": client.apply("0003", key="referred-1", amount="50000.00", term_months=24),
        "referred_decline": client.apply("0003", key="referred-2", amount="50000.00", term_months=24),
        "identity_failed": client.apply("0000", key="identity-failed"),
        "silent": client.apply("0009", key="silent"),
        "payout_rejected": client.apply("0001", "0000", key="payout-rejected"),
        "payout_flaky": client.apply("0001", "1111", key="payout-flaky"),
        "line": client.apply("0001", key="line", product="credit_line", term_months=12),
        "minor": client.apply(
            "0001", key="minor", applicant=_applicant(client, make_id_number("110101", _minor(), 12))
        ),
    }


def _minor() -> date:
    """A birth date sixteen years before today: younger than every product's 18, whenever the suite runs."""
    return add_months(clock.today(), -16 * 12)


def _applicant(client: Client, id_number: str) -> dict[str, Any]:
    return {**client.body("0001")["applicant"], "id_number": id_number}


def test_a_strong_profile_is_approved_and_paid_out(client: Client, started: dict[str, str]) -> None:
    view = client.wait_for(started["approved"], TERMINAL)
    assert view["status"] == "DISBURSED"
    assert view["decision"]["outcome"] == "approve"
    assert view["offer"]["limit"] == "120000.00"
    assert view["offer"]["apr"] >= view["offer"]["annual_rate"]
    assert view["loan_id"]


def test_a_weak_profile_is_declined_with_reasons(client: Client, started: dict[str, str]) -> None:
    view = client.wait_for(started["declined"], TERMINAL)
    assert view["status"] == "DECLINED"
    assert view["decision"]["outcome"] == "decline"
    assert view["decision"]["reasons"]
    assert view["loan_id"] is None


def test_a_failed_identity_check_is_declined(client: Client, started: dict[str, str]) -> None:
    view = client.wait_for(started["identity_failed"], TERMINAL)
    assert view["status"] == "DECLINED"
    assert view["decision"]["reasons"][0]["code"] == "identity_failed"


def test_an_applicant_under_18_is_declined_on_age_not_failed(client: Client, started: dict[str, str]) -> None:
    view = client.wait_for(started["minor"], TERMINAL)
    assert view["status"] == "DECLINED"
    assert [reason["code"] for reason in view["decision"]["reasons"]] == ["applicant_age_outside_range"]


def test_an_id_number_born_after_today_is_422_at_intake(client: Client) -> None:
    born = clock.today() + timedelta(days=1)
    body = f"110101{born:%Y%m%d}012"
    applicant = _applicant(client, body + check_character(body))
    status, answer = client.call(
        "POST", "/v1/applications", client.body("0001", applicant=applicant), headers={"Idempotency-Key": "unborn"}
    )
    assert status == 422, answer
    assert answer["error"]["code"] == "invalid_request"
    assert "id_number" in json.dumps(answer["error"])


def test_a_silent_identity_vendor_leaves_the_application_verifying(
    client: Client, started: dict[str, str], platform: LocalPlatform
) -> None:
    # Once the vendor has accepted the check, it has scheduled no callback for it: nothing will ever arrive
    application_id = started["silent"]
    identity = platform.vendors.identity
    check = client.wait_until(lambda: identity.check(application_id), bool, "the vendor to accept the check")
    assert check is not None
    assert check.body is None
    assert identity.scheduled(application_id) == 0
    # And the application waits for it, its deadline days away (the deadline passing is test_deadlines.py's)
    assert client.call("GET", f"/v1/applications/{application_id}")[1]["status"] == "VERIFYING_IDENTITY"


def test_an_approved_credit_line_opens_without_paying_out(
    client: Client, started: dict[str, str], platform: LocalPlatform
) -> None:
    view = client.wait_for(started["line"], TERMINAL)
    assert view["status"] == "LINE_OPENED"
    assert view["loan_id"]


def test_a_borderline_profile_waits_for_an_underwriter_who_approves_once(
    client: Client, started: dict[str, str]
) -> None:
    application_id = started["referred_approve"]
    assert client.wait_for(application_id, {"UNDER_REVIEW"} | TERMINAL)["status"] == "UNDER_REVIEW"
    # the borrower is not an underwriter
    assert client.call("GET", "/v1/reviews")[0] == 403
    status, queue = client.call("GET", "/v1/reviews", token="underwriter")
    assert status == 200
    assert application_id in [item["application_id"] for item in queue["reviews"]]
    assert (
        client.call(
            "POST", f"/v1/reviews/{application_id}", {"decision": "approve", "note": "ok"}, token="underwriter"
        )[0]
        == 200
    )
    assert client.call("POST", f"/v1/reviews/{application_id}", {"decision": "decline"}, token="underwriter")[0] == 409
    assert client.wait_for(application_id, TERMINAL)["status"] == "DISBURSED"


def test_an_underwriter_can_decline_a_referral(client: Client, started: dict[str, str]) -> None:
    application_id = started["referred_decline"]
    assert client.wait_for(application_id, {"UNDER_REVIEW"} | TERMINAL)["status"] == "UNDER_REVIEW"
    assert (
        client.call(
            "POST", f"/v1/reviews/{application_id}", {"decision": "decline", "note": "no"}, token="underwriter"
        )[0]
        == 200
    )
    assert client.wait_for(application_id, TERMINAL)["status"] == "DECLINED"


def test_a_rejected_payout_fails_releases_the_funding_and_books_nothing(
    client: Client, started: dict[str, str], platform: LocalPlatform
) -> None:
    view = client.wait_for(started["payout_rejected"], TERMINAL)
    assert view["status"] == "FAILED"
    assert view["loan_id"] is None
    assert not [p for p in platform.vendors.payouts.payouts() if p.reference == started["payout_rejected"]]


def test_transient_payout_errors_still_pay_exactly_once(
    client: Client, started: dict[str, str], platform: LocalPlatform
) -> None:
    view = client.wait_for(started["payout_flaky"], TERMINAL)
    assert view["status"] == "DISBURSED"
    paid = [p for p in platform.vendors.payouts.payouts() if p.reference == started["payout_flaky"]]
    assert len(paid) == 1


def test_a_repeated_idempotency_key_returns_the_first_answer_and_another_body_is_409(client: Client) -> None:
    body = client.body("0001")
    first = client.call("POST", "/v1/applications", body, headers={"Idempotency-Key": "same-key"})
    again = client.call("POST", "/v1/applications", body, headers={"Idempotency-Key": "same-key"})
    assert first[0] == again[0] == 202
    assert first[1] == again[1]
    changed = client.call(
        "POST", "/v1/applications", {**body, "amount": "100000.00"}, headers={"Idempotency-Key": "same-key"}
    )
    assert changed[0] == 409


def test_another_borrowers_application_is_not_found(client: Client, started: dict[str, str]) -> None:
    assert client.call("GET", f"/v1/applications/{started['approved']}", token="borrower2")[0] == 404


def test_no_token_or_a_tampered_token_is_401(client: Client, started: dict[str, str], platform: LocalPlatform) -> None:
    path = f"/v1/applications/{started['approved']}"
    assert client.call("GET", path, token=None)[0] == 401
    token = platform.tokens["borrower"]
    platform.tokens["tampered"] = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert client.call("GET", path, token="tampered")[0] == 401


def test_invalid_input_is_422_naming_the_fields(client: Client) -> None:
    body: dict[str, Any] = client.body("0001", amount="1.234")
    body["applicant"]["id_number"] = "110101198505050000"
    status, answer = client.call("POST", "/v1/applications", body, headers={"Idempotency-Key": "bad"})
    assert status == 422
    fields = {f["field"] for f in answer["error"]["fields"]}
    assert {"amount", "applicant.id_number"} <= fields
    assert "110101198505050000" not in json.dumps(answer)


@pytest.mark.parametrize("shift", [-1000, 1000, None])
def test_a_stale_future_or_forged_identity_webhook_is_401_and_changes_nothing(
    client: Client, started: dict[str, str], platform: LocalPlatform, shift: int | None
) -> None:
    application_id = started["silent"]
    body = json.dumps(
        {
            "event_id": f"forged-{shift}",
            "reference": application_id,
            "result": "passed",
            "face_match": 0.99,
            "liveness": True,
            "checked_at": "2026-11-28T00:00:00Z",
        }
    ).encode()
    secret = platform.webhook_secrets["identity"].encode() if shift is not None else b"not-the-secret"
    signature = sign(secret, body, int(time.time()) + (shift or 0))
    status, _ = client.call("POST", "/v1/webhooks/identity", body, token=None, headers={"X-Signature": signature})
    assert status == 401
    assert client.call("GET", f"/v1/applications/{application_id}")[1]["status"] == "VERIFYING_IDENTITY"


def test_the_booked_loan_shows_its_ledger_balances_and_schedule(client: Client, started: dict[str, str]) -> None:
    loan_id = client.wait_for(started["approved"], TERMINAL)["loan_id"]
    status, loan = client.call("GET", f"/v1/loans/{loan_id}")
    assert status == 200
    assert loan["principal_outstanding"] == "120000.00"
    assert len(loan["schedule"]) == 12
    assert sum(int(row["principal"].replace(".", "")) for row in loan["schedule"]) == 12_000_000
    assert client.call("GET", f"/v1/loans/{loan_id}", token="borrower2")[0] == 404


def test_the_audit_trail_is_verified_end_to_end(client: Client, started: dict[str, str]) -> None:
    loan_id = client.wait_for(started["approved"], TERMINAL)["loan_id"]
    status, audit = client.call("GET", f"/v1/loans/{loan_id}/audit")
    assert status == 200
    assert audit["verified"] is True
    assert audit["first_broken_at"] is None
    kinds = [event["kind"] for event in audit["events"]]
    assert kinds[0] == "application_received"
    assert {"identity_checked", "credit_scored", "decided", "paid_out", "loan_booked"} <= set(kinds)
    # the score came from the model the stack's CreditModelId parameter names
    (scored,) = [event for event in audit["events"] if event["kind"] == "credit_scored"]
    assert scored["data"]["model_id"] == load_template()["Parameters"]["CreditModelId"]["Default"]
    assert client.call("GET", f"/v1/loans/{loan_id}/audit", token="underwriter")[0] == 200
    assert client.call("GET", f"/v1/loans/{loan_id}/audit", token="operations")[0] == 200


def test_the_openapi_document_is_served_without_a_token(client: Client) -> None:
    status, document = client.call("GET", "/v1/openapi.json", token=None)
    assert status == 200
    assert "/v1/applications" in document["paths"]


def test_every_aws_call_a_function_makes_is_recorded_with_its_iam_action(
    client: Client, started: dict[str, str], platform: LocalPlatform
) -> None:
    # Given the applications above, decided and paid out
    client.wait_for(started["approved"], TERMINAL)
    actions: dict[str, set[str]] = {}
    for call in platform.runtime.calls:
        actions.setdefault(call.function, set()).add(call.action)
    # Then each function's calls are there by IAM action: the evidence its role is checked against (issue 12).
    # The decision decrypts the applicant's ID number (its age), so its role needs kms:Decrypt on the PII key.
    assert "kms:Decrypt" in actions["DecisionFunction"]
    assert "states:StartExecution" in actions["ApplicationIntakeFunction"]
    assert {"dynamodb:GetItem", "dynamodb:TransactWriteItems"} & actions["BookingFunction"]
    # The workflow's tasks invoke the steps as the state machine's own role.
    assert actions["OriginationStateMachine"] == {"lambda:InvokeFunction"}
    assert all(":" in action and action.split(":")[1][0].isupper() for names in actions.values() for action in names)


def test_no_function_made_a_call_its_role_in_the_template_does_not_allow(
    client: Client, started: dict[str, str], platform: LocalPlatform
) -> None:
    # Given every sandbox application above at its end
    for application_id in started.values():
        client.wait_for(application_id, TERMINAL | {"UNDER_REVIEW", "VERIFYING_IDENTITY"})
    # When each AWS call the functions made is weighed against its function's role, as AWS would weigh it
    refused = denials(platform.runtime.calls, platform.stack, load_template())
    # Then AWS would have refused none of them
    assert [f"{d.function}: {d.action} on {d.resource} (from {d.call})" for d in refused] == [], "\n".join(
        f"{d.function}: {d.action} on {d.resource} (from {d.call})" for d in refused
    )
