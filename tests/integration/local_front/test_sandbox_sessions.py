"""The sandbox users' tokens stay valid for a whole ``make run`` session: renewed before they expire, on a clock the
test hands in (no waiting an hour), with the refresh token, or by signing in again when that is refused."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import boto3
import jwt
import pytest
from moto import mock_aws

from infra.local.platform import RENEW_BEFORE_SECONDS, SandboxSessions

REGION = "ap-east-1"


class _Clock:
    """Unix seconds that only the test moves."""

    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


class _Stop:
    """A Waiter that lets the renewal loop run ``rounds`` times, moving the clock to what it waits for each time."""

    def __init__(self, clock: _Clock, rounds: int) -> None:
        self.clock, self.rounds, self.waits = clock, rounds, []

    def wait(self, timeout: float | None = None) -> bool:
        self.waits.append(timeout)
        self.clock.now += timeout or 0
        self.rounds -= 1
        return self.rounds < 0


@pytest.fixture
def stack() -> Iterator[Any]:
    with mock_aws():
        cognito = boto3.client("cognito-idp", region_name=REGION)
        pool = cognito.create_user_pool(PoolName="sandbox")["UserPool"]["Id"]
        client = cognito.create_user_pool_client(
            UserPoolId=pool,
            ClientName="app",
            ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        )["UserPoolClient"]["ClientId"]
        cognito.create_group(UserPoolId=pool, GroupName="underwriters")
        yield SimpleNamespace(region=REGION, user_pool_id=pool, user_pool_client_id=client)


def _exp(token: str) -> float:
    return float(jwt.decode(token, options={"verify_signature": False})["exp"])


def test_a_token_is_renewed_before_it_expires_and_not_earlier(stack: Any) -> None:
    # Given a signed-in sandbox user, on a clock standing where the token was issued
    sessions = SandboxSessions(stack, clock=_Clock(0))
    first = sessions.add_user("borrower", "borrower@example.com")
    sessions.clock.now = _exp(first) - 3600  # type: ignore[attr-defined]
    # When less than an hour minus the margin has passed, nothing is due
    assert sessions.seconds_until_renewal() == pytest.approx(3600 - RENEW_BEFORE_SECONDS)
    sessions.clock.now = _exp(first) - RENEW_BEFORE_SECONDS - 1  # type: ignore[attr-defined]
    assert sessions.renew_due() == []
    assert sessions.tokens["borrower"] == first
    # Then within the margin the token is renewed: a different token, the one in the dict every client reads
    sessions.clock.now += 2  # type: ignore[attr-defined]
    assert sessions.renew_due() == ["borrower"]
    assert sessions.tokens["borrower"] != first
    assert jwt.decode(sessions.tokens["borrower"], options={"verify_signature": False})["token_use"] == "id"


def test_a_refused_refresh_token_signs_the_user_in_again(stack: Any) -> None:
    # Given a user whose refresh token the pool no longer accepts (revoked)
    sessions = SandboxSessions(stack, clock=_Clock(0))
    first = sessions.add_user("underwriter", "underwriter@example.com", ("underwriters",))
    sessions._refresh_tokens["underwriter"] = "revoked"
    sessions.clock.now = _exp(first)  # type: ignore[attr-defined]
    # When its token falls due
    assert sessions.renew_due() == ["underwriter"]
    # Then it was signed in again: a fresh token that still carries its group, and a working refresh token
    claims = jwt.decode(sessions.tokens["underwriter"], options={"verify_signature": False})
    assert sessions.tokens["underwriter"] != first
    assert claims["cognito:groups"] == ["underwriters"]
    assert sessions._refresh_tokens["underwriter"] != "revoked"


def test_the_renewal_loop_waits_for_each_due_time_and_reports_what_it_renewed(stack: Any) -> None:
    # Given two users and a loop allowed one round on the test's clock
    clock = _Clock(0)
    sessions = SandboxSessions(stack, clock=clock)
    token = sessions.add_user("borrower", "borrower@example.com")
    sessions.add_user("borrower2", "borrower2@example.com")
    clock.now = _exp(token) - 3600
    renewed: list[list[str]] = []
    stop = _Stop(clock, rounds=1)
    # When it runs until stopped
    sessions.keep_renewed(stop, renewed.append)
    # Then it slept until the first token was due, renewed both (issued in the same second), and said so
    assert stop.waits[0] == pytest.approx(3600 - RENEW_BEFORE_SECONDS, abs=1)
    assert renewed == [["borrower", "borrower2"]]
