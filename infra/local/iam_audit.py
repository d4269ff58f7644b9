"""Check the AWS calls the local stack's functions made against their roles in template.yaml.

The runtime records each call a function's code makes (:class:`infra.local.runtime.AwsCall`);
:mod:`infra.local.aws_resources` turns it into the (action, resource) pairs AWS authorises it by, and
:mod:`infra.local.iam` decides each against the function's role as samtranslator expands it, with the template's
references resolved to what the local stack deployed. A pair the role does not allow is what AWS would answer
``AccessDenied`` to: the local stack installs an :class:`Authoriser` on its runtime, which refuses such a call as it
is made, and :func:`denials` weighs a run's calls after the fact.
"""

from __future__ import annotations

import base64
import copy
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from infra.local.aws_resources import Request, authorised_requests
from infra.local.iam import TemplateRoles, allowed, explicitly_denied, key_policy_allows, pseudo_parameters
from infra.local.runtime import AwsCall

if TYPE_CHECKING:  # the stack installs the authoriser: its module imports this one
    from infra.local.stack import DeployedStack

#: moto's account, in every ARN the local stack makes.
ACCOUNT = "123456789012"
#: moto's ciphertext blobs start with the id of the key that made them (moto 5.2, pinned).
_KEY_ID_LENGTH = 36


@dataclass(frozen=True, slots=True)
class Denial:
    """A call AWS would refuse: the function, the action and resource IAM checks, and the call it came from."""

    function: str
    action: str
    resource: str
    call: str
    #: Which policy lacks the grant: the role's ("identity-based") or the resource's own (a KMS key policy).
    policy: str = "identity-based"


def _arn(kind: str, physical: str, region: str) -> str | None:
    """``Fn::GetAtt X.Arn`` of a deployed resource, from its physical id (its ``Ref``)."""
    base = f"arn:aws:{{}}:{region}:{ACCOUNT}"
    if kind == "AWS::DynamoDB::Table":
        return f"{base.format('dynamodb')}:table/{physical}"
    if kind == "AWS::KMS::Key":
        return f"{base.format('kms')}:key/{physical}"
    if kind == "AWS::SQS::Queue":
        return f"{base.format('sqs')}:{physical.rstrip('/').rsplit('/', 1)[-1]}"
    if kind in ("AWS::Serverless::Function", "AWS::Lambda::Function"):
        return f"{base.format('lambda')}:function:{physical}"
    if kind == "AWS::Events::EventBus":
        return f"{base.format('events')}:event-bus/{physical}"
    if kind == "AWS::S3::Bucket":
        return f"arn:aws:s3:::{physical}"
    if physical.startswith("arn:"):
        return physical  # topics, state machines, secrets: their Ref is their ARN
    return None


def stack_names(stack: DeployedStack, template: Mapping[str, Any]) -> dict[str, str]:
    """What the template's ``Ref``s and ``Fn::GetAtt …Arn``s resolve to in the deployed local stack."""
    names = pseudo_parameters(stack.region, ACCOUNT)
    names.update(stack.parameters)
    resources = template["Resources"]
    physical_ids = {**_secrets(stack, template), **stack.physical_ids}
    for logical, given in physical_ids.items():
        kind = resources.get(logical, {}).get("Type", "")
        # moto's CloudFormation gives some resources (an event bus) no physical id: their Ref is their name
        physical = given or _declared_name(resources.get(logical, {}), names)
        names[logical] = physical
        arn = _arn(kind, physical, stack.region)
        if arn is not None:
            names[f"{logical}.Arn"] = arn
            # Names as GetAtt gives them: a state machine's, a topic's or a queue's last ARN segment.
            names[f"{logical}.Name"] = names[f"{logical}.TopicName"] = names[f"{logical}.QueueName"] = arn.rsplit(
                ":", 1
            )[-1].rsplit("/", 1)[-1]
    return names


def _declared_name(resource: Mapping[str, Any], names: Mapping[str, str]) -> str:
    """The resource's ``Name`` property, a literal or a ``!Sub`` of parameters and pseudo parameters."""
    name = resource.get("Properties", {}).get("Name", "")
    if isinstance(name, dict) and isinstance(name.get("Fn::Sub"), str):
        return re.sub(r"\$\{([\w:]+)\}", lambda m: names[m.group(1)], name["Fn::Sub"])
    return str(name)


def _decrypted_key(call: AwsCall, region: str) -> str:
    """The key a ``kms:Decrypt`` without ``KeyId`` used: the one the ciphertext names."""
    blob = call.params.get("CiphertextBlob", b"")
    raw = blob if isinstance(blob, bytes) else base64.b64decode(blob)
    return f"arn:aws:kms:{region}:{ACCOUNT}:key/{raw[:_KEY_ID_LENGTH].decode()}"


class Authoriser:
    """IAM's answer to each call, for the runtime to refuse what AWS would (``InProcessRuntime.authorise``)."""

    def __init__(self, stack: DeployedStack, template: Mapping[str, Any], roles: TemplateRoles | None = None) -> None:
        self.stack = stack
        self.roles = roles or TemplateRoles(template, stack_names(stack, template), parameters=stack.parameters)
        self.aliases = _aliases(stack)
        self.partition_keys = _partition_keys(stack, template)
        self.key_policies = {
            self.roles.names.lookup(f"{logical}.Arn"): self.roles.names.resolve(
                copy.deepcopy(r["Properties"]["KeyPolicy"])
            )
            for logical, r in template["Resources"].items()
            if r.get("Type") == "AWS::KMS::Key"
        }
        self._statements: dict[str, list[dict[str, Any]]] = {}

    def statements(self, principal: str) -> list[dict[str, Any]]:
        """The principal's role, as the template defines it and the deployed stack names its resources."""
        if principal not in self._statements:
            self._statements[principal] = self.roles.statements(principal)
        return self._statements[principal]

    def requests(self, call: AwsCall) -> list[Request]:
        """The (action, resource, condition keys) IAM weighs ``call`` by, aliases resolved to their keys."""
        region = self.stack.region
        found = []
        for action, named, context in authorised_requests(
            call.action, call.params, region=region, account=ACCOUNT, partition_keys=self.partition_keys
        ):
            if action == "kms:Decrypt" and "KeyId" not in call.params:
                named = _decrypted_key(call, region)  # noqa: PLW2901 (the ciphertext names the key)
            found.append((action, self.aliases.get(named, named), context))
        return found

    def refused(self, call: AwsCall) -> list[Denial]:
        """The pairs of ``call`` that its function's role, or the key policy of a template key, does not allow."""
        statements = self.statements(call.function)
        found = []
        for action, resource, context in self.requests(call):
            identity_allows = allowed(statements, action, resource, context)
            if resource in self.key_policies:
                if not key_policy_allows(
                    self.key_policies[resource],
                    role_arn=self._role_arn(call.function),
                    account=ACCOUNT,
                    action=action,
                    key_arn=resource,
                    identity_allows=identity_allows,
                    identity_denies=explicitly_denied(statements, action, resource, context),
                    context=context,
                ):
                    policy = "identity-based" if not identity_allows else "resource-based"
                    found.append(Denial(call.function, action, resource, call.action, policy))
            elif not identity_allows:
                found.append(Denial(call.function, action, resource, call.action))
        return found

    def _role_arn(self, principal: str) -> str:
        role_id = self.roles.role_id(principal)
        return f"arn:aws:iam::{ACCOUNT}:role/{self.stack.physical_ids.get(role_id) or role_id}"

    def __call__(self, call: AwsCall) -> str | None:
        """AWS's message for the first refused pair of ``call``, or None when the role allows all of it."""
        for denial in self.refused(call):
            role = f"arn:aws:sts::{ACCOUNT}:assumed-role/{self.roles.role_id(call.function)}/{call.function}"
            return (
                f"User: {role} is not authorized to perform: {denial.action} on resource: {denial.resource} "
                f"because no {denial.policy} policy allows the {denial.action} action"
            )
        return None


def denials(
    calls: Iterable[AwsCall], stack: DeployedStack, template: Mapping[str, Any], roles: TemplateRoles | None = None
) -> list[Denial]:
    """Every (function, action, resource) among ``calls`` that the function's role does not allow."""
    authoriser = Authoriser(stack, template, roles)
    found = {(d.function, d.action, d.resource): d for call in calls for d in authoriser.refused(call)}
    return sorted(found.values(), key=lambda d: (d.function, d.action, d.resource))


def _partition_keys(stack: DeployedStack, template: Mapping[str, Any]) -> dict[str, str]:
    """Each deployed table's partition key attribute, by table name (for ``dynamodb:LeadingKeys``)."""
    found = {}
    for logical, resource in template["Resources"].items():
        if resource.get("Type") == "AWS::DynamoDB::Table" and stack.physical_ids.get(logical):
            schema = resource.get("Properties", {}).get("KeySchema", [])
            found[stack.physical_ids[logical]] = next(k["AttributeName"] for k in schema if k["KeyType"] == "HASH")
    return found


def _aliases(stack: DeployedStack) -> dict[str, str]:
    """KMS alias ARNs to the key ARNs they name: IAM authorises a call through an alias on the key."""
    import boto3

    kms = boto3.client("kms", region_name=stack.region)
    found: dict[str, str] = {}
    for page in kms.get_paginator("list_aliases").paginate():
        for alias in page["Aliases"]:
            if "TargetKeyId" in alias:
                found[alias["AliasArn"]] = f"arn:aws:kms:{stack.region}:{ACCOUNT}:key/{alias['TargetKeyId']}"
    return found


def _secrets(stack: DeployedStack, template: Mapping[str, Any]) -> dict[str, str]:
    """The template's secrets by logical id to their ARNs (the local stack makes them through Secrets Manager's own
    API, so CloudFormation does not know them)."""
    import boto3

    by_name = {}
    for page in boto3.client("secretsmanager", region_name=stack.region).get_paginator("list_secrets").paginate():
        by_name.update({secret["Name"]: secret["ARN"] for secret in page["SecretList"]})
    found = {}
    for logical, resource in template["Resources"].items():
        if resource.get("Type") == "AWS::SecretsManager::Secret":
            name = resource.get("Properties", {}).get("Name")
            if isinstance(name, dict) and "Ref" in name:
                name = stack.parameters.get(name["Ref"])
            if name in by_name:
                found[logical] = by_name[name]
    return found
