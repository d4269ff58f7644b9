"""The handler tests' harness: a function's real ``lambda_handler`` run on an event from ``tests/events/``.

moto holds what the template declares: the tables from template.yaml's own properties (``table_definitions``), and
the PII key, webhook secret, event bus and state machine the functions' environments refer to. A function's
environment is template.yaml's (``Globals`` and its own variables, each ``!Ref``/``!GetAtt`` resolved to what moto
made) and reaches the handler through ``provided_environment``, as the local runtime hands it over.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from moto import mock_aws

from infra.local.runtime import LambdaContext
from infra.local.stack import powertools_environment
from infra.local.template import functions, load_template, parameter_defaults, table_definitions
from lending.adapters.aws import forget_clients
from lending.adapters.environment import provided_environment

REGION = "ap-east-1"
ACCOUNT = "123456789012"
EVENTS = Path(__file__).resolve().parents[2] / "events"
TEMPLATE = load_template()
TABLES = table_definitions(TEMPLATE)
FUNCTIONS = functions(TEMPLATE)
#: The payment provider's signing secret, as the secret in Secrets Manager holds it.
PAYMENTS_SECRET = "sandbox-payments-webhook-secret-for-handler-tests"

_handlers: dict[str, Callable[[Any, Any], Any]] = {}
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def to_attribute(value: Any) -> dict[str, Any]:
    """A plain value as a DynamoDB attribute (boto3's own codec: numbers go in as ints or Decimals)."""
    encoded: dict[str, Any] = _serializer.serialize(value)
    return encoded


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """A stored item as plain values (numbers as Decimal, binaries as bytes)."""
    return {name: _plain(_deserializer.deserialize(value)) for name, value in item.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return bytes(value) if hasattr(value, "value") and isinstance(value.value, bytes) else value


def event(name: str) -> dict[str, Any]:
    """A fresh copy of ``tests/events/<name>.json``."""
    loaded: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return loaded


def handler(logical_id: str) -> Callable[[Any, Any], Any]:
    """The function's ``lambda_handler``, its module loaded once under a name of its own (as the local runtime)."""
    if logical_id not in _handlers:
        spec = FUNCTIONS[logical_id]
        module_name, _, attribute = spec.handler.rpartition(".")
        path = spec.code_dir / f"{module_name.replace('.', '/')}.py"
        module_spec = importlib.util.spec_from_file_location(f"handler_test_{logical_id}", path)
        assert module_spec is not None
        assert module_spec.loader is not None
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)
        _handlers[logical_id] = getattr(module, attribute)
    return _handlers[logical_id]


@dataclass
class Deployed:
    """What moto made of the template's resources: what ``!Ref`` and ``!GetAtt`` of each resolve to."""

    session: Any
    refs: dict[str, str] = field(default_factory=dict)
    attributes: dict[tuple[str, str], str] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        return self.session.client(service)

    def table(self, logical_id: str) -> str:
        return self.refs[logical_id]

    def _resolve(self, value: Any) -> str:
        if isinstance(value, str):
            return value
        if "Ref" in value:
            return self.refs[value["Ref"]]
        if "Fn::GetAtt" in value:
            logical_id, attribute = value["Fn::GetAtt"]
            return self.attributes[(logical_id, attribute)]
        raise KeyError(f"the handler tests resolve Ref and GetAtt only, not {value}")

    def environment(self, logical_id: str) -> dict[str, str]:
        """The function's variables from template.yaml (Globals first, its own over them), resolved."""
        shared = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]
        own = TEMPLATE["Resources"][logical_id]["Properties"].get("Environment", {}).get("Variables", {})
        variables = {name: self._resolve(value) for name, value in {**shared, **own}.items()}
        return {"AWS_REGION": REGION, "AWS_LAMBDA_FUNCTION_NAME": f"lending-{logical_id}", **variables}

    def invoke(self, logical_id: str, payload: Mapping[str, Any], **extra: str) -> Any:
        """Run the function on ``payload`` with its environment (plus ``extra`` variables), as Lambda would."""
        environment = {**self.environment(logical_id), **extra}
        context = LambdaContext(environment["AWS_LAMBDA_FUNCTION_NAME"], _arn(logical_id), 512, 29)
        with provided_environment(environment):
            return handler(logical_id)(json.loads(json.dumps(payload)), context)


def _arn(logical_id: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:lending-{logical_id}"


def _deploy(session: Any) -> Deployed:
    """The template's tables, key, secrets, bus and state machines, created in moto."""
    deployed = Deployed(session)
    deployed.refs.update(parameter_defaults(TEMPLATE))
    dynamodb = session.client("dynamodb")
    for logical_id, arguments in TABLES.items():
        dynamodb.create_table(**arguments)
        deployed.refs[logical_id] = arguments["TableName"]
    resources = TEMPLATE["Resources"]
    deployed.refs["PiiKey"] = session.client("kms").create_key(Description="PII")["KeyMetadata"]["KeyId"]
    secrets = session.client("secretsmanager")
    for logical_id, value in (("PaymentsWebhookSecret", PAYMENTS_SECRET), ("IdentityWebhookSecret", "identity")):
        name = deployed._resolve(resources[logical_id]["Properties"]["Name"])
        deployed.refs[logical_id] = secrets.create_secret(Name=name, SecretString=value)["ARN"]
    bus = _sub(resources["LendingEventBus"]["Properties"]["Name"], deployed.refs)
    session.client("events").create_event_bus(Name=bus)
    deployed.attributes[("LendingEventBus", "Name")] = bus
    role = f"arn:aws:iam::{ACCOUNT}:role/lending-workflow"
    # moto's plain Step Functions backend records executions without running them: a handler test checks that the
    # function started one, with what input; the workflow's own runs are the end-to-end tests'.
    definition = json.dumps({"StartAt": "Started", "States": {"Started": {"Type": "Pass", "End": True}}})
    for logical_id in ("OriginationStateMachine", "DrawdownStateMachine", "HardshipFlow"):
        name = _sub(resources[logical_id]["Properties"]["Name"], deployed.refs)
        made = session.client("stepfunctions").create_state_machine(name=name, definition=definition, roleArn=role)
        deployed.refs[logical_id] = made["stateMachineArn"]
    return deployed


def _sub(value: Any, refs: Mapping[str, str]) -> str:
    """``!Sub lending-events-${Stage}`` with the parameters' values."""
    text = str(value["Fn::Sub"]) if isinstance(value, dict) else str(value)
    for name, resolved in refs.items():
        text = text.replace("${" + name + "}", resolved)
    return text


@contextmanager
def deployed_template() -> Iterator[Deployed]:
    """A fresh moto holding the template's resources; the functions' cached clients are dropped around it.

    The process environment (credentials, region, Powertools' settings) is the caller's to set.
    """
    forget_clients()
    with mock_aws():
        yield _deploy(boto3.session.Session(region_name=REGION))
    forget_clients()


def process_environment() -> dict[str, str]:
    """What the process needs around the functions: moto's dummy credentials, the region, Powertools' settings."""
    return {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "MOTO_ACCOUNT_ID": ACCOUNT,
        # Powertools reads these from the process when a handler's module builds its Logger and Metrics.
        **powertools_environment(TEMPLATE),
    }
