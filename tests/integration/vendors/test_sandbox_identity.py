"""The sandbox identity vendor, called with the real client, calling back a stand-in of our webhook."""

from __future__ import annotations

import socket
import time
import uuid

import pytest
from stand_in import IDENTITY_SECRET, StandIn

from infra.local.vendors import SandboxVendors
from lending.adapters.vendors.identity import IdentityVendorClient
from lending.adapters.vendors.transport import VendorTransport
from lending.applicant import Applicant
from lending.errors import VendorRejected
from lending.identity import IdentityNotice, IdentityOutcome
from lending.webhooks import SIGNATURE_HEADER, verify

ID_NUMBER = "11010519491231002X"
#: A bound on waiting for something that does happen (a callback, a delivery thread ending): it only ends a test
#: that has already failed, so it is generous enough for any loaded machine.
WAIT = 120.0


def _applicant(phone_suffix: str, id_number: str = ID_NUMBER) -> Applicant:
    return Applicant(
        name="Wang Fang",
        id_number=id_number,
        phone=f"+86138{phone_suffix.rjust(8, '5')}",
        bank_account="6222020200005555",
    )


def _reference() -> str:
    return f"app-{uuid.uuid4().hex[:12]}"


def _deliveries(vendors: SandboxVendors, reference: str) -> list[int | None]:
    """Statuses of every delivery the vendor made for ``reference``, once its callbacks are over (delivered,
    refused or given up): none can follow, so the list is the whole story, however slow the machine."""
    assert vendors.identity.settle(reference, timeout=WAIT), f"the callbacks for {reference} are still going"
    return [delivery.status for delivery in vendors.identity.deliveries(reference)]


def _callback(stand_in: StandIn, timeout: float = WAIT) -> IdentityNotice:
    """The next callback, after checking its signature as our webhook does."""
    received = stand_in.next(timeout)
    assert received.method == "POST"
    assert received.path == "/v1/webhooks/identity"
    verify(received.headers.get(SIGNATURE_HEADER.lower()), received.body, [IDENTITY_SECRET], int(time.time()))
    return IdentityNotice.model_validate_json(received.body)


@pytest.mark.parametrize("phone_suffix", ["0001", "0002", "0003", "4321"])
def test_a_passing_applicant_is_called_back_signed_with_a_pass(
    vendors: SandboxVendors, stand_in: StandIn, phone_suffix: str
) -> None:
    # Given an applicant whose phone does not end in 0000 or 0009
    client = IdentityVendorClient(vendors.urls.identity, timeout=30)
    reference = _reference()

    # When we request a check
    check_id = client.request_check(reference, stand_in.url + "/v1/webhooks/identity", _applicant(phone_suffix))

    # Then the vendor calls back, signed with the shared secret, with a pass
    result = _callback(stand_in)
    assert check_id.startswith("chk_")
    assert result.reference == reference
    assert result.result is IdentityOutcome.PASSED
    assert result.face_match >= 0.9
    assert result.liveness is True
    assert _deliveries(vendors, reference) == [200]


def test_a_phone_ending_0000_fails_the_check(vendors: SandboxVendors, stand_in: StandIn) -> None:
    client = IdentityVendorClient(vendors.urls.identity)
    reference = _reference()

    client.request_check(reference, stand_in.url + "/v1/webhooks/identity", _applicant("0000"))

    result = _callback(stand_in)
    assert result.result is IdentityOutcome.FAILED
    assert result.face_match < 0.8
    assert result.liveness is False


def test_a_phone_ending_0009_is_never_called_back(vendors: SandboxVendors, stand_in: StandIn) -> None:
    client = IdentityVendorClient(vendors.urls.identity)
    reference = _reference()

    # When the check is accepted
    check_id = client.request_check(reference, stand_in.url + "/v1/webhooks/identity", _applicant("0009"))

    # Then no callback was scheduled for it, so nothing can ever arrive (no waiting needed to show it)
    assert check_id
    check = vendors.identity.check(reference)
    assert check is not None
    assert check.body is None
    assert vendors.identity.scheduled(reference) == 0
    assert _deliveries(vendors, reference) == []
    assert stand_in.received.empty()


def test_a_webhook_answering_5xx_gets_the_same_event_again(vendors: SandboxVendors, stand_in: StandIn) -> None:
    # Given our webhook fails once
    stand_in.answer(503, {"error": {"code": "unavailable", "message": "down"}})
    reference = _reference()

    IdentityVendorClient(vendors.urls.identity).request_check(
        reference, stand_in.url + "/v1/webhooks/identity", _applicant("7777")
    )

    # Then the vendor retries with the same event, freshly signed, and stops once acknowledged
    first, second = _callback(stand_in), _callback(stand_in)
    assert first.event_id == second.event_id
    assert _deliveries(vendors, reference) == [503, 200]


def test_a_webhook_refusing_with_4xx_is_not_retried(vendors: SandboxVendors, stand_in: StandIn) -> None:
    stand_in.answer(401, {"error": {"code": "invalid_signature", "message": "no"}})
    reference = _reference()

    IdentityVendorClient(vendors.urls.identity).request_check(
        reference, stand_in.url + "/v1/webhooks/identity", _applicant("7777")
    )

    _callback(stand_in)
    assert _deliveries(vendors, reference) == [401]


def test_an_unreachable_webhook_is_retried_then_given_up(vendors: SandboxVendors) -> None:
    # Given a callback URL on a port bound but never listening: it refuses every connection, and stays bound (so
    # no other process can take it) until the vendor's callbacks are over
    reference = _reference()
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        port = held.getsockname()[1]

        IdentityVendorClient(vendors.urls.identity).request_check(
            reference, f"http://127.0.0.1:{port}/v1/webhooks/identity", _applicant("7777")
        )

        # Then the vendor tries as often as configured (3 here), then stops
        assert _deliveries(vendors, reference) == [None, None, None]


def test_the_same_reference_is_the_same_check_and_the_same_event(vendors: SandboxVendors, stand_in: StandIn) -> None:
    client = IdentityVendorClient(vendors.urls.identity)
    reference = _reference()
    callback_url = stand_in.url + "/v1/webhooks/identity"

    # When a retried step asks again for the same applicant
    first_id = client.request_check(reference, callback_url, _applicant("7777"))
    first = _callback(stand_in)
    second_id = client.request_check(reference, callback_url, _applicant("7777"))
    second = _callback(stand_in)

    # Then it is the same check, and the result carries the same event id (our webhook applies it once)
    assert first_id == second_id
    assert first == second

    # And the same reference for another applicant is refused
    with pytest.raises(VendorRejected) as refused:
        client.request_check(reference, callback_url, _applicant("7777", id_number="110105198001010016"))
    assert refused.value.reason == "idempotency_conflict"
    assert refused.value.status == 409


def test_the_signing_secret_can_be_changed(vendors: SandboxVendors, stand_in: StandIn) -> None:
    # Given the stack sets the identity secret after the vendors started
    original = vendors.identity.secret
    vendors.identity.secret = "rotated-secret"
    try:
        IdentityVendorClient(vendors.urls.identity).request_check(
            _reference(), stand_in.url + "/v1/webhooks/identity", _applicant("7777")
        )
        received = stand_in.next(timeout=WAIT)
    finally:
        vendors.identity.secret = original

    # Then callbacks are signed with the new secret
    verify(received.headers[SIGNATURE_HEADER.lower()], received.body, [b"rotated-secret"], int(time.time()))


def test_an_invalid_check_request_is_rejected_with_the_fields_named(vendors: SandboxVendors) -> None:
    transport = VendorTransport("identity", vendors.urls.identity, timeout=30)

    with pytest.raises(VendorRejected) as refused:
        transport.send("POST", "/v1/checks", body={"reference": "app-1", "applicant": {"name": "x"}}, expect=(202,))

    assert refused.value.reason == "invalid_request"
    assert refused.value.status == 422
