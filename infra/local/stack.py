"""template.yaml deployed into moto: the local stack.

The template is made into what moto's CloudFormation can create by :mod:`infra.local.translation` (which says each
adjustment and why); this module deploys it:

- code: every ``CodeUri``/``ContentUri`` folder is zipped into moto's S3 first (samtranslator wants S3 URIs).
- created through their own moto API before the stack, because moto's CloudFormation skips them:
  ``AWS::Cognito::UserPool``, ``UserPoolClient``, ``UserPoolGroup``, ``AWS::SecretsManager::Secret``. References to
  them are replaced by the physical values.
- the stack itself through moto's CloudFormation, then each state machine through the Step Functions API (moto's
  executing backend) with the definition and role the stack resolved.
- S3 buckets: moto's CloudFormation creates a bucket with its encryption and tags only, so what else the template
  declares of it is applied through the S3 API once the stack exists: versioning, ownership controls, the public
  access block, and Object Lock with its default retention (moto accepts it on a new, versioned bucket). Bucket
  policies are left out (:data:`infra.local.translation.LEFT_OUT` says why).
- moto started with the local stack's four hooks (:mod:`infra.local.hooks`) and IAM weighed on every call
  (:mod:`infra.local.iam_audit`).
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import secrets
import zipfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.local.hooks import item_level_rollback, serialised_dynamodb
from infra.local.iam_audit import Authoriser
from infra.local.runtime import InProcessRuntime
from infra.local.template import (
    FUNCTION,
    LAYER,
    ROOT,
    ApiRoute,
    FunctionSpec,
    api_routes,
    functions,
    load_template,
    parameter_defaults,
    state_machines,
)
from infra.local.translation import MACHINE_OUTPUT, cloudformation, leave_out

REGION = "ap-east-1"  # Hong Kong: the nearest region with every service the template uses (Cognito included)
ACCOUNT_ID = "123456789012"
CODE_BUCKET = "lending-local-code"
STACK_NAME = "lending-local"

CREATED_BY_API = ("AWS::Cognito::UserPool", "AWS::Cognito::UserPoolClient", "AWS::Cognito::UserPoolGroup")
SECRET = "AWS::SecretsManager::Secret"


@dataclass
class DeployedStack:
    """What the local stack made: physical ids, outputs, the user pool, secrets and the routes to serve."""

    region: str
    physical_ids: dict[str, str]
    outputs: dict[str, str]
    parameters: dict[str, str]
    functions: dict[str, FunctionSpec]
    routes: list[ApiRoute]
    user_pool_id: str = ""
    user_pool_client_id: str = ""
    secret_values: dict[str, str] = field(default_factory=dict)  # logical id → value
    left_out: dict[str, str] = field(default_factory=dict)  # logical id → why


class _Resolver:
    """Resolves the few intrinsics the API-created resources use: Ref, Fn::Sub, Fn::GetAtt on known values."""

    def __init__(self, parameters: dict[str, str], region: str) -> None:
        self.values: dict[str, str] = {
            **parameters,
            "AWS::Region": region,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::StackName": STACK_NAME,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }
        self.attributes: dict[tuple[str, str], str] = {}

    def resolve(self, value: Any) -> Any:
        if isinstance(value, dict) and len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref" and argument in self.values:
                return self.values[argument]
            if key == "Fn::GetAtt":
                name, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
                if (name, attribute) in self.attributes:
                    return self.attributes[(name, attribute)]
            if key == "Fn::Sub" and isinstance(argument, str):
                return self._substitute(argument)
        if isinstance(value, dict):
            return {k: self.resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        return value

    def _substitute(self, text: str) -> Any:
        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if "." in name:
                resource, attribute = name.split(".", 1)
                return self.attributes.get((resource, attribute), match.group(0))
            return self.values.get(name, match.group(0))

        substituted = re.sub(r"\$\{([\w:.]+)\}", replace, text)
        return substituted if "${" not in substituted else {"Fn::Sub": substituted}

    def known(self, name: str) -> bool:
        return name in self.values


def _zip_folder(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                archive.write(path, path.relative_to(folder).as_posix())
    return buffer.getvalue()


class LocalDeployer:
    """Deploys the template into an active moto mock; see the module docstring for every adjustment."""

    def __init__(self, root: Path = ROOT, parameters: dict[str, str] | None = None, region: str = REGION) -> None:
        self.root = root
        self.region = region
        self.template = load_template(root / "template.yaml")
        self.parameters = {**parameter_defaults(self.template), **(parameters or {})}

    def deploy(self, runtime: InProcessRuntime) -> DeployedStack:
        import boto3

        s3 = boto3.client("s3", region_name=self.region)
        s3.create_bucket(Bucket=CODE_BUCKET, CreateBucketConfiguration={"LocationConstraint": self.region})
        template = json.loads(json.dumps(self.template))  # a copy we may change
        machines = state_machines(template, self.root)
        specs = functions(template, self.root)
        self._package_code(s3, template)
        resolver = _Resolver(self.parameters, self.region)
        stack = DeployedStack(self.region, {}, {}, dict(self.parameters), specs, api_routes(template))
        self._create_by_api(template, resolver, stack)

        cfn = cloudformation(template, self.parameters, machines, f"{STACK_NAME}-api")
        stack.left_out.update(leave_out(cfn))
        cfn = resolver.resolve(cfn)

        client = boto3.client("cloudformation", region_name=self.region)
        client.create_stack(
            StackName=STACK_NAME,
            TemplateBody=json.dumps(cfn),
            Parameters=[
                {"ParameterKey": k, "ParameterValue": v}
                for k, v in self.parameters.items()
                if k in cfn.get("Parameters", {})
            ],
            Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
        )
        description = client.describe_stacks(StackName=STACK_NAME)["Stacks"][0]
        if description["StackStatus"] != "CREATE_COMPLETE":
            raise RuntimeError(f"local stack: {description['StackStatus']} {description.get('StackStatusReason')}")
        summaries = client.list_stack_resources(StackName=STACK_NAME)["StackResourceSummaries"]
        stack.physical_ids.update({s["LogicalResourceId"]: s["PhysicalResourceId"] for s in summaries})
        stack.outputs = {o["OutputKey"]: o["OutputValue"] for o in description.get("Outputs", [])}
        self._configure_buckets(template, resolver, stack)
        kinds = {logical: cfn["Resources"][logical]["Properties"].get("StateMachineType") for logical in machines}
        self._create_state_machines({logical: kind or "STANDARD" for logical, kind in kinds.items()}, stack)
        runtime.bind({logical: stack.physical_ids[logical] for logical in specs if logical in stack.physical_ids})
        runtime.bind_state_machines({stack.physical_ids[logical]: logical for logical in machines})
        return stack

    def _create_state_machines(self, machines: dict[str, str], stack: DeployedStack) -> None:
        """Each state machine, through the Step Functions API (moto's executing backend), named as in the stack."""
        import boto3

        stepfunctions = boto3.client("stepfunctions", region_name=self.region)
        for logical_id, machine_type in machines.items():
            arn = stack.physical_ids[logical_id]
            stepfunctions.create_state_machine(
                name=arn.rsplit(":", 1)[1],
                definition=stack.outputs.pop(MACHINE_OUTPUT.format(logical_id, "Definition")),
                roleArn=stack.outputs.pop(MACHINE_OUTPUT.format(logical_id, "Role")),
                type=machine_type,
            )

    def _configure_buckets(self, template: dict[str, Any], resolver: _Resolver, stack: DeployedStack) -> None:
        """What moto's CloudFormation skips of the template's buckets, through the S3 API (see the module doc)."""
        import boto3

        s3 = boto3.client("s3", region_name=self.region)
        resources: dict[str, Any] = template["Resources"]
        buckets = [logical for logical, r in resources.items() if r["Type"] == "AWS::S3::Bucket"]
        for logical in buckets:
            resolver.values[logical] = stack.physical_ids[logical]
            resolver.attributes[(logical, "Arn")] = f"arn:aws:s3:::{stack.physical_ids[logical]}"
        for logical in buckets:
            name = stack.physical_ids[logical]
            properties = resolver.resolve(resources[logical].get("Properties", {}))
            if "VersioningConfiguration" in properties:
                s3.put_bucket_versioning(Bucket=name, VersioningConfiguration=properties["VersioningConfiguration"])
            if "OwnershipControls" in properties:
                s3.put_bucket_ownership_controls(Bucket=name, OwnershipControls=properties["OwnershipControls"])
            if "PublicAccessBlockConfiguration" in properties:
                s3.put_public_access_block(
                    Bucket=name, PublicAccessBlockConfiguration=properties["PublicAccessBlockConfiguration"]
                )
            lock = properties.get("ObjectLockConfiguration")
            if properties.get("ObjectLockEnabled") and lock:
                retention = lock["Rule"]["DefaultRetention"]
                s3.put_object_lock_configuration(
                    Bucket=name,
                    ObjectLockConfiguration={
                        "ObjectLockEnabled": "Enabled",
                        "Rule": {"DefaultRetention": {"Mode": retention["Mode"], "Days": int(retention["Days"])}},
                    },
                )

    def _package_code(self, s3: Any, template: dict[str, Any]) -> None:
        """Zip each function's and layer's folder into S3 and point the template at it."""
        code_uri_global = template.get("Globals", {}).get("Function", {}).pop("CodeUri", None)
        for logical_id, resource in template["Resources"].items():
            properties = resource.setdefault("Properties", {})
            if resource["Type"] == FUNCTION:
                key = "CodeUri"
                folder = properties.get(key, code_uri_global)
            elif resource["Type"] == LAYER:
                key = "ContentUri"
                folder = properties.get(key)
            else:
                continue
            s3.put_object(Bucket=CODE_BUCKET, Key=f"{logical_id}.zip", Body=_zip_folder(self.root / folder))
            properties[key] = f"s3://{CODE_BUCKET}/{logical_id}.zip"

    def _create_by_api(self, template: dict[str, Any], resolver: _Resolver, stack: DeployedStack) -> None:
        """Cognito and Secrets Manager resources, made through their own moto APIs from the template's properties."""
        import boto3

        resources: dict[str, Any] = template["Resources"]
        order = [*list(CREATED_BY_API), SECRET]
        for resource_type in order:
            for logical_id in [k for k, v in resources.items() if v["Type"] == resource_type]:
                properties = resolver.resolve(resources.pop(logical_id).get("Properties", {}))
                if resource_type == "AWS::Cognito::UserPool":
                    self._user_pool(
                        boto3.client("cognito-idp", region_name=self.region), logical_id, properties, resolver, stack
                    )
                elif resource_type == "AWS::Cognito::UserPoolClient":
                    client = boto3.client("cognito-idp", region_name=self.region).create_user_pool_client(
                        UserPoolId=properties["UserPoolId"],
                        ClientName=properties.get("ClientName", logical_id),
                        ExplicitAuthFlows=properties.get("ExplicitAuthFlows", []),
                        GenerateSecret=False,
                    )["UserPoolClient"]
                    resolver.values[logical_id] = client["ClientId"]
                    stack.user_pool_client_id = client["ClientId"]
                elif resource_type == "AWS::Cognito::UserPoolGroup":
                    boto3.client("cognito-idp", region_name=self.region).create_group(
                        GroupName=properties["GroupName"],
                        UserPoolId=properties["UserPoolId"],
                        Description=properties.get("Description", ""),
                    )
                    resolver.values[logical_id] = properties["GroupName"]
                else:
                    value = properties.get("SecretString") or secrets.token_hex(32)
                    arn = boto3.client("secretsmanager", region_name=self.region).create_secret(
                        Name=properties.get("Name", logical_id), SecretString=value
                    )["ARN"]
                    resolver.values[logical_id] = arn
                    resolver.attributes[(logical_id, "Id")] = arn
                    stack.secret_values[logical_id] = value

    def _user_pool(
        self, cognito: Any, logical_id: str, properties: dict[str, Any], resolver: _Resolver, stack: DeployedStack
    ) -> None:
        pool = cognito.create_user_pool(
            PoolName=properties.get("UserPoolName", logical_id),
            Policies=properties.get("Policies", {}),
            UsernameAttributes=properties.get("UsernameAttributes", []),
            AutoVerifiedAttributes=properties.get("AutoVerifiedAttributes", []),
        )["UserPool"]
        resolver.values[logical_id] = pool["Id"]
        resolver.attributes[(logical_id, "Arn")] = pool["Arn"]
        resolver.attributes[(logical_id, "ProviderURL")] = (
            f"https://cognito-idp.{self.region}.amazonaws.com/{pool['Id']}"
        )
        stack.user_pool_id = pool["Id"]


def moto_environment(region: str = REGION) -> dict[str, str]:
    """Process settings that keep boto3 inside moto and away from real credentials."""
    return {
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_SESSION_TOKEN": "local",
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        "MOTO_ACCOUNT_ID": ACCOUNT_ID,
    }


def powertools_environment(template: dict[str, Any]) -> dict[str, str]:
    """The template's global Powertools settings (metrics namespace, log level). Powertools reads them from the
    process environment when a handler module is imported, and every local function shares this process."""
    variables = template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    return {k: v for k, v in variables.items() if k.startswith("POWERTOOLS_") and isinstance(v, str)}


@contextmanager
def local_stack(
    parameters: dict[str, str] | None = None, root: Path = ROOT
) -> Iterator[tuple[DeployedStack, InProcessRuntime]]:
    """moto started, the template deployed into it, functions running in-process; torn down on exit."""
    from moto import mock_aws

    os.environ.update(moto_environment())
    logging.getLogger("moto").setLevel(logging.CRITICAL)
    deployer = LocalDeployer(root, parameters)
    for name, value in powertools_environment(deployer.template).items():
        os.environ.setdefault(name, value)
    runtime = InProcessRuntime(functions(deployer.template, root))
    with ExitStack() as stack:
        stack.enter_context(mock_aws(config={"stepfunctions": {"execute_state_machine": True}}))
        stack.enter_context(serialised_dynamodb())
        stack.enter_context(item_level_rollback())
        stack.enter_context(runtime.installed())
        deployed = deployer.deploy(runtime)
        # IAM as AWS enforces it, wherever the stack runs: a call a function's or a state machine's role in the
        # template does not allow is refused as AWS refuses it (infra.local.iam_audit).
        runtime.authorise = Authoriser(deployed, deployer.template)
        yield deployed, runtime
