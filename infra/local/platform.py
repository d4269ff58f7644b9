"""The whole platform on one machine: the stack from template.yaml in moto, the API front, the sandbox vendors,
and the sandbox's users with real Cognito tokens. ``make run`` and the end-to-end tests both start this.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.local.api import ApiServer, LocalApi
from infra.local.control import ControlServer
from infra.local.runtime import InProcessRuntime
from infra.local.stack import DeployedStack, local_stack
from infra.local.template import ROOT
from infra.local.vendors import SandboxVendors

#: Deadlines are days in AWS; locally seconds, so every sandbox outcome shows within a minute.
LOCAL_DEADLINES = {"IdentityTimeoutSeconds": "20", "ReviewTimeoutSeconds": "45"}
SANDBOX_USERS = {
    "borrower": ("borrower@example.com", ()),
    "borrower2": ("borrower2@example.com", ()),
    "underwriter": ("underwriter@example.com", ("underwriters",)),
}
SANDBOX_PASSWORD = "Sandbox-Passw0rd!"  # local moto users only; never a real account


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

    def description(self) -> dict[str, Any]:
        """What ``.local/stack.json`` holds."""
        return {
            "api_url": self.api_url,
            "control_url": self.control_url,
            "tokens": self.tokens,
            "webhook_secrets": self.webhook_secrets,
            "user_pool_id": self.stack.user_pool_id,
            "user_pool_client_id": self.stack.user_pool_client_id,
            "state_machine_arn": self.stack.outputs.get("OriginationStateMachineArn"),
            "vendors": self.vendors.urls.as_parameters(),
            "left_out_locally": self.stack.left_out,
        }


def sign_in(stack: DeployedStack, name: str, email: str, groups: tuple[str, ...]) -> str:
    """Create a sandbox user in the template's user pool and return a real RS256 ID token for it."""
    import boto3

    cognito = boto3.client("cognito-idp", region_name=stack.region)
    cognito.admin_create_user(UserPoolId=stack.user_pool_id, Username=email, MessageAction="SUPPRESS")
    cognito.admin_set_user_password(
        UserPoolId=stack.user_pool_id, Username=email, Password=SANDBOX_PASSWORD, Permanent=True
    )
    for group in groups:
        cognito.admin_add_user_to_group(UserPoolId=stack.user_pool_id, Username=email, GroupName=group)
    result = cognito.initiate_auth(
        ClientId=stack.user_pool_client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": SANDBOX_PASSWORD},
    )
    token: str = result["AuthenticationResult"]["IdToken"]
    return token


@contextmanager
def running_platform(port: int = 3000, *, callback_delay: float = 0.2) -> Iterator[LocalPlatform]:
    """Start everything; stop everything on exit."""
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")  # no X-Ray daemon locally
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")  # no CloudWatch locally: keep stdout readable
    with ExitStack() as stack:
        vendors = stack.enter_context(SandboxVendors(callback_delay=callback_delay))
        api_url = f"http://127.0.0.1:{port}"
        parameters = {**vendors.urls.as_parameters(), **LOCAL_DEADLINES, "PublicApiBaseUrl": api_url}
        deployed, runtime = stack.enter_context(local_stack(parameters))
        server = ApiServer(LocalApi(deployed), port=port).start()
        stack.callback(server.stop)
        control = ControlServer(deployed).start()
        stack.callback(control.stop)
        secrets = {
            "identity": deployed.secret_values["IdentityWebhookSecret"],
            "payments": deployed.secret_values["PaymentsWebhookSecret"],
        }
        vendors.identity.secret = secrets["identity"]
        tokens = {name: sign_in(deployed, name, email, groups) for name, (email, groups) in SANDBOX_USERS.items()}
        yield LocalPlatform(server.url, deployed, runtime, vendors, tokens, secrets, control.url)


def write_description(platform: LocalPlatform, path: Path = ROOT / ".local" / "stack.json") -> Path:
    """Write ``.local/stack.json`` for clients and tools."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(platform.description(), indent=2))
    return path
