"""Does a role in template.yaml allow a call? IAM's answer for identity policies, decided offline.

moto does not enforce IAM, so a function whose role lacks a grant passes every local test and fails on AWS with
``AccessDenied``. This module is the pure piece that decides it; nothing here patches botocore or moto.

Where the statements come from: the template is transformed by samtranslator exactly as :mod:`infra.local.stack`
deploys it, and each function's or state machine's ``AWS::IAM::Role`` is read from the result. So SAM policy
templates (``DynamoDBCrudPolicy``, ``KMSDecryptPolicy``...), managed policy names, inline statements and what
``Globals`` adds (the dead-letter queue's ``sqs:SendMessage``, X-Ray for ``Tracing``, basic execution) are SAM's own
expansion, never restated. AWS managed policies named by ARN are expanded from moto's snapshot of their documents
(``moto.iam.aws_managed_policies``) or from documents the caller gives; one that neither knows is an error naming it.
``AWS::IAM::Policy`` and ``AWS::IAM::ManagedPolicy`` resources of the template attached to the role count too.
Intrinsics (``Ref``, ``Fn::GetAtt``, ``Fn::Sub``, ``Fn::Join``) resolve against names the caller gives (logical id
for ``Ref``, ``Logical.Attribute`` for ``Fn::GetAtt``, plus the pseudo parameters); a reference it does not give is
an error, never a guess.

Evaluation (:func:`allowed`) is IAM's logic for identity-based policies of one principal in one account: an explicit
``Deny`` wins, else any ``Allow`` allows, else the implicit deny. ``Action``/``NotAction`` match case-insensitively,
``Resource``/``NotResource`` case-sensitively, both with ``*`` and ``?``; in a resource, as IAM documents, a
wildcard stays inside its colon-separated segment unless ``*`` ends the segment, then it may run past colons.
Conditions: the ``String*``, ``Arn*``, ``Bool`` and ``Null`` operators, with ``...IfExists`` and the
``ForAllValues:``/``ForAnyValue:`` set prefixes; any other operator raises :class:`UnsupportedPolicy` (ignoring a
condition would overstate what a role may do, or understate it).

KMS key policies (:func:`key_policy_allows`): the key's own policy decides for a role of its account, delegating
to identity policies through the account principal, as KMS does.

Not modelled (so not decided here): other resource-based policies (SNS topic policies, Lambda permissions),
service control and resource control policies, permission boundaries and session policies (a role with a
``PermissionsBoundary`` raises rather than being judged without it), policy variables (``${aws:...}``, which
raise), cross-account access, and the numeric, date, IP and binary condition operators.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from infra.local.template import FUNCTION, STATE_MACHINE, parameter_defaults

Statement = dict[str, Any]
ContextValue = str | bool | Sequence[str]

#: The properties that point at code or ASL files; they do not change a role, and samtranslator wants S3 URIs.
_CODE_PROPERTIES = ("CodeUri", "ContentUri", "DefinitionUri")
_AWS_MANAGED_PREFIX = "arn:aws:iam::aws:policy"


class UnsupportedPolicy(ValueError):
    """A policy this module cannot judge faithfully: refused, because a guess would pass or fail the wrong calls."""


class UnresolvedReference(UnsupportedPolicy):
    """An intrinsic in a role's policy names something the caller's names do not hold."""


class UnknownManagedPolicies(UnsupportedPolicy):
    """Managed policies attached by ARN (or by a name samtranslator could not map) whose documents are unknown."""

    def __init__(self, principal: str, arns: Sequence[str]) -> None:
        self.principal = principal
        self.arns = tuple(arns)
        super().__init__(f"{principal}: cannot expand managed policies {', '.join(self.arns)}; pass their documents")


def pseudo_parameters(
    region: str, account_id: str, stack_name: str = "lending-local", partition: str = "aws"
) -> dict[str, str]:
    """The CloudFormation pseudo parameters, as names for :func:`role_policies` (the local stack's, or AWS's)."""
    return {
        "AWS::Region": region,
        "AWS::AccountId": account_id,
        "AWS::StackName": stack_name,
        "AWS::Partition": partition,
        "AWS::URLSuffix": "amazonaws.com",
    }


def translate(
    template: Mapping[str, Any], parameters: Mapping[str, str] | None = None, region: str = "ap-east-1"
) -> dict[str, Any]:
    """The template as samtranslator turns it into CloudFormation, the roles as a deploy would create them.

    Code locations are replaced by placeholder S3 URIs first: samtranslator insists on them and they touch no role.
    A boto3 session is built for the region only because samtranslator reads the region from one (no network).
    """
    import boto3
    from samtranslator.parser.parser import Parser  # type: ignore[import-untyped]
    from samtranslator.translator.translator import Translator  # type: ignore[import-untyped]

    sam = json.loads(json.dumps(template))  # a deep, plain copy: samtranslator changes what it is given
    sam.get("Globals", {}).get("Function", {}).pop("CodeUri", None)
    for logical_id, resource in sam["Resources"].items():
        properties = resource.get("Properties") or {}
        for name in _CODE_PROPERTIES:
            if name in properties:
                properties[name] = f"s3://placeholder/{logical_id}"
        if resource.get("Type") == FUNCTION and "CodeUri" not in properties and "ImageUri" not in properties:
            properties["CodeUri"] = f"s3://placeholder/{logical_id}"
            resource["Properties"] = properties
    values = {**parameter_defaults(dict(template)), **(parameters or {})}
    from samtranslator.translator.arn_generator import ArnGenerator  # type: ignore[import-untyped]

    before = ArnGenerator.BOTO_SESSION_REGION_NAME  # the translator sets this class-wide; leave it as found
    try:
        translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name=region))
        cfn: dict[str, Any] = translator.translate(sam, parameter_values=values, get_managed_policy_map=dict)
    finally:
        ArnGenerator.BOTO_SESSION_REGION_NAME = before
    return cfn


@functools.cache
def _moto_managed_policies() -> dict[str, list[Statement]]:
    """AWS managed policy documents by ARN, from moto's snapshot (parsed once: it is several megabytes)."""
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    documents = {}
    for name, policy in json.loads(aws_managed_policies_data).items():
        arn = f"{_AWS_MANAGED_PREFIX}{policy.get('Path', '/')}{name}"
        documents[arn] = _statements(policy["Document"])
    return documents


def _statements(document: Mapping[str, Any]) -> list[Statement]:
    statement = document.get("Statement", [])
    return [dict(s) for s in (statement if isinstance(statement, list) else [statement])]


class _Names:
    """Resolves intrinsics against the caller's names; anything else is an :class:`UnresolvedReference`."""

    def __init__(self, names: Mapping[str, str]) -> None:
        self.names = names

    def lookup(self, key: str) -> str:
        if key not in self.names:
            raise UnresolvedReference(f"no name given for {key!r}")
        return self.names[key]

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref":
                return self.lookup(argument)
            if key == "Fn::GetAtt":
                name, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
                return self.lookup(f"{name}.{attribute}")
            if key == "Fn::Sub":
                return self._substitute(argument)
            if key == "Fn::Join":
                separator, parts = argument
                return str(separator).join(str(self.resolve(p)) for p in self.resolve(parts))
            if key.startswith("Fn::") or key == "Condition":
                raise UnsupportedPolicy(f"intrinsic {key} is not resolved here")
        return {k: self.resolve(v) for k, v in value.items()}

    def _substitute(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else (argument[0], argument[1])
        local = {name: str(self.resolve(v)) for name, v in variables.items()}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"  # ${!Literal} is CloudFormation's escape for a literal ${Literal}
            if name in local:
                return local[name]
            return self.lookup(name)

        return re.sub(r"\$\{([^}]+)\}", replace, text)


class TemplateRoles:
    """The roles of a template's functions and state machines, translated once and read per principal."""

    def __init__(
        self,
        template: Mapping[str, Any],
        names: Mapping[str, str],
        *,
        parameters: Mapping[str, str] | None = None,
        managed: Mapping[str, Sequence[Statement]] | None = None,
        cfn: Mapping[str, Any] | None = None,
    ) -> None:
        values = {**parameter_defaults(dict(template)), **(parameters or {})}
        region = names.get("AWS::Region", "ap-east-1")
        self.template = template
        self.cfn = cfn if cfn is not None else translate(template, values, region)
        self.names = _Names({**values, **names})
        self.managed = managed or {}

    def principals(self) -> list[str]:
        """Every function and state machine of the template, by logical id: the principals that have a role."""
        return [k for k, v in self.template["Resources"].items() if v.get("Type") in (FUNCTION, STATE_MACHINE)]

    def role_id(self, logical_id: str) -> str:
        """The logical id of the ``AWS::IAM::Role`` a function or state machine runs as."""
        resource = self.cfn["Resources"].get(logical_id)
        if resource is None:
            raise KeyError(f"{logical_id} is not a resource of the template")
        prop = "Role" if resource["Type"] == "AWS::Lambda::Function" else "RoleArn"
        role = resource.get("Properties", {}).get(prop)
        if isinstance(role, dict) and "Fn::GetAtt" in role:
            target = role["Fn::GetAtt"]
            role_id = target[0] if isinstance(target, list) else target.split(".", 1)[0]
            if self.cfn["Resources"].get(role_id, {}).get("Type") == "AWS::IAM::Role":
                return str(role_id)
        raise UnsupportedPolicy(f"{logical_id}: its role ({role!r}) is not a role of this template")

    def statements(self, logical_id: str) -> list[Statement]:
        """Every identity-policy statement of the principal's role, intrinsics resolved."""
        role_id = self.role_id(logical_id)
        resources: Mapping[str, Any] = self.cfn["Resources"]
        role = resources[role_id].get("Properties", {})
        if "PermissionsBoundary" in role:
            raise UnsupportedPolicy(f"{logical_id}: permission boundaries are not modelled")
        found: list[Statement] = []
        for policy in role.get("Policies", []):
            found.extend(_statements(policy["PolicyDocument"]))
        unknown: list[str] = []
        for arn in role.get("ManagedPolicyArns", []):
            found.extend(self._managed(arn, unknown))
        for resource in resources.values():
            properties = resource.get("Properties", {})
            if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy") and {
                "Ref": role_id
            } in properties.get("Roles", []):
                found.extend(_statements(properties["PolicyDocument"]))
        if unknown:
            raise UnknownManagedPolicies(logical_id, unknown)
        return [self.names.resolve(copy.deepcopy(s)) for s in found]

    def _managed(self, arn: Any, unknown: list[str]) -> list[Statement]:
        if isinstance(arn, dict) and set(arn) == {"Ref"}:
            resource = self.cfn["Resources"].get(arn["Ref"], {})
            if resource.get("Type") == "AWS::IAM::ManagedPolicy":
                return _statements(resource["Properties"]["PolicyDocument"])
        resolved = self.names.resolve(arn)
        if resolved in self.managed:
            return [dict(s) for s in self.managed[resolved]]
        if isinstance(resolved, str) and resolved.startswith(_AWS_MANAGED_PREFIX):
            known = _moto_managed_policies().get(resolved)
            if known is not None:
                return known
        unknown.append(str(resolved))
        return []


def role_policies(
    template: Mapping[str, Any],
    logical_id: str,
    names: Mapping[str, str],
    *,
    parameters: Mapping[str, str] | None = None,
    managed: Mapping[str, Sequence[Statement]] | None = None,
) -> list[Statement]:
    """The statements of one function's or state machine's role, as samtranslator expands them.

    ``names`` resolves the intrinsics: ``"Logical"`` for ``Ref``, ``"Logical.Attribute"`` for ``Fn::GetAtt``, and
    the pseudo parameters (:func:`pseudo_parameters`); parameters default to the template's defaults. ``managed``
    gives documents for managed policy ARNs moto's snapshot lacks. Translating takes a moment: for many principals
    build one :class:`TemplateRoles`.
    """
    return TemplateRoles(template, names, parameters=parameters, managed=managed).statements(logical_id)


# ---------------------------------------------------------------- evaluation


def _wildcard(pattern: str, *, arn: bool) -> re.Pattern[str]:
    """A policy pattern as a regex. In an ARN a wildcard keeps to its segment unless ``*`` ends the segment."""
    parts = []
    for index, char in enumerate(pattern):
        if char == "*":
            ends_segment = index + 1 == len(pattern) or pattern[index + 1] == ":"
            parts.append(".*" if not arn or ends_segment else "[^:]*")
        elif char == "?":
            parts.append("[^:]" if arn else ".")
        else:
            parts.append(re.escape(char))
    return re.compile("".join(parts), re.DOTALL)


@functools.lru_cache(maxsize=4096)
def _compiled(pattern: str, arn: bool, ignore_case: bool) -> re.Pattern[str]:
    compiled = _wildcard(pattern, arn=arn)
    return re.compile(compiled.pattern, re.DOTALL | re.IGNORECASE) if ignore_case else compiled


def _matches(pattern: str, value: str, *, arn: bool = False, ignore_case: bool = False) -> bool:
    return _compiled(pattern, arn, ignore_case).fullmatch(value) is not None


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def _check_pattern(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise UnsupportedPolicy(f"{where} {value!r} is not a string (an unresolved intrinsic?)")
    if "${" in value:
        raise UnsupportedPolicy(f"{where} {value!r}: policy variables are not modelled")
    return value


def _action_matches(patterns: Iterable[Any], action: str) -> bool:
    return any(_matches(_check_pattern(p, "action"), action, ignore_case=True) for p in patterns)


def _resource_matches(patterns: Iterable[Any], resource: str) -> bool:
    return any(
        _check_pattern(p, "resource") == "*" or _matches(_check_pattern(p, "resource"), resource, arn=True)
        for p in patterns
    )


def _string_equals(policy: str, actual: str) -> bool:
    return policy == actual


def _string_equals_ignore_case(policy: str, actual: str) -> bool:
    return policy.casefold() == actual.casefold()


def _string_like(policy: str, actual: str) -> bool:
    return _matches(policy, actual)


def _arn_like(policy: str, actual: str) -> bool:
    # IAM compares the six colon-separated parts one by one; an ARN with fewer parts matches nothing.
    policy_parts, actual_parts = policy.split(":", 5), actual.split(":", 5)
    if len(policy_parts) != 6 or len(actual_parts) != 6:
        return False
    return all(_matches(p, a) for p, a in zip(policy_parts, actual_parts, strict=True))


def _bool(policy: str, actual: str) -> bool:
    return policy.lower() == actual.lower()


#: operator → (compare one policy value with one context value, negated)
_OPERATORS: dict[str, tuple[Any, bool]] = {
    "StringEquals": (_string_equals, False),
    "StringNotEquals": (_string_equals, True),
    "StringEqualsIgnoreCase": (_string_equals_ignore_case, False),
    "StringNotEqualsIgnoreCase": (_string_equals_ignore_case, True),
    "StringLike": (_string_like, False),
    "StringNotLike": (_string_like, True),
    "ArnEquals": (_arn_like, False),
    "ArnLike": (_arn_like, False),
    "ArnNotEquals": (_arn_like, True),
    "ArnNotLike": (_arn_like, True),
    "Bool": (_bool, False),
}


def _parse_operator(operator: str) -> tuple[str | None, str, bool]:
    """``ForAnyValue:StringLikeIfExists`` → (``ForAnyValue``, ``StringLike``, True); unsupported ones raise."""
    qualifier, _, base = operator.rpartition(":")
    if qualifier not in ("", "ForAllValues", "ForAnyValue"):
        raise UnsupportedPolicy(f"condition operator {operator!r} is not supported")
    if_exists = base.endswith("IfExists") and base != "IfExists"
    if if_exists:
        base = base.removesuffix("IfExists")
    if base == "Null" and not qualifier and not if_exists:
        return None, base, False
    if base not in _OPERATORS:
        raise UnsupportedPolicy(f"condition operator {operator!r} is not supported")
    return qualifier or None, base, if_exists


def _context_values(value: ContextValue) -> list[str]:
    if isinstance(value, bool):
        return ["true" if value else "false"]
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def _condition_holds(operator: str, key: str, expected: Any, context: Mapping[str, ContextValue]) -> bool:
    qualifier, base, if_exists = _parse_operator(operator)
    policy_values = [
        str(v).lower() if isinstance(v, bool) else _check_pattern(v, "condition value") for v in _as_list(expected)
    ]
    present = key.lower() in context
    if base == "Null":
        # "true": the key must be absent; "false": it must be present.
        return all((v.lower() == "true") == (not present) for v in policy_values)
    compare, negated = _OPERATORS[base]

    def one(actual: str) -> bool:
        hit = any(compare(p, actual) for p in policy_values)
        return not hit if negated else hit

    if not present:
        if qualifier == "ForAllValues":
            return True  # vacuously: there is no value that fails
        if qualifier == "ForAnyValue":
            return False
        return if_exists or negated  # IAM: a missing key fails a positive test and passes a negated one
    actual_values = _context_values(context[key.lower()])
    if qualifier == "ForAllValues":
        return all(one(v) for v in actual_values)
    if qualifier == "ForAnyValue":
        return any(one(v) for v in actual_values)
    if len(actual_values) != 1:
        raise UnsupportedPolicy(f"{operator} on multivalued key {key!r}: use ForAllValues: or ForAnyValue:")
    return one(actual_values[0])


def _check_statement(statement: Mapping[str, Any]) -> None:
    """Refuse what IAM would refuse or what this module cannot judge, before any request is weighed."""
    if statement.get("Effect") not in ("Allow", "Deny"):
        raise UnsupportedPolicy(f"statement {statement!r}: Effect must be Allow or Deny")
    if ("Action" in statement) == ("NotAction" in statement):
        raise UnsupportedPolicy(f"statement {statement!r}: needs exactly one of Action and NotAction")
    if ("Resource" in statement) == ("NotResource" in statement):
        raise UnsupportedPolicy(f"statement {statement!r}: needs exactly one of Resource and NotResource")
    if "Principal" in statement or "NotPrincipal" in statement:
        raise UnsupportedPolicy(f"statement {statement!r}: a principal belongs in a resource policy")
    condition = statement.get("Condition", {})
    if not isinstance(condition, Mapping):
        raise UnsupportedPolicy(f"statement {statement!r}: Condition must be an object")
    for operator in condition:
        _parse_operator(operator)


def _applies(statement: Mapping[str, Any], action: str, resource: str, context: Mapping[str, ContextValue]) -> bool:
    if "Action" in statement:
        if not _action_matches(_as_list(statement["Action"]), action):
            return False
    elif _action_matches(_as_list(statement["NotAction"]), action):
        return False
    if "Resource" in statement:
        if not _resource_matches(_as_list(statement["Resource"]), resource):
            return False
    elif _resource_matches(_as_list(statement["NotResource"]), resource):
        return False
    return all(
        _condition_holds(operator, key, expected, context)
        for operator, keys in statement.get("Condition", {}).items()
        for key, expected in keys.items()
    )


def explicitly_denied(
    statements: Iterable[Mapping[str, Any]],
    action: str,
    resource: str,
    context: Mapping[str, ContextValue] | None = None,
) -> bool:
    """Whether a Deny among ``statements`` applies to ``action`` on ``resource`` (it wins over any grant)."""
    denies = [s for s in statements if s.get("Effect") == "Deny"]
    return bool(denies) and not allowed([*denies, _ALLOW_ALL], action, resource, context)


def allowed(
    statements: Iterable[Mapping[str, Any]],
    action: str,
    resource: str,
    context: Mapping[str, ContextValue] | None = None,
) -> bool:
    """Whether identity policies allow ``action`` (``service:Operation``) on ``resource`` (an ARN, or ``*``).

    IAM's order: an explicit Deny that applies wins; else an Allow that applies allows; else the implicit deny.
    ``context`` holds the request's condition keys (``kms:EncryptionContext:...``, ``aws:SecureTransport``...), keys
    case-insensitive as in IAM. Every statement is checked first, so an unsupported operator raises whatever the
    request, rather than only when its statement happens to match.
    """
    if ":" not in action or "*" in action or "?" in action:
        raise ValueError(f"action {action!r}: expected service:Operation")
    listed = list(statements)
    for statement in listed:
        _check_statement(statement)
    keys = {k.lower(): v for k, v in (context or {}).items()}
    applying = [s for s in listed if _applies(s, action, resource, keys)]
    if any(s["Effect"] == "Deny" for s in applying):
        return False
    return any(s["Effect"] == "Allow" for s in applying)


# ---------------------------------------------------------------- KMS key policies

#: Allows everything: beside a policy's Deny statements, whether one of them applies.
_ALLOW_ALL: Statement = {"Effect": "Allow", "Action": "*", "Resource": "*"}


def _principals(statement: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """A key policy statement's (AWS principals, service principals); ``*`` and NotPrincipal raise."""
    if "NotPrincipal" in statement or statement.get("Principal") == "*":
        raise UnsupportedPolicy(f"statement {statement!r}: only named principals are modelled in a key policy")
    principal = statement.get("Principal")
    if not isinstance(principal, Mapping) or not set(principal) <= {"AWS", "Service"}:
        raise UnsupportedPolicy(f"statement {statement!r}: Principal must name AWS or Service principals")
    return [str(p) for p in _as_list(principal.get("AWS", []))], [
        str(p) for p in _as_list(principal.get("Service", []))
    ]


def key_policy_allows(
    key_policy: Mapping[str, Any],
    *,
    role_arn: str,
    account: str,
    action: str,
    key_arn: str,
    identity_allows: bool,
    identity_denies: bool = False,
    context: Mapping[str, ContextValue] | None = None,
) -> bool:
    """KMS's answer for a role of the key's own account: the key policy decides, IAM only where it delegates.

    A statement whose principal is the account (``arn:aws:iam::<account>:root`` or the bare id) lets identity
    policies grant: the call is allowed when ``identity_allows``. One naming the role allows it outright. An
    explicit Deny naming either wins, as does one in the role's own policies (``identity_denies``). Statements for
    services or other accounts do not apply to the role.
    """
    if identity_denies:
        return False
    account_principals = {f"arn:aws:iam::{account}:root", account}
    delegating, direct = [], []
    for statement in _statements(key_policy):
        aws, _services = _principals(statement)
        bare = {k: v for k, v in statement.items() if k != "Principal"}
        if account_principals & set(aws):
            delegating.append(bare)
        if role_arn in aws:
            direct.append(bare)
    if explicitly_denied(delegating + direct, action, key_arn, context):
        return False
    if allowed(direct, action, key_arn, context):
        return True
    return identity_allows and allowed(delegating, action, key_arn, context)
