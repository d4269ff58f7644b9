"""A deadline passing end to end: an application whose identity vendor never calls back expires.

This module's platform has ``make run``'s deadlines (seconds, real Step Functions timeouts) and nothing in it has
to beat one: its only application is the silent vendor's, so however slow the machine, the one thing that can
happen is the deadline passing. (A referral left unreviewed expires the same way, but one would first have to pass
identity inside these seconds: a race, so it is not tested here.)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import pytest

from infra.local.platform import LOCAL_DEADLINES, LocalPlatform

if TYPE_CHECKING:
    from conftest import Client

TERMINAL = {"DISBURSED", "DECLINED", "FAILED", "EXPIRED", "LINE_OPENED"}


@pytest.fixture(scope="module")
def deadlines() -> Mapping[str, str]:
    return LOCAL_DEADLINES


@pytest.fixture(scope="module")
def silent(client: Client) -> str:
    return client.apply("0009", key="silent")


def test_a_silent_identity_vendor_expires_the_application(client: Client, platform: LocalPlatform, silent: str) -> None:
    # Given an application whose vendor accepted the check and scheduled no callback
    identity = platform.vendors.identity
    check = client.wait_until(lambda: identity.check(silent), bool, "the vendor to accept the check")
    assert check is not None
    assert check.body is None
    assert identity.scheduled(silent) == 0
    # When the identity deadline passes, then it expires (waited for: the deadline, then the usual bound)
    deadline = float(LOCAL_DEADLINES["IdentityTimeoutSeconds"])
    view = client.wait_for(silent, TERMINAL, seconds=deadline + client.wait_seconds)
    assert view["status"] == "EXPIRED"
    assert view["loan_id"] is None
