"""Reading template.yaml: the local stack's only source for functions, routes and state machines.

Nothing here restates the template: every function, handler, environment, route and state machine the local stack
runs is found by walking the SAM template as written.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from samtranslator.yaml_helper import yaml_parse

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = ROOT / "template.yaml"

FUNCTION = "AWS::Serverless::Function"
STATE_MACHINE = "AWS::Serverless::StateMachine"
LAYER = "AWS::Serverless::LayerVersion"


@dataclass(frozen=True, slots=True)
class ApiRoute:
    """One ``Events: Api`` entry: the method and path a function answers, and whether it needs a token."""

    function: str  # logical id
    method: str  # upper case
    path: str  # with {placeholders}
    authorizer: str | None  # None: open (a webhook), else the authorizer's name

    def matcher(self) -> re.Pattern[str]:
        """A regex matching concrete paths, capturing the placeholders by name."""
        pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.path))
        return re.compile(f"^{pattern}$")


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    """What the local runtime needs to run a function in-process."""

    logical_id: str
    code_dir: Path
    handler: str  # module.function
    routes: tuple[ApiRoute, ...]


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    """The SAM template as plain data, intrinsic functions in their long form (``{"Ref": ...}``)."""
    parsed: dict[str, Any] = yaml_parse(path.read_text())
    return parsed


def _globals(template: dict[str, Any], kind: str) -> dict[str, Any]:
    found: dict[str, Any] = template.get("Globals", {}).get(kind, {})
    return found


def function_property(template: dict[str, Any], logical_id: str, name: str) -> Any:
    """A function's property, falling back to ``Globals.Function`` as SAM does."""
    properties = template["Resources"][logical_id].get("Properties", {})
    if name in properties:
        return properties[name]
    return _globals(template, "Function").get(name)


def api_routes(template: dict[str, Any]) -> list[ApiRoute]:
    """Every API event of every function, with the authorizer that guards it."""
    default_authorizers: dict[str, str | None] = {}
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] == "AWS::Serverless::Api":
            auth = resource.get("Properties", {}).get("Auth", {})
            default_authorizers[logical_id] = auth.get("DefaultAuthorizer")
    routes = []
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != FUNCTION:
            continue
        for event in resource.get("Properties", {}).get("Events", {}).values():
            if event.get("Type") != "Api":
                continue
            properties = event["Properties"]
            api = properties.get("RestApiId", {}).get("Ref")
            authorizer = default_authorizers.get(api)
            event_auth = properties.get("Auth", {})
            if "Authorizer" in event_auth:
                authorizer = None if event_auth["Authorizer"] == "NONE" else event_auth["Authorizer"]
            routes.append(ApiRoute(logical_id, properties["Method"].upper(), properties["Path"], authorizer))
    return routes


def functions(template: dict[str, Any], root: Path = ROOT) -> dict[str, FunctionSpec]:
    """Every function of the template by logical id."""
    routes = api_routes(template)
    specs = {}
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != FUNCTION:
            continue
        code_uri = function_property(template, logical_id, "CodeUri")
        handler = function_property(template, logical_id, "Handler")
        specs[logical_id] = FunctionSpec(
            logical_id,
            (root / code_uri).resolve(),
            handler,
            tuple(r for r in routes if r.function == logical_id),
        )
    return specs


@dataclass(frozen=True, slots=True)
class StateMachineSpec:
    """A state machine's ASL as written (``${Placeholders}`` may stand where numbers go) and its substitutions."""

    logical_id: str
    definition_text: str
    substitutions: dict[str, Any]

    def placeholders(self) -> set[str]:
        return set(re.findall(r"\$\{(\w+)\}", self.definition_text))

    def render(self, values: dict[str, str]) -> dict[str, Any]:
        """The ASL with every placeholder replaced by ``values`` (as text), parsed."""
        text = self.definition_text
        for name, value in values.items():
            text = text.replace("${" + name + "}", value)
        parsed: dict[str, Any] = json.loads(text)
        return parsed


def state_machines(template: dict[str, Any], root: Path = ROOT) -> dict[str, StateMachineSpec]:
    """Every state machine with its ASL (read from ``DefinitionUri``) and its ``DefinitionSubstitutions``."""
    machines = {}
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != STATE_MACHINE:
            continue
        properties = resource["Properties"]
        if "Definition" in properties:
            text = json.dumps(properties["Definition"], indent=2)
        else:
            text = (root / properties["DefinitionUri"]).read_text()
        machines[logical_id] = StateMachineSpec(logical_id, text, dict(properties.get("DefinitionSubstitutions", {})))
    return machines


def parameter_defaults(template: dict[str, Any]) -> dict[str, str]:
    """Each parameter's default value (as CloudFormation passes it: a string)."""
    return {name: str(spec["Default"]) for name, spec in template.get("Parameters", {}).items() if "Default" in spec}


def table_definitions(template: dict[str, Any], parameters: dict[str, str] | None = None) -> dict[str, dict[str, Any]]:
    """``create_table`` arguments for every DynamoDB table, from the template's own properties (by logical id).

    For tests that need a table without the whole stack; names resolve ``!Sub name-${Stage}`` with the parameters.
    """
    values = {**parameter_defaults(template), **(parameters or {})}
    tables = {}
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::DynamoDB::Table":
            continue
        properties = copy.deepcopy(resource["Properties"])
        name = properties.get("TableName", logical_id)
        if isinstance(name, dict) and "Fn::Sub" in name:
            name = re.sub(r"\$\{(\w+)\}", lambda m: values.get(m.group(1), m.group(0)), name["Fn::Sub"])
        arguments: dict[str, Any] = {
            "TableName": name,
            "AttributeDefinitions": properties["AttributeDefinitions"],
            "KeySchema": properties["KeySchema"],
            "BillingMode": properties.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if "GlobalSecondaryIndexes" in properties:
            arguments["GlobalSecondaryIndexes"] = properties["GlobalSecondaryIndexes"]
        tables[logical_id] = arguments
    return tables


@dataclass(frozen=True, slots=True)
class ScheduleSpec:
    """A function's ``Events: Schedule`` (moto's EventBridge never fires it; the local stack does on request)."""

    function: str  # logical id
    name: str  # the event's name in the template
    expression: str  # cron(...) or rate(...)


def schedules(template: dict[str, Any]) -> dict[str, ScheduleSpec]:
    """Every scheduled function event of the template, by event name."""
    found = {}
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != FUNCTION:
            continue
        for name, event in (resource.get("Properties", {}).get("Events") or {}).items():
            if event.get("Type") == "Schedule":
                found[name] = ScheduleSpec(logical_id, name, str(event["Properties"]["Schedule"]))
    return found
