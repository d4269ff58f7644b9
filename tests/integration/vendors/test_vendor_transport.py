"""How the clients turn a vendor's misbehaviour into the two errors the workflow tells apart."""

from __future__ import annotations

import logging
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from stand_in import StandIn

from infra.local.vendors import SandboxCreditBureau, SandboxVendors
from lending.adapters.vendors.bank_data import BankDataClient
from lending.adapters.vendors.bureau import CreditBureauClient
from lending.adapters.vendors.identity import IdentityVendorClient
from lending.adapters.vendors.payouts import PayoutClient
from lending.applicant import Applicant
from lending.errors import VendorRejected, VendorUnavailable
from lending.money import Money

APPLICANT = Applicant(
    name="Chen Jie", id_number="11010519491231002X", phone="+8613712340001", bank_account="6222020200001234"
)


@contextmanager
def refusing_port() -> Iterator[int]:
    """A loopback port that refuses connections for as long as the block runs: bound, never listening, so no other
    process can take it meanwhile (a port closed again could be)."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield int(held.getsockname()[1])


def test_a_refused_connection_is_unavailable() -> None:
    with refusing_port() as port, pytest.raises(VendorUnavailable) as unavailable:
        PayoutClient(f"http://127.0.0.1:{port}", timeout=30).pay("key-1", Money.of("1.00"), "6222020200005678", "app-1")

    assert unavailable.value.status is None
    assert unavailable.value.vendor == "payout_provider"


def test_a_vendor_slower_than_the_timeout_is_unavailable(stand_in: StandIn) -> None:
    # Given a vendor that answers nothing until the test is over
    stand_in.hold = True
    client = CreditBureauClient(stand_in.url, timeout=0.2)

    # When it is called, the client stops waiting on its own timeout (nothing else could end the call)
    with pytest.raises(VendorUnavailable) as unavailable:
        client.fetch_report(APPLICANT, "consent-1")

    # Then it is unavailable with no status, after one request (no retry inside the client), and never answered
    assert unavailable.value.status is None
    assert "TimeoutError" in str(unavailable.value)
    assert stand_in.next(timeout=120).path == "/v1/reports"  # the request did arrive (however late it was read)
    assert stand_in.received.empty()
    assert not stand_in.released.is_set()


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408, 429])
def test_server_errors_and_throttling_are_unavailable(stand_in: StandIn, status: int) -> None:
    stand_in.answer(status, {"error": {"code": "busy", "message": "later"}}, {"Retry-After": "3"})

    with pytest.raises(VendorUnavailable) as unavailable:
        CreditBureauClient(stand_in.url).fetch_report(APPLICANT, "consent-1")

    assert unavailable.value.status == status
    assert unavailable.value.retry_after == 3.0


@pytest.mark.parametrize(
    ("status", "body", "reason"),
    [
        (400, {"error": {"code": "bad_request", "message": "no"}}, "bad_request"),
        (403, {"error": {"code": "consent_revoked", "message": "no"}}, "consent_revoked"),
        (404, b"<html>not found</html>", "http_404"),
        (302, b"", "unexpected_redirect"),
    ],
)
def test_other_refusals_are_rejected_with_the_vendors_reason(
    stand_in: StandIn, status: int, body: object, reason: str
) -> None:
    stand_in.answer(status, body, {"Location": "http://127.0.0.1:1/elsewhere"} if status == 302 else None)

    with pytest.raises(VendorRejected) as rejected:
        CreditBureauClient(stand_in.url).fetch_report(APPLICANT, "consent-1")

    assert rejected.value.reason == reason
    assert rejected.value.status == status
    assert stand_in.received.qsize() == 1  # the redirect was not followed


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[1, 2]", {"report_id": "r-1"}, {"payout_id": "p", "status": "paid", "amount": 1.5}],
)
def test_an_unreadable_success_is_unavailable(stand_in: StandIn, body: object) -> None:
    # An answer we cannot read leaves the outcome unknown: retrying (with the same key) is the safe way to learn it.
    stand_in.answer(200, body)
    stand_in.answer(201, body)

    with pytest.raises(VendorUnavailable):
        CreditBureauClient(stand_in.url).fetch_report(APPLICANT, "consent-1")
    with pytest.raises(VendorUnavailable):
        PayoutClient(stand_in.url).pay("key-1", Money.of("1.50"), "6222020200005678", "app-1")


def test_a_configured_api_key_is_sent_and_required() -> None:
    bureau = SandboxCreditBureau(api_key="k-123")
    bureau.start()
    try:
        with pytest.raises(VendorRejected) as rejected:
            CreditBureauClient(bureau.url).fetch_report(APPLICANT, "consent-1")
        report = CreditBureauClient(bureau.url, api_key="k-123").fetch_report(APPLICANT, "consent-1")
    finally:
        bureau.stop()

    assert rejected.value.reason == "unauthorized"
    assert report.report_id


def test_base_urls_and_timeouts_are_checked_when_the_client_is_made() -> None:
    with pytest.raises(ValueError, match="base URL"):
        PayoutClient("payouts.example")
    with pytest.raises(ValueError, match="timeout"):
        PayoutClient("https://payouts.example", timeout=0)


def test_personal_data_is_never_logged_nor_in_reprs(
    vendors: SandboxVendors, stand_in: StandIn, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    # Given every client used once against the sandbox, with all loggers at DEBUG
    caplog.set_level(logging.DEBUG)
    account = "6222020200004321"
    applicant = Applicant(name="Zhao Lei", id_number="110105198001010016", phone="+8613755550001", bank_account=account)
    reference = f"app-{uuid.uuid4().hex[:12]}"
    IdentityVendorClient(vendors.urls.identity).request_check(reference, stand_in.url + "/hook", applicant)
    stand_in.next(timeout=120)
    CreditBureauClient(vendors.urls.credit_bureau).fetch_report(applicant, "consent-1")
    bank = BankDataClient(vendors.urls.bank_data)
    bank.fetch_statements(account, holder=applicant)
    bank.fetch_tax_filings(applicant)
    PayoutClient(vendors.urls.payouts).pay(f"k:{reference}", Money.of("10.00"), account, reference)
    # every vendor logs before it answers; the identity vendor's callback thread logs after, until it is over
    assert vendors.identity.settle(reference, timeout=120)

    # Then no log line, nothing on stdout or stderr, and no repr holds the ID number, phone, name or account
    captured = capfd.readouterr()
    logged = "\n".join(record.getMessage() + repr(record.__dict__) for record in caplog.records)
    everything = logged + captured.out + captured.err + repr(applicant) + repr(vendors.payouts.payouts(reference))
    for secret in (applicant.id_number, applicant.phone, applicant.name, account):
        assert secret not in everything
    assert reference in logged  # references are what the logs carry
