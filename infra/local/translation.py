"""template.yaml as moto's CloudFormation can create it: samtranslator's transform plus the adjustments it needs.

The template is transformed offline with samtranslator (a policy loader that knows no managed policies: the local
IAM check expands those itself, :mod:`infra.local.iam_audit`), then adjusted, each adjustment for a reason:

- state machines: moto's CloudFormation creates a state machine in its Step Functions backend that never executes
  it. The stack keeps each with a one-state placeholder definition (other resources refer to its ARN), and the
  resolved definition and role go out through two stack outputs (:data:`MACHINE_OUTPUT`), so CloudFormation resolves
  every reference in them; :mod:`infra.local.stack` then creates the real machine through the Step Functions API
  under the same name. The ASL's ``DefinitionSubstitutions`` are folded into an ``Fn::Sub`` as
  ``${Resource}``/``${Resource.Attr}`` references (moto ignores substitutions, and its ``Fn::Sub`` with a mapping
  turns ASL's ``$$`` into ``$``).
- REST API: given a ``Name`` and no ``Body``; its ``Deployment``, ``Stage`` and ``Authorizer`` are left out. moto
  can neither build methods from an OpenAPI body nor invoke proxy integrations: :mod:`infra.local.api` routes
  requests from the template's ``Events: Api`` and verifies tokens as the Cognito authorizer would.
- left out locally (:data:`LEFT_OUT`), with everything that refers to them, because moto cannot create them and
  nothing local reads them: ``AWS::CloudWatch::Alarm`` (no metrics locally), ``AWS::Scheduler::Schedule`` (moto
  fires no schedules: the local runtime triggers scheduled functions itself), ``AWS::S3::BucketPolicy`` (moto's
  CloudFormation skips it, and moto would weigh its TLS-only deny without the request's ``aws:SecureTransport``).

Code packaging and the resources moto's CloudFormation skips (Cognito, Secrets Manager) are :mod:`infra.local.stack`'s.
"""

from __future__ import annotations

import re
from typing import Any

from infra.local.template import StateMachineSpec

LEFT_OUT = {
    "AWS::ApiGateway::Deployment": "moto cannot create API deployments; infra.local.api serves the routes",
    "AWS::ApiGateway::Stage": "moto cannot create API stages; infra.local.api serves the routes",
    "AWS::ApiGateway::Authorizer": "infra.local.api verifies Cognito tokens itself",
    "AWS::CloudWatch::Alarm": "no CloudWatch metrics locally",
    "AWS::Scheduler::Schedule": "moto fires no schedules; scheduled functions are triggered by the local runtime",
    "AWS::S3::BucketPolicy": (
        "moto weighs a bucket policy without the request's condition keys: the TLS-only deny (aws:SecureTransport "
        "false) would refuse every request, though each goes over HTTPS"
    ),
}

#: The stack outputs that carry a state machine's resolved definition and role (logical id, "Definition"/"Role").
MACHINE_OUTPUT = "LocalStateMachine{}{}"

_PLACEHOLDER = {"StartAt": "Placeholder", "States": {"Placeholder": {"Type": "Pass", "End": True}}}


class _NoManagedPolicies:
    def load(self) -> dict[str, str]:
        return {}


def cloudformation(
    template: dict[str, Any], parameters: dict[str, str], machines: dict[str, StateMachineSpec], api_name: str
) -> dict[str, Any]:
    """The CloudFormation template moto creates for ``template`` (a SAM template whose code is already in S3)."""
    from samtranslator.translator.transform import transform

    for logical_id in machines:
        properties = template["Resources"][logical_id]["Properties"]
        properties.pop("DefinitionUri", None)
        properties["Definition"] = _PLACEHOLDER
    cfn: dict[str, Any] = transform(template, dict(parameters), _NoManagedPolicies())
    resources: dict[str, Any] = cfn["Resources"]
    outputs: dict[str, Any] = cfn.setdefault("Outputs", {})
    for logical_id, machine in machines.items():
        properties = resources[logical_id]["Properties"]
        properties.pop("DefinitionSubstitutions", None)
        folded = _fold_substitutions(machine.definition_text, machine.substitutions)
        outputs[MACHINE_OUTPUT.format(logical_id, "Definition")] = {"Value": folded}
        outputs[MACHINE_OUTPUT.format(logical_id, "Role")] = {"Value": properties["RoleArn"]}
    for resource in resources.values():
        if resource["Type"] == "AWS::ApiGateway::RestApi":
            properties = resource.setdefault("Properties", {})
            properties.pop("Body", None)
            properties.setdefault("Name", api_name)
    return cfn


def leave_out(cfn: dict[str, Any]) -> dict[str, str]:
    """Drop the resources moto cannot create, and whatever refers to them; returns why, by logical id."""
    resources: dict[str, Any] = cfn["Resources"]
    left_out: dict[str, str] = {}
    for logical_id, resource in list(resources.items()):
        if resource["Type"] in LEFT_OUT:
            left_out[logical_id] = LEFT_OUT[resource["Type"]]
            del resources[logical_id]
    changed = True
    while changed:
        changed = False
        for logical_id, resource in list(resources.items()):
            dropped = _references(resource) & set(left_out)
            if dropped:
                left_out[logical_id] = f"refers to {', '.join(sorted(dropped))}, left out locally"
                del resources[logical_id]
                changed = True
    for name, output in list(cfn.get("Outputs", {}).items()):
        if _references(output) & set(left_out):
            del cfn["Outputs"][name]
    return left_out


def _references(value: Any) -> set[str]:
    """Logical ids a piece of template refers to (Ref, GetAtt, ${...} in Sub)."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, argument in value.items():
            if key == "Ref" and isinstance(argument, str):
                found.add(argument)
            elif key == "Fn::GetAtt":
                found.add(argument[0] if isinstance(argument, list) else argument.split(".", 1)[0])
            elif key == "Fn::Sub":
                text = argument if isinstance(argument, str) else argument[0]
                found.update(m.split(".", 1)[0] for m in re.findall(r"\$\{([\w:.]+)\}", text))
                found.update(_references(argument))
            else:
                found.update(_references(argument))
    elif isinstance(value, list):
        for item in value:
            found.update(_references(item))
    return found


def _fold_substitutions(text: str, substitutions: dict[str, Any]) -> dict[str, Any]:
    """ASL text with each ``${Name}`` replaced by the reference it stands for, inside one ``Fn::Sub``."""
    for name, value in substitutions.items():
        if isinstance(value, str):
            replacement = value
        elif isinstance(value, dict) and "Ref" in value:
            replacement = "${" + value["Ref"] + "}"
        elif isinstance(value, dict) and "Fn::GetAtt" in value:
            target = value["Fn::GetAtt"]
            replacement = "${" + (".".join(target) if isinstance(target, list) else target) + "}"
        else:
            raise ValueError(f"substitution {name}: only strings, Ref and Fn::GetAtt are supported locally")
        text = text.replace("${" + name + "}", replacement)
    leftover = re.findall(r"\$\{(\w+)\}", text)
    unknown = [name for name in leftover if name not in substitutions]
    if unknown:
        raise ValueError(f"ASL placeholders without a substitution: {sorted(set(unknown))}")
    return {"Fn::Sub": text}
