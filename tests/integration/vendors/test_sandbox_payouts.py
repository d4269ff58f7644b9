"""The sandbox payout provider, called with the real client: exactly one payout per key, whatever happens."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from infra.local.vendors import SandboxVendors
from lending.adapters.vendors.payouts import Payout, PayoutClient, PayoutStatus
from lending.errors import PayoutRejected, PayoutUnavailable, VendorRejected, VendorUnavailable
from lending.money import Money

AMOUNT = Money.of("120000.00")


def _reference() -> str:
    return f"app-{uuid.uuid4().hex[:12]}"


def _listed(vendors: SandboxVendors, reference: str) -> list[dict[str, object]]:
    """The sandbox-only inspection endpoint."""
    query = urllib.parse.urlencode({"reference": reference})
    with urllib.request.urlopen(f"{vendors.urls.payouts}/v1/payouts?{query}", timeout=30) as response:
        return list(json.load(response)["payouts"])


def test_an_ordinary_account_is_paid_once_however_often_the_key_is_sent(vendors: SandboxVendors) -> None:
    client = PayoutClient(vendors.urls.payouts, timeout=30)
    reference = _reference()
    key = f"disburse:{reference}"

    # When the same payout is sent three times with one key
    payouts = [client.pay(key, AMOUNT, "6222020200005678", reference) for _ in range(3)]

    # Then every answer is the same payout, and exactly one was made
    assert {payout.payout_id for payout in payouts} == {payouts[0].payout_id}
    assert payouts[0].status is PayoutStatus.PAID
    assert payouts[0].amount == AMOUNT
    assert payouts[0].reference == reference
    assert [made.payout_id for made in vendors.payouts.payouts(reference)] == [payouts[0].payout_id]
    listed = _listed(vendors, reference)
    assert len(listed) == 1
    assert listed[0]["amount"] == "120000.00"
    assert listed[0]["bank_account_last4"] == "5678"
    assert listed[0]["idempotency_key"] == key


def test_an_account_ending_0000_is_rejected_and_nothing_is_paid(vendors: SandboxVendors) -> None:
    client = PayoutClient(vendors.urls.payouts)
    reference = _reference()

    with pytest.raises(VendorRejected) as rejected:
        client.pay(f"disburse:{reference}", AMOUNT, "6222020200000000", reference)

    assert rejected.value.reason == "account_rejected"
    assert rejected.value.status == 422
    assert vendors.payouts.payouts(reference) == []
    assert _listed(vendors, reference) == []


def test_the_client_raises_the_payouts_own_errors_the_workflow_names(vendors: SandboxVendors) -> None:
    # The state machines Retry on PayoutUnavailable and Catch PayoutRejected: the class names are the error names.
    client = PayoutClient(vendors.urls.payouts)
    reference = _reference()
    with pytest.raises(PayoutRejected) as rejected:
        client.pay(f"disburse:{reference}", AMOUNT, "6222020200000000", reference)
    assert (rejected.value.code, rejected.value.reason, rejected.value.vendor) == (
        "payout_rejected",
        "account_rejected",
        "payout_provider",
    )
    with pytest.raises(PayoutUnavailable) as unavailable:
        client.pay(f"disburse:{reference}-2", AMOUNT, "6222020200001111", f"{reference}-2")
    assert (unavailable.value.code, unavailable.value.status) == ("payout_unavailable", 503)


def test_an_account_ending_1111_fails_twice_then_pays_exactly_once(vendors: SandboxVendors) -> None:
    client = PayoutClient(vendors.urls.payouts)
    reference = _reference()
    key = f"disburse:{reference}"

    # When the workflow retries on each transient failure with the same key
    for _ in range(2):
        with pytest.raises(VendorUnavailable) as unavailable:
            client.pay(key, AMOUNT, "6222020200001111", reference)
        assert unavailable.value.status == 503
        assert unavailable.value.retry_after == 0
    paid = client.pay(key, AMOUNT, "6222020200001111", reference)
    replays = [client.pay(key, AMOUNT, "6222020200001111", reference) for _ in range(3)]

    # Then the third attempt paid, later ones replay it, and one payout exists
    assert paid.status is PayoutStatus.PAID
    assert {replay.payout_id for replay in replays} == {paid.payout_id}
    assert vendors.payouts.attempts(key) == 3
    assert len(vendors.payouts.payouts(reference)) == 1
    assert len(_listed(vendors, reference)) == 1


def test_each_new_key_on_a_1111_account_fails_twice_on_its_own(vendors: SandboxVendors) -> None:
    client = PayoutClient(vendors.urls.payouts)
    reference = _reference()

    for key in (f"a:{reference}", f"b:{reference}"):
        for _ in range(2):
            with pytest.raises(VendorUnavailable):
                client.pay(key, AMOUNT, "6222020200001111", reference)
        client.pay(key, AMOUNT, "6222020200001111", reference)

    assert len(vendors.payouts.payouts(reference)) == 2


def test_the_same_key_with_another_amount_is_a_conflict(vendors: SandboxVendors) -> None:
    client = PayoutClient(vendors.urls.payouts)
    reference = _reference()
    key = f"disburse:{reference}"
    client.pay(key, AMOUNT, "6222020200005678", reference)

    with pytest.raises(VendorRejected) as conflict:
        client.pay(key, Money.of("120000.01"), "6222020200005678", reference)

    assert conflict.value.reason == "idempotency_conflict"
    assert conflict.value.status == 409
    assert len(vendors.payouts.payouts(reference)) == 1


def test_concurrent_requests_with_one_key_make_one_payout(vendors: SandboxVendors) -> None:
    client = PayoutClient(vendors.urls.payouts)
    reference = _reference()
    key = f"disburse:{reference}"

    with ThreadPoolExecutor(max_workers=8) as pool:
        results: list[Payout] = list(
            pool.map(lambda _: client.pay(key, AMOUNT, "6222020200005678", reference), range(8))
        )

    assert len({payout.payout_id for payout in results}) == 1
    assert len(vendors.payouts.payouts(reference)) == 1


def test_the_client_refuses_what_it_must_never_send(vendors: SandboxVendors) -> None:
    client = PayoutClient(vendors.urls.payouts)

    with pytest.raises(ValueError, match="idempotency key"):
        client.pay("", AMOUNT, "6222020200005678", "app-1")
    with pytest.raises(ValueError, match="idempotency key"):
        client.pay("k" * 256, AMOUNT, "6222020200005678", "app-1")
    with pytest.raises(ValueError, match="positive"):
        client.pay("key-1", Money.ZERO, "6222020200005678", "app-1")
    with pytest.raises(ValueError, match="digits"):
        client.pay("key-1", AMOUNT, "6222-0202", "app-1")
