"""An offer nobody accepts expires end to end: the workflow's own deadline on the acceptance state passes.

This module's platform has ``make run``'s acceptance deadline (seconds, a real Step Functions timeout) and the
template's other deadlines (days), so the one deadline that can pass is the one under test: the application is
approved however slow the machine, then waits, unaccepted, until its offer expires.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import pytest

from infra.local.platform import LOCAL_DEADLINES, LocalPlatform

if TYPE_CHECKING:
    from conftest import Client

TERMINAL = {"DISBURSED", "DECLINED", "FAILED", "EXPIRED", "LINE_OPENED"}
DEADLINE = "AcceptanceTimeoutSeconds"


@pytest.fixture(scope="module")
def deadlines() -> Mapping[str, str]:
    return {DEADLINE: LOCAL_DEADLINES[DEADLINE]}


def test_an_offer_not_accepted_by_its_deadline_expires_and_nothing_is_reserved(
    client: Client, platform: LocalPlatform
) -> None:
    # Given an approved application whose offer is open, and a contract the borrower read but did not accept
    application_id = client.apply("0001", key="never-accepted", amount="20000.00", term_months=6)
    client.wait_for(application_id, {"APPROVED"} | TERMINAL)
    opened = client.wait_until(
        lambda: client.call("GET", f"/v1/applications/{application_id}")[1],
        lambda seen: bool((seen.get("offer") or {}).get("expires_at")),
        "the offer to open",
    )
    assert opened["status"] == "APPROVED"
    contract = client.contract(application_id)

    # When the acceptance deadline passes (waited for: the deadline, then the usual bound)
    seconds = float(LOCAL_DEADLINES[DEADLINE]) + client.wait_seconds
    view = client.wait_for(application_id, TERMINAL, seconds=seconds, accept=False)

    # Then it expired with nothing reserved, paid or booked, and accepting now says so and changes nothing
    assert view["status"] == "EXPIRED"
    assert (view["loan_id"], view["accepted"]) == (None, None)
    assert platform.vendors.payouts.payouts(application_id) == []
    status, answer = client.accept(application_id, contract["sha256"])
    assert (status, answer["error"]["code"]) == (409, "offer_expired")
    status, answer = client.call("GET", f"/v1/applications/{application_id}/contract")
    assert (status, answer["error"]["code"]) == (409, "offer_expired")
    assert client.call("GET", f"/v1/applications/{application_id}")[1]["status"] == "EXPIRED"
