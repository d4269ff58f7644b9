"""The whole platform on one machine: the stack from template.yaml in moto, the API front, the sandbox vendors,
and the sandbox's users with real Cognito tokens. ``make run`` and the end-to-end tests both start this.

Cognito's ID tokens (moto's too) last an hour; a ``make run`` session lasts longer. :class:`SandboxSessions`
renews each sandbox user's token with its refresh token before it expires, as an app does, and
``.local/stack.json`` is rewritten (atomically) with the new tokens, so a client that re-reads it keeps working.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import jwt

from infra.local.api import ApiServer, LocalApi, cors_from_template, web_origin_policy
from infra.local.control import ControlServer
from infra.local.runtime import InProcessRuntime
from infra.local.stack import DeployedStack, local_stack
from infra.local.template import ROOT, load_template
from infra.local.vendors import SandboxVendors

#: Deadlines are days in AWS; in ``make run`` seconds, so every sandbox outcome shows within a minute. (The
#: end-to-end tests keep AWS's days wherever a deadline must not pass, and these seconds where one must.)
LOCAL_DEADLINES = {"IdentityTimeoutSeconds": "20", "ReviewTimeoutSeconds": "45", "AcceptanceTimeoutSeconds": "45"}
#: Each user's groups; a user whose group the template's pool does not have is left out (and so is its token).
SANDBOX_USERS = {
    "borrower": ("borrower@example.com", ()),
    "borrower2": ("borrower2@example.com", ()),
    "underwriter": ("underwriter@example.com", ("underwriters",)),
    "operations": ("operations@example.com", ("operations",)),
    # A second operator: maker-checker (a write-off asked by one is confirmed by another).
    "operations2": ("operations2@example.com", ("operations",)),
}
SANDBOX_PASSWORD = "Sandbox-Passw0rd!"  # local moto users only; never a real account
#: The local web app (its dev server). The template's Api has no ``Cors`` setting, so this origin (and its loopback
#: twin, localhost for 127.0.0.1) is the only one whose browser pages the front answers.
DEFAULT_WEB_URL = "http://127.0.0.1:5173"
#: A token is renewed this long before its ``exp``, so that a client reading stack.json never holds a dead one.
RENEW_BEFORE_SECONDS = 600
#: After a failed renewal (the stack busy, moto refusing), the next try.
RETRY_SECONDS = 30.0

log = logging.getLogger(__name__)


class Waiter(Protocol):
    """What the renewal loop sleeps on: ``threading.Event`` (``wait`` answers True once it should stop)."""

    def wait(self, timeout: float | None = None) -> bool: ...


class SandboxSessions:
    """The sandbox users signed in to the template's user pool, each ID token kept valid for the whole session.

    A token is renewed ``renew_before`` seconds before it expires with the user's refresh token
    (``REFRESH_TOKEN_AUTH``, which the template's app client allows, as Cognito's refresh tokens last 30 days),
    or by signing in again if the refresh token is refused. ``tokens`` is the one dict of current tokens, updated in
    place. ``clock`` gives Unix seconds (tests hand in their own).
    """

    def __init__(
        self,
        stack: DeployedStack,
        *,
        clock: Callable[[], float] = time.time,
        renew_before: float = RENEW_BEFORE_SECONDS,
    ) -> None:
        self.stack = stack
        self.clock = clock
        self.renew_before = renew_before
        self.tokens: dict[str, str] = {}
        self.expires_at: dict[str, float] = {}  # name -> the token's exp
        self._usernames: dict[str, str] = {}
        self._refresh_tokens: dict[str, str] = {}
        self._client: Any = None
        self._lock = threading.Lock()

    def cognito(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client("cognito-idp", region_name=self.stack.region)
        return self._client

    def pool_groups(self) -> set[str]:
        groups = self.cognito().list_groups(UserPoolId=self.stack.user_pool_id).get("Groups", [])
        return {group["GroupName"] for group in groups}

    def add_user(self, name: str, email: str, groups: tuple[str, ...] = ()) -> str:
        """Create a sandbox user in the template's user pool and sign it in: a real RS256 ID token."""
        cognito = self.cognito()
        cognito.admin_create_user(UserPoolId=self.stack.user_pool_id, Username=email, MessageAction="SUPPRESS")
        cognito.admin_set_user_password(
            UserPoolId=self.stack.user_pool_id, Username=email, Password=SANDBOX_PASSWORD, Permanent=True
        )
        for group in groups:
            cognito.admin_add_user_to_group(UserPoolId=self.stack.user_pool_id, Username=email, GroupName=group)
        with self._lock:
            self._usernames[name] = email
            self._sign_in(name)
        return self.tokens[name]

    def seconds_until_renewal(self) -> float:
        """How long until the next token is due (0: now)."""
        with self._lock:
            if not self.expires_at:
                return float(RENEW_BEFORE_SECONDS)
            return max(0.0, min(self.expires_at.values()) - self.renew_before - self.clock())

    def renew_due(self) -> list[str]:
        """Renew every token that expires within ``renew_before``; the names renewed."""
        with self._lock:
            now = self.clock()
            due = sorted(name for name, exp in self.expires_at.items() if exp - self.renew_before <= now)
            for name in due:
                self._renew(name)
            return due

    def keep_renewed(self, stop: Waiter, on_renewed: Callable[[list[str]], None] = lambda _: None) -> None:
        """Renew tokens as they fall due until ``stop`` is set; after each renewal call ``on_renewed``."""
        while not stop.wait(max(self.seconds_until_renewal(), 1.0)):
            try:
                renewed = self.renew_due()
                if renewed:
                    on_renewed(renewed)
            except Exception as exc:  # keep the session going: the old tokens still have renew_before to live
                log.error("sandbox tokens: renewal failed (%s: %s); trying again", type(exc).__name__, exc)
                if stop.wait(RETRY_SECONDS):
                    return

    def _renew(self, name: str) -> None:
        from botocore.exceptions import ClientError

        refresh_token = self._refresh_tokens.get(name)
        if refresh_token is not None:
            try:
                result = self.cognito().initiate_auth(
                    ClientId=self.stack.user_pool_client_id,
                    AuthFlow="REFRESH_TOKEN_AUTH",
                    AuthParameters={"REFRESH_TOKEN": refresh_token},
                )
                self._store(name, result["AuthenticationResult"])
                return
            except ClientError:
                self._refresh_tokens.pop(name, None)  # refused (revoked, expired): sign in again
        self._sign_in(name)

    def _sign_in(self, name: str) -> None:
        result = self.cognito().initiate_auth(
            ClientId=self.stack.user_pool_client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": self._usernames[name], "PASSWORD": SANDBOX_PASSWORD},
        )
        self._store(name, result["AuthenticationResult"])

    def _store(self, name: str, result: dict[str, Any]) -> None:
        token: str = result["IdToken"]
        claims = jwt.decode(token, options={"verify_signature": False})  # our own pool's token: we read its exp
        self.tokens[name] = token
        self.expires_at[name] = float(claims["exp"])
        if result.get("RefreshToken"):
            self._refresh_tokens[name] = result["RefreshToken"]


@dataclass
class LocalPlatform:
    """Handles to everything running locally."""

    api_url: str
    stack: DeployedStack
    runtime: InProcessRuntime
    vendors: SandboxVendors
    tokens: dict[str, str]
    webhook_secrets: dict[str, str]
    control_url: str = ""
    web_url: str = ""
    sessions: SandboxSessions | None = None
    #: Every stack.json written for this platform: rewritten when the tokens are renewed.
    descriptions: list[Path] = field(default_factory=list)

    def description(self) -> dict[str, Any]:
        """What ``.local/stack.json`` holds."""
        return {
            "api_url": self.api_url,
            "web_url": self.web_url,
            "control_url": self.control_url,
            "tokens": dict(self.tokens),
            "webhook_secrets": self.webhook_secrets,
            "user_pool_id": self.stack.user_pool_id,
            "user_pool_client_id": self.stack.user_pool_client_id,
            "state_machine_arn": self.stack.outputs.get("OriginationStateMachineArn"),
            "vendors": self.vendors.urls.as_parameters(),
            "left_out_locally": self.stack.left_out,
        }

    def rewrite_descriptions(self, _renewed: list[str] | None = None) -> None:
        """Write every stack.json of this platform again (after a renewal), skipping folders since removed."""
        for path in list(self.descriptions):
            if path.parent.is_dir():
                write_description(self, path)


def sign_in_sandbox_users(sessions: SandboxSessions) -> dict[str, str]:
    """Every sandbox user whose groups the pool has, signed in; their tokens (``sessions.tokens``)."""
    groups = sessions.pool_groups()
    for name, (email, wanted) in SANDBOX_USERS.items():
        if set(wanted) <= groups:
            sessions.add_user(name, email, wanted)
    return sessions.tokens


@contextmanager
def running_platform(
    port: int = 3000,
    *,
    callback_delay: float = 0.2,
    web_url: str = DEFAULT_WEB_URL,
    deadlines: Mapping[str, str] = LOCAL_DEADLINES,
) -> Iterator[LocalPlatform]:
    """Start everything; stop everything on exit.

    ``port`` 0 puts the API on a free port (``LocalPlatform.api_url`` says which). ``deadlines`` are the template's
    deadline Parameters (``IdentityTimeoutSeconds``, ``ReviewTimeoutSeconds``); one left out keeps the template's
    default, days as in AWS.
    """
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")  # no X-Ray daemon locally
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")  # no CloudWatch locally: keep stdout readable
    with ExitStack() as stack:
        vendors = stack.enter_context(SandboxVendors(callback_delay=callback_delay))
        # The API's socket is bound before the stack is deployed, because the stack is told the API's URL (where
        # vendors call back): a port picked, released and bound again later could be taken in between.
        server = ApiServer(port=port)
        stack.callback(server.stop)  # closes the bound socket if the deploy fails (stopping twice is harmless)
        parameters = {**vendors.urls.as_parameters(), **deadlines, "PublicApiBaseUrl": server.url}
        deployed, runtime = stack.enter_context(local_stack(parameters))
        secrets = {
            "identity": deployed.secret_values["IdentityWebhookSecret"],
            "payments": deployed.secret_values["PaymentsWebhookSecret"],
        }
        vendors.identity.secret = secrets["identity"]  # before anything is served: no callback signed otherwise
        vendors.collections.secret = secrets["payments"]
        cors = cors_from_template(load_template()) or web_origin_policy(web_url)
        server.serve(LocalApi(deployed, cors=cors))
        stack.callback(server.stop)  # the front stops before moto does: no request reaches a stack that is gone
        control = ControlServer(deployed).start()
        stack.callback(control.stop)
        sessions = SandboxSessions(deployed)
        tokens = sign_in_sandbox_users(sessions)
        platform = LocalPlatform(
            server.url, deployed, runtime, vendors, tokens, secrets, control.url, web_url, sessions
        )
        stop = threading.Event()
        renewal = threading.Thread(
            target=sessions.keep_renewed, args=(stop, platform.rewrite_descriptions), name="token-renewal", daemon=True
        )
        renewal.start()
        stack.callback(renewal.join, 5)
        stack.callback(stop.set)  # callbacks run last first: stop, then join, before moto goes away
        yield platform


_writing = threading.Lock()


def write_description(platform: LocalPlatform, path: Path = ROOT / ".local" / "stack.json") -> Path:
    """Write ``.local/stack.json`` for clients and tools: atomically (a reader sees the old file or the new one,
    never half of one), readable by this user only (it holds tokens and webhook secrets), and again whenever the
    tokens are renewed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with _writing:
        text = json.dumps(platform.description(), indent=2)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                file.write(text)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        if path not in platform.descriptions:
            platform.descriptions.append(path)
    return path
