"""RepaymentStore against moto's DynamoDB, CollectionsTable built from template.yaml: a repayment is created once,
its status moves from PENDING once, a loan's list is one query per page, newest first, and reminders are once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from conftest import TABLES

from lending.adapters.repayments import RepaymentStore
from lending.money import Money


@pytest.fixture
def store(dynamodb: Any) -> RepaymentStore:
    definition = TABLES["CollectionsTable"]
    if definition["TableName"] in dynamodb.list_tables()["TableNames"]:
        dynamodb.delete_table(TableName=definition["TableName"])
    dynamodb.create_table(**definition)
    return RepaymentStore(definition["TableName"], dynamodb)


def _repayment(n: int, loan_id: str = "L-1", **changes: Any) -> dict[str, Any]:
    return {
        "repayment_id": f"rp-{n}",
        "loan_id": loan_id,
        "source": "app",
        "amount": "100.00",
        "status": "PENDING",
        "requested_at": f"2026-02-10T02:00:{n:02d}.000000Z",
        **changes,
    }


def test_a_repayment_is_created_once(store: RepaymentStore) -> None:
    created, fresh = store.create(_repayment(1))
    again, second = store.create(_repayment(1, amount="999.00"))
    assert (fresh, second) == (True, False)
    assert again["amount"] == created["amount"] == "100.00"
    assert store.get("rp-1") == {**_repayment(1)}
    assert store.get("rp-none") is None


def test_a_status_moves_from_pending_once(store: RepaymentStore) -> None:
    store.create(_repayment(1))
    assert store.update("rp-1", {"status": "FAILED", "failure_reason": "insufficient_funds"}, when_status="PENDING")
    assert not store.update("rp-1", {"status": "SUCCEEDED", "failure_reason": None}, when_status="PENDING")
    kept = store.get("rp-1")
    assert kept is not None
    assert (kept["status"], kept["failure_reason"]) == ("FAILED", "insufficient_funds")


def test_a_loans_list_is_newest_first_page_by_page(store: RepaymentStore, dynamodb: Any) -> None:
    for n in range(5):
        store.create(_repayment(n))
    store.create(_repayment(9, loan_id="L-2"))
    store.claim_reminder("reminder/L-1/due_soon/2026-02-10", {"loan_id": "L-1"}, datetime.now(UTC))  # never listed
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        items, after = store.page("L-1", 2, after)
        seen += [item["repayment_id"] for item in items]
        pages += 1
        if after is None:
            break
    assert seen == ["rp-4", "rp-3", "rp-2", "rp-1", "rp-0"]
    assert pages == 3  # the last page says so: no empty page after it


def test_a_position_on_another_loans_list_is_refused(store: RepaymentStore) -> None:
    store.create(_repayment(9, loan_id="L-2"))
    with pytest.raises(ValueError, match="another list"):
        store.page("L-1", 2, {"id": "rp-9", "loan_id": "L-2", "requested_at": "x"})


def test_a_reminder_is_sent_once_and_a_claim_never_sent_is_claimed_again_once_its_lease_ran_out(
    store: RepaymentStore,
) -> None:
    reminder, now = "reminder/L-1/due_today/2026-02-10", datetime(2026, 2, 10, 1, tzinfo=UTC)
    assert store.claim_reminder(reminder, {"loan_id": "L-1"}, now)
    # A second run at once (a schedule delivered twice) finds it claimed: never two sends
    assert not store.claim_reminder(reminder, {"loan_id": "L-1"}, now + timedelta(minutes=1))
    # Claimed, never marked sent (a crash in between): the next run after the lease sends it
    assert store.claim_reminder(reminder, {"loan_id": "L-1"}, now + timedelta(minutes=16))
    store.reminder_sent(reminder)
    assert not store.claim_reminder(reminder, {"loan_id": "L-1"}, now + timedelta(days=1))


def test_what_is_being_collected_is_the_loans_pending_repayments(store: RepaymentStore) -> None:
    for n in range(3):
        store.create(_repayment(n))
    store.create(_repayment(9, loan_id="L-2"))
    store.update("rp-0", {"status": "SUCCEEDED"}, when_status="PENDING")
    each = Money.of(str(_repayment(1)["amount"]))
    assert store.pending("L-1") == each + each
