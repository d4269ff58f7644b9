"""What IAM checks for one recorded AWS call: the (action, resource ARN) pairs AWS authorises it by.

Most calls are one action on one resource named in the request (``dynamodb:GetItem`` on the table's ARN). Some are
several: a ``TransactWriteItems`` is authorised per item, as ``PutItem``/``UpdateItem``/``DeleteItem``/
``ConditionCheckItem`` on each item's table; a ``TransactGetItems`` as ``GetItem`` on each; a batch as the batch
action on every table it names. Calls whose resource IAM does not scope (``cloudwatch:PutMetricData``, X-Ray) are
``*``. Names are turned into ARNs the way the service would (a table name, a queue URL, an event bus name); a KMS
alias is given as the alias ARN, which the caller resolves to its key when it knows the stack's aliases.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

Pair = tuple[str, str]

_TRANSACT_WRITE = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}
#: Actions whose resource is always "*" in IAM.
_UNSCOPED = {"cloudwatch:PutMetricData", "xray:PutTraceSegments", "xray:PutTelemetryRecords", "sts:GetCallerIdentity"}


def authorised_pairs(
    action: str, params: Mapping[str, Any], *, partition: str = "aws", region: str, account: str
) -> list[Pair]:
    """The (action, resource) pairs AWS would check for ``action`` called with ``params``."""
    if action in _UNSCOPED:
        return [(action, "*")]
    service, _, operation = action.partition(":")
    arn = f"arn:{partition}:{service}:{region}:{account}"
    if service == "dynamodb":
        return list(_dynamodb(operation, params, arn))
    if service == "kms":
        return [(action, _kms_key(str(params.get("KeyId", "*")), arn))]
    if service == "states":
        if "stateMachineArn" in params:
            return [(action, str(params["stateMachineArn"]))]
        if "executionArn" in params:
            return [(action, str(params["executionArn"]))]
        return [(action, "*")]  # a task token names no resource IAM can see
    if service == "secretsmanager":
        secret = str(params.get("SecretId", "*"))
        return [(action, secret if secret.startswith("arn:") else f"{arn}:secret:{secret}")]
    if service == "sns":
        return [(action, str(params.get("TopicArn") or params.get("TargetArn") or "*"))]
    if service == "sqs":
        url = str(params.get("QueueUrl", ""))
        return [(action, f"{arn}:{url.rstrip('/').rsplit('/', 1)[-1]}" if url else "*")]
    if service == "events":
        bus = str(params.get("EventBusName") or "default")
        if action == "events:PutEvents":
            buses = {str(entry.get("EventBusName") or "default") for entry in params.get("Entries", [])} or {bus}
            return [(action, b if b.startswith("arn:") else f"{arn}:event-bus/{b}") for b in sorted(buses)]
        return [(action, bus if bus.startswith("arn:") else f"{arn}:event-bus/{bus}")]
    if service == "s3":
        bucket, key = params.get("Bucket"), params.get("Key")
        if bucket is None:
            return [(action, "*")]
        return [(action, f"arn:{partition}:s3:::{bucket}" + (f"/{key}" if key is not None else ""))]
    if service == "lambda":
        name = str(params.get("FunctionName", "*"))
        return [(action, name if name.startswith("arn:") else f"{arn}:function:{name}")]
    return [(action, "*")]


def _table(arn: str, name: str) -> str:
    return name if name.startswith("arn:") else f"{arn}:table/{name}"


def _dynamodb(operation: str, params: Mapping[str, Any], arn: str) -> Iterator[Pair]:
    if operation == "TransactWriteItems":
        for item in params.get("TransactItems", []):
            for kind, request in item.items():
                yield f"dynamodb:{_TRANSACT_WRITE[kind]}", _table(arn, request["TableName"])
        return
    if operation == "TransactGetItems":
        for item in params.get("TransactItems", []):
            yield "dynamodb:GetItem", _table(arn, item["Get"]["TableName"])
        return
    if operation in ("BatchWriteItem", "BatchGetItem"):
        for name in params.get("RequestItems", {}):
            yield f"dynamodb:{operation}", _table(arn, name)
        return
    table = _table(arn, str(params.get("TableName", "*")))
    index = params.get("IndexName")
    yield f"dynamodb:{operation}", f"{table}/index/{index}" if index else table


def _kms_key(key_id: str, arn: str) -> str:
    if key_id.startswith("arn:") or key_id == "*":
        return key_id
    if key_id.startswith("alias/"):
        return f"{arn}:{key_id}"
    return f"{arn}:key/{key_id}"
