"""Repaying from the app and by auto-debit, over HTTP against the local platform: the sandbox collection provider
decides by the bound account (``3333`` always fails, ``4444`` fails the first collection of each due amount), its
signed notice settles each repayment, the test clock runs the auto-debit job after each nightly close, and reminders
reach the notifications topic. Settlement is asynchronous: every wait is for the state the notice leaves."""

from __future__ import annotations

import json
import time
import urllib.request
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from infra.local.platform import LocalPlatform
from lending.webhooks import SIGNATURE_HEADER, sign

if TYPE_CHECKING:
    from conftest import Client

#: What a reminder may say: never a name, a phone or an account.
REMINDER_FIELDS = {"reminder_id", "loan_id", "kind", "due_date", "amount_due", "days_past_due"}


def _control(platform: LocalPlatform, path: str, body: Any = None) -> Any:
    request = urllib.request.Request(
        platform.control_url + path,
        method="GET" if body is None else "POST",
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    # A clock advance runs every nightly job for each day passed: the bound is for a control port that never answers.
    with urllib.request.urlopen(request, timeout=600) as response:
        return json.loads(response.read())


def _loan(client: Client, loan_id: str) -> dict[str, Any]:
    status, view = client.call("GET", f"/v1/loans/{loan_id}")
    assert status == 200, view
    return dict(view)


def _repayments(client: Client, loan_id: str, **query: Any) -> dict[str, Any]:
    suffix = "?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else ""
    status, page = client.call("GET", f"/v1/loans/{loan_id}/repayments{suffix}")
    assert status == 200, page
    return dict(page)


def _repay(client: Client, loan_id: str, amount: str, key: str) -> tuple[int, Any]:
    return client.call("POST", f"/v1/loans/{loan_id}/repayments", {"amount": amount}, headers={"Idempotency-Key": key})


def _settled(client: Client, loan_id: str, repayment_id: str) -> dict[str, Any]:
    """The repayment once the provider's notice has settled it."""

    def read() -> dict[str, Any] | None:
        return next(
            (r for r in _repayments(client, loan_id, limit=100)["items"] if r["repayment_id"] == repayment_id), None
        )

    found = client.wait_until(read, lambda r: r is not None and r["status"] != "PENDING", f"{repayment_id} settled")
    assert found is not None
    return found


def _opened(client: Client, account: str, key: str) -> str:
    view = client.open("0001", account, key=key, amount="60000.00", term_months=12)
    assert view["status"] == "DISBURSED", view
    return str(view["loan_id"])


@pytest.fixture(scope="module")
def collected(client: Client) -> str:
    return _opened(client, "5678", "collections-ordinary")


@pytest.fixture(scope="module")
def insufficient(client: Client) -> str:
    return _opened(client, "3333", "collections-insufficient")


@pytest.fixture(scope="module")
def first_fails(client: Client) -> str:
    return _opened(client, "4444", "collections-first-fails")


@pytest.fixture(scope="module")
def reminders(platform: LocalPlatform) -> Any:
    """A queue subscribed to the notifications topic, as a messaging service would be (moto's SNS and SQS)."""
    import boto3

    region = platform.stack.region
    topic = platform.stack.physical_ids["BorrowerNotificationsTopic"]
    sqs = boto3.client("sqs", region_name=region)
    queue_url = sqs.create_queue(QueueName="collections-e2e-reminders")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    boto3.client("sns", region_name=region).subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    received: list[dict[str, Any]] = []

    def drain() -> list[dict[str, Any]]:
        while True:
            messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                return received
            for message in messages:
                envelope = json.loads(message["Body"])
                received.append(json.loads(envelope["Message"]))
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])

    return drain


def test_an_app_repayment_is_collected_and_applied_once(client: Client, collected: str) -> None:
    # Given a loan paid out today
    before = _loan(client, collected)

    # When the borrower repays 1,000.00 from the app (and the phone sends it twice)
    status, accepted = _repay(client, collected, "1000.00", "app-ordinary-1")
    again = _repay(client, collected, "1000.00", "app-ordinary-1")

    # Then it is one pending repayment, collected and applied once
    assert status == 202, accepted
    assert accepted["status"] == "PENDING"
    assert again == (202, accepted)
    settled = _settled(client, collected, accepted["repayment_id"])
    assert (settled["status"], settled["source"], settled["amount"]) == ("SUCCEEDED", "app", "1000.00")
    assert settled["failure_reason"] is None
    after = _loan(client, collected)
    principal_paid = Decimal(before["principal_outstanding"]) - Decimal(after["principal_outstanding"])
    assert principal_paid == Decimal("1000.00")  # on the payout day all of it is principal
    collections = client.platform.vendors.collections.collections(collected)
    assert [c.repayment_id for c in collections] == [accepted["repayment_id"]]


def test_the_same_key_with_another_amount_is_refused(client: Client, collected: str) -> None:
    status, answer = _repay(client, collected, "999.00", "app-ordinary-1")
    assert status == 409, answer
    assert answer["error"]["code"] == "idempotency_conflict"


def test_an_account_without_funds_fails_with_its_reason_and_nothing_is_applied(
    client: Client, insufficient: str
) -> None:
    before = _loan(client, insufficient)
    status, accepted = _repay(client, insufficient, "1000.00", "app-insufficient-1")
    assert status == 202, accepted
    settled = _settled(client, insufficient, accepted["repayment_id"])
    assert (settled["status"], settled["failure_reason"]) == ("FAILED", "insufficient_funds")
    after = _loan(client, insufficient)
    assert (after["principal_outstanding"], after["credit_balance"]) == (
        before["principal_outstanding"],
        before["credit_balance"],
    )


def test_the_first_collection_of_an_amount_fails_and_tapping_again_succeeds(client: Client, first_fails: str) -> None:
    status, first = _repay(client, first_fails, "500.00", "app-first-fails-1")
    assert status == 202, first
    assert _settled(client, first_fails, first["repayment_id"])["status"] == "FAILED"
    status, second = _repay(client, first_fails, "500.00", "app-first-fails-2")
    assert status == 202, second
    assert _settled(client, first_fails, second["repayment_id"])["status"] == "SUCCEEDED"
    assert _loan(client, first_fails)["principal_outstanding"] == "59500.00"


def test_above_the_payoff_is_refused_and_nothing_is_collected(client: Client, insufficient: str) -> None:
    payoff = Decimal(_loan(client, insufficient)["payoff_amount"])
    asked = len(client.platform.vendors.collections.collections(insufficient))
    status, answer = _repay(client, insufficient, str(payoff + Decimal("0.01")), "app-too-much")
    assert status == 409, answer
    assert answer["error"]["code"] == "exceeds_payoff"
    assert len(client.platform.vendors.collections.collections(insufficient)) == asked
    # And the key is free again: the same key with an amount within the payoff is taken
    status, answer = _repay(client, insufficient, "10.00", "app-too-much")
    assert status == 202, answer


def test_a_foreign_or_unknown_loan_is_not_found(client: Client, collected: str) -> None:
    status, answer = client.call(
        "POST",
        f"/v1/loans/{collected}/repayments",
        {"amount": "10.00"},
        token="borrower2",
        headers={"Idempotency-Key": "foreign"},
    )
    assert status == 404, answer
    assert _repay(client, "no-such-loan", "10.00", "unknown")[0] == 404
    assert client.call("GET", f"/v1/loans/{collected}/repayments", token="borrower2")[0] == 404


def test_a_notice_for_a_repayment_never_asked_for_is_parked(client: Client, collected: str) -> None:
    before = _loan(client, collected)
    moment = _control(client.platform, "/clock")["now"]
    body = json.dumps(
        {
            "event_id": "collections-unknown-1",
            "loan_id": collected,
            "amount": "100.00",
            "paid_at": moment,
            "kind": "repayment",
            "repayment_id": "rp-never-asked-for",
            "status": "succeeded",
        }
    ).encode()
    key = client.platform.webhook_secrets["payments"].encode()
    status, receipt = client.call(
        "POST", "/v1/webhooks/payments", body, token=None, headers={SIGNATURE_HEADER: sign(key, body, int(time.time()))}
    )
    assert (status, receipt["status"]) == (200, "parked"), receipt
    assert _loan(client, collected)["principal_outstanding"] == before["principal_outstanding"]
    # And a collection's notice without its outcome is refused, naming the field
    half = json.loads(body)
    del half["status"]
    raw = json.dumps({**half, "event_id": "collections-unknown-2"}).encode()
    status, refused = client.call(
        "POST", "/v1/webhooks/payments", raw, token=None, headers={SIGNATURE_HEADER: sign(key, raw, int(time.time()))}
    )
    assert status == 422, refused


def test_the_list_shows_every_source_newest_first(client: Client, collected: str) -> None:
    # Given a payment the provider pushed (no collection asked for)
    moment = _control(client.platform, "/clock")["now"]
    body = json.dumps(
        {
            "event_id": "collections-pushed-1",
            "loan_id": collected,
            "amount": "200.00",
            "paid_at": moment,
            "kind": "repayment",
        }
    ).encode()
    key = client.platform.webhook_secrets["payments"].encode()
    status, receipt = client.call(
        "POST", "/v1/webhooks/payments", body, token=None, headers={SIGNATURE_HEADER: sign(key, body, int(time.time()))}
    )
    assert (status, receipt["status"]) == (200, "applied"), receipt
    # When the borrower lists the loan's repayments, a page of one at a time
    first = _repayments(client, collected, limit=1)
    second = _repayments(client, collected, limit=1, cursor=first["next"])
    # Then the pushed payment comes first (newest), the app repayment after it
    assert [r["source"] for r in first["items"] + second["items"]] == ["provider", "app"]
    assert first["items"][0]["status"] == "SUCCEEDED"
    assert second["next"] is None
    # And a cursor this list did not give is refused
    status, answer = client.call("GET", f"/v1/loans/{collected}/repayments?cursor=bm90LWEtY3Vyc29y")
    assert status == 422, answer


def test_auto_debit_fails_first_then_the_retry_day_collects_once(
    client: Client, platform: LocalPlatform, first_fails: str, insufficient: str, reminders: Any
) -> None:
    # Given the loan's first due date, three days ahead of it
    due = date.fromisoformat(_loan(client, first_fails)["next_due_date"])
    _control(platform, "/clock", {"advance_to": (due - timedelta(days=3)).isoformat()})
    client.wait_until(
        reminders,
        lambda seen: any(m["loan_id"] == first_fails and m["kind"] == "due_soon" for m in seen),
        "the reminder three days ahead",
    )

    # When the due date's job runs (after the nightly close)
    _control(platform, "/clock", {"advance_to": due.isoformat()})

    # Then its collection fails (account 4444: the first of this due amount)
    def auto_debits() -> list[dict[str, Any]]:
        return [r for r in _repayments(client, first_fails, limit=100)["items"] if r["source"] == "auto_debit"]

    [first] = client.wait_until(
        auto_debits, lambda seen: len(seen) == 1 and seen[0]["status"] != "PENDING", "attempt 0"
    )
    assert (first["status"], first["failure_reason"], first["attempt"]) == ("FAILED", "insufficient_funds", 0)
    assert first["due_date"] == due.isoformat()

    def tried() -> list[dict[str, Any]]:
        return [r for r in _repayments(client, insufficient, limit=100)["items"] if r["source"] == "auto_debit"]

    client.wait_until(tried, lambda seen: len(seen) == 1 and seen[0]["status"] == "FAILED", "their attempt 0 failed")

    # When the first retry day's job runs
    _control(platform, "/clock", {"advance_to": (due + timedelta(days=1)).isoformat()})
    seen = client.wait_until(
        auto_debits, lambda seen: len(seen) == 2 and seen[0]["status"] != "PENDING", "attempt 1 settled"
    )
    # Then it collects what is due, and the instalment is paid
    assert (seen[0]["status"], seen[0]["attempt"], seen[0]["due_date"]) == ("SUCCEEDED", 1, due.isoformat())
    loan = _loan(client, first_fails)
    assert loan["schedule"][0]["paid"] is True
    assert loan["days_past_due"] == 0

    # And the later retry days collect nothing more from it, while the account without funds is tried on each
    for retry, attempt in ((3, 2), (7, 3)):
        client.wait_until(tried, lambda seen: all(r["status"] == "FAILED" for r in seen), "earlier attempts settled")
        _control(platform, "/clock", {"advance_to": (due + timedelta(days=retry)).isoformat()})
        assert max(r["attempt"] for r in tried()) == attempt
    asked = [c for c in platform.vendors.collections.collections(first_fails) if c.reference.endswith(due.isoformat())]
    assert [c.succeeded for c in asked] == [False, True]
    assert len(auto_debits()) == 2
    failed = client.wait_until(tried, lambda seen: all(r["status"] == "FAILED" for r in seen), "every attempt settled")
    assert sorted(r["attempt"] for r in failed) == [0, 1, 2, 3]
    assert {r["failure_reason"] for r in failed} == {"insufficient_funds"}

    # And the borrower without funds was reminded ahead, on the due date and on each overdue milestone, once each
    sent = reminders()
    theirs = sorted((m["kind"], m["days_past_due"]) for m in sent if m["loan_id"] == insufficient)
    assert theirs == [("due_soon", 0), ("due_today", 0), ("overdue", 1), ("overdue", 7)]
    assert all(set(m) == REMINDER_FIELDS for m in sent)
    assert len({m["reminder_id"] for m in sent}) == len(sent)
