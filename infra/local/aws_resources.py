"""What IAM checks for one recorded AWS call: the (action, resource ARN) pairs AWS authorises it by.

Most calls are one action on one resource named in the request (``dynamodb:GetItem`` on the table's ARN). Some are
several: a ``TransactWriteItems`` is authorised per item, as ``PutItem``/``UpdateItem``/``DeleteItem``/
``ConditionCheckItem`` on each item's table; a ``TransactGetItems`` as ``GetItem`` on each; a batch as the batch
action on every table it names. Calls whose resource IAM does not scope (``cloudwatch:PutMetricData``, X-Ray) are
``*``. Names are turned into ARNs the way the service would (a table name, a queue URL, an event bus name); a KMS
alias is given as the alias ARN, which the caller resolves to its key when it knows the stack's aliases.

:func:`authorised_requests` adds the request's condition keys where the template's policies use them: for a
DynamoDB item operation (one item: Get, Put, Update, Delete, ConditionCheck, also inside a transaction),
``dynamodb:LeadingKeys`` is the item's partition key value, given each table's partition key attribute (for a
``BatchGetItem``, every key's partition value of the table). A Query's
partition key lies in its key condition expression, which is not parsed: its LeadingKeys are absent, and a
``ForAllValues:`` condition on an absent key holds, so a policy must not rely on LeadingKeys to narrow a Query
(the template's definition test keeps them on UpdateItem).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

Pair = tuple[str, str]
#: An action, its resource, and the request's condition keys (name to values).
Request = tuple[str, str, dict[str, list[str]]]

_TRANSACT_WRITE = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}
#: DynamoDB operations on one item, whose partition key value is ``dynamodb:LeadingKeys``.
_ITEM_OPERATIONS = frozenset({"GetItem", "PutItem", "UpdateItem", "DeleteItem"})
#: Actions whose resource is always "*" in IAM.
_UNSCOPED = {"cloudwatch:PutMetricData", "xray:PutTraceSegments", "xray:PutTelemetryRecords", "sts:GetCallerIdentity"}


def authorised_pairs(
    action: str, params: Mapping[str, Any], *, partition: str = "aws", region: str, account: str
) -> list[Pair]:
    """The (action, resource) pairs AWS would check for ``action`` called with ``params``."""
    return [
        (a, r) for a, r, _ in authorised_requests(action, params, partition=partition, region=region, account=account)
    ]


def authorised_requests(
    action: str,
    params: Mapping[str, Any],
    *,
    partition: str = "aws",
    region: str,
    account: str,
    partition_keys: Mapping[str, str] | None = None,
) -> list[Request]:
    """The (action, resource, condition keys) AWS would check for ``action`` called with ``params``.

    ``partition_keys``: each table's partition key attribute by table name, for ``dynamodb:LeadingKeys``.
    """
    if action.startswith("dynamodb:"):
        arn = f"arn:{partition}:dynamodb:{region}:{account}"
        return list(_dynamodb(action.partition(":")[2], params, arn, partition_keys or {}))
    return [(a, r, {}) for a, r in _pairs(action, params, partition=partition, region=region, account=account)]


def _pairs(action: str, params: Mapping[str, Any], *, partition: str, region: str, account: str) -> list[Pair]:
    if action in _UNSCOPED:
        return [(action, "*")]
    service = action.partition(":")[0]
    arn = f"arn:{partition}:{service}:{region}:{account}"
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


def _dynamodb(
    operation: str, params: Mapping[str, Any], arn: str, partition_keys: Mapping[str, str]
) -> Iterator[Request]:
    def item(action: str, request: Mapping[str, Any]) -> Request:
        name = str(request.get("TableName", "*"))
        keys: dict[str, list[str]] = {}
        attribute = partition_keys.get(name.rsplit("/", 1)[-1])
        record = request.get("Key") or request.get("Item") or {}
        if attribute in record:
            value = record[attribute]
            keys["dynamodb:LeadingKeys"] = [str(next(iter(value.values())) if isinstance(value, Mapping) else value)]
        return f"dynamodb:{action}", _table(arn, name), keys

    if operation == "TransactWriteItems":
        for entry in params.get("TransactItems", []):
            for kind, request in entry.items():
                yield item(_TRANSACT_WRITE[kind], request)
        return
    if operation == "TransactGetItems":
        for entry in params.get("TransactItems", []):
            yield item("GetItem", entry["Get"])
        return
    if operation == "BatchGetItem":
        # One request per table, its condition keys every key's partition value (as IAM evaluates LeadingKeys).
        for name, request in params.get("RequestItems", {}).items():
            attribute = partition_keys.get(name.rsplit("/", 1)[-1])
            values = [
                str(next(iter(key[attribute].values())) if isinstance(key[attribute], Mapping) else key[attribute])
                for key in request.get("Keys", [])
                if attribute in key
            ]
            yield "dynamodb:BatchGetItem", _table(arn, name), {"dynamodb:LeadingKeys": values} if values else {}
        return
    if operation == "BatchWriteItem":
        for name in params.get("RequestItems", {}):
            yield f"dynamodb:{operation}", _table(arn, name), {}
        return
    if operation in _ITEM_OPERATIONS:
        yield item(operation, params)
        return
    table = _table(arn, str(params.get("TableName", "*")))
    index = params.get("IndexName")
    yield f"dynamodb:{operation}", f"{table}/index/{index}" if index else table, {}


def _kms_key(key_id: str, arn: str) -> str:
    if key_id.startswith("arn:") or key_id == "*":
        return key_id
    if key_id.startswith("alias/"):
        return f"{arn}:{key_id}"
    return f"{arn}:key/{key_id}"
