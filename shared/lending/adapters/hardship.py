"""Hardship requests in DynamoDB (HardshipTable; keys and index in template.yaml).

Two kinds of item share the table, keyed by ``request_id``:
- a request (``hr_…``): its fields as lending.steps.hardship writes them; while it waits for an underwriter it
  carries ``review_queue`` and so sits in the sparse ``HardshipQueue`` index (review_queue, requested_at);
- a loan's claim (``loan#<loan_id>``): ``holder`` is the request open on the loan, if any. A request is opened
  in one transaction with the claim, on condition that no other request holds it, so two requests at once on one
  loan cannot both open; ending a request releases the claim in one transaction with its final status.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lending.adapters.attribute_values import from_item, to_attribute, to_item
from lending.adapters.aws import client
from lending.errors import HardshipInProgress, HardshipNotFound

QUEUE_INDEX = "HardshipQueue"
_ENDED = ("RESTRUCTURED", "DECLINED", "EXPIRED")


def claim_key(loan_id: str) -> str:
    return f"loan#{loan_id}"


class HardshipRepository:
    def __init__(self, table_name: str) -> None:
        self._table = table_name
        self._dynamodb = client("dynamodb")

    def find(self, request_id: str) -> dict[str, Any] | None:
        response = self._dynamodb.get_item(
            TableName=self._table, Key={"request_id": {"S": request_id}}, ConsistentRead=True
        )
        item = response.get("Item")
        return None if item is None else from_item(item)

    def get(self, request_id: str) -> dict[str, Any]:
        request = self.find(request_id)
        if request is None:
            raise HardshipNotFound(f"no hardship request {request_id}")
        return request

    def open(self, request: Mapping[str, Any]) -> bool:
        """Store a new request and claim its loan for it, both or neither: False when the request exists (the same
        Idempotency-Key again), HardshipInProgress when another request holds the loan."""
        request_id = str(request["request_id"])
        items = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": to_item(request),
                    # Protects a request id (the borrower's Idempotency-Key) from being written twice.
                    "ConditionExpression": "attribute_not_exists(request_id)",
                }
            },
            {
                "Update": {
                    "TableName": self._table,
                    "Key": {"request_id": {"S": claim_key(str(request["loan_id"]))}},
                    "UpdateExpression": "SET holder = :id",
                    # Protects the loan from a second open request: only an unclaimed loan can be claimed.
                    "ConditionExpression": "attribute_not_exists(holder)",
                    "ExpressionAttributeValues": {":id": {"S": request_id}},
                }
            },
        ]
        try:
            self._dynamodb.transact_write_items(TransactItems=items)
        except self._dynamodb.exceptions.TransactionCanceledException as exc:
            codes = [str(r.get("Code", "None")) for r in exc.response.get("CancellationReasons", [])]
            if codes and codes[0] == "ConditionalCheckFailed":
                return False
            if len(codes) > 1 and codes[1] == "ConditionalCheckFailed":
                raise HardshipInProgress("the loan has a hardship request open; it must end first") from None
            raise
        return True

    def update(
        self,
        request_id: str,
        updates: Mapping[str, Any],
        *,
        status_in: tuple[str, ...],
        absent: str | None = None,
        removes: tuple[str, ...] = (),
    ) -> dict[str, Any] | None:
        """Set ``updates`` (and remove ``removes``) if the request's status is one of ``status_in`` and, when
        given, it has no ``absent`` attribute yet; the request after it, or None when the condition failed."""
        names = {"#status": "status", "#id": "request_id"}
        values: dict[str, Any] = {f":s{i}": {"S": s} for i, s in enumerate(status_in)}
        clauses = []
        if updates:
            names.update({f"#u{i}": name for i, name in enumerate(updates)})
            values.update({f":u{i}": to_attribute(value) for i, value in enumerate(updates.values())})
            clauses.append("SET " + ", ".join(f"#u{i} = :u{i}" for i in range(len(updates))))
        if removes:
            names.update({f"#r{i}": name for i, name in enumerate(removes)})
            clauses.append("REMOVE " + ", ".join(f"#r{i}" for i in range(len(removes))))
        condition = f"attribute_exists(#id) AND #status IN ({', '.join(f':s{i}' for i in range(len(status_in)))})"
        if absent is not None:
            names["#absent"] = absent
            condition += " AND attribute_not_exists(#absent)"
        try:
            response = self._dynamodb.update_item(
                TableName=self._table,
                Key={"request_id": {"S": request_id}},
                UpdateExpression=" ".join(clauses),
                # Protects the request's course: a step moves it only from the statuses it may come from, and a
                # decision or an acceptance is recorded once.
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        except self._dynamodb.exceptions.ConditionalCheckFailedException:
            return None
        return from_item(response["Attributes"])

    def close(self, request: Mapping[str, Any], status: str, updates: Mapping[str, Any]) -> bool:
        """End the request with ``status`` and release its loan's claim, both or neither; False when it had ended
        already (a retried step)."""
        request_id = str(request["request_id"])
        values = {"status": status, **updates}
        names = {f"#u{i}": name for i, name in enumerate(values)} | {"#status": "status", "#queue": "review_queue"}
        attributes = {f":u{i}": to_attribute(value) for i, value in enumerate(values.values())}
        attributes |= {f":e{i}": {"S": s} for i, s in enumerate(_ENDED)}
        items = [
            {
                "Update": {
                    "TableName": self._table,
                    "Key": {"request_id": {"S": request_id}},
                    "UpdateExpression": "SET "
                    + ", ".join(f"#u{i} = :u{i}" for i in range(len(values)))
                    + " REMOVE #queue",
                    # Protects an ended request from being ended again (its status and the event said once).
                    "ConditionExpression": f"NOT #status IN ({', '.join(f':e{i}' for i in range(len(_ENDED)))})",
                    "ExpressionAttributeNames": names,
                    "ExpressionAttributeValues": attributes,
                }
            },
            {
                "Update": {
                    "TableName": self._table,
                    "Key": {"request_id": {"S": claim_key(str(request["loan_id"]))}},
                    "UpdateExpression": "REMOVE holder",
                    # Protects another request's claim: only the request holding the loan releases it.
                    "ConditionExpression": "holder = :id",
                    "ExpressionAttributeValues": {":id": {"S": request_id}},
                }
            },
        ]
        try:
            self._dynamodb.transact_write_items(TransactItems=items)
        except self._dynamodb.exceptions.TransactionCanceledException:
            current = self.get(request_id)
            if current["status"] in _ENDED:
                return False
            raise
        return True

    def queue(self, limit: int = 100) -> list[dict[str, Any]]:
        """Requests waiting for an underwriter, oldest first."""
        response = self._dynamodb.query(
            TableName=self._table,
            IndexName=QUEUE_INDEX,
            KeyConditionExpression="review_queue = :queue",
            ExpressionAttributeValues={":queue": {"S": "hardship"}},
            ScanIndexForward=True,
            Limit=limit,
        )
        return [from_item(item) for item in response.get("Items", [])]


def hardship_requests() -> HardshipRepository:
    """The repository of the current function, from its settings."""
    from lending.adapters.settings import HardshipSettings, settings

    return HardshipRepository(settings(HardshipSettings).hardship_table)


def publisher(detail_type: str, detail: Mapping[str, Any]) -> None:
    """A hardship event on the lending event bus (consumers dedupe by ``request_id`` and the detail type)."""
    from lending.adapters.events import put_events
    from lending.adapters.settings import EventBusSettings, settings

    bus = settings(EventBusSettings).event_bus_name
    put_events(bus, "lending.hardship", [(detail_type, detail)], f"{detail_type} for {detail.get('request_id')}")


def start_hardship_flow(request_id: str) -> None:
    """Start the request's HardshipFlow execution, named by it: a second start is a no-op."""
    import json

    from lending.adapters.settings import HardshipFlowSettings, settings

    stepfunctions = client("stepfunctions")
    try:
        stepfunctions.start_execution(
            stateMachineArn=settings(HardshipFlowSettings).hardship_state_machine_arn,
            name=request_id,
            input=json.dumps({"request_id": request_id}),
        )
    except stepfunctions.exceptions.ExecutionAlreadyExists:
        return
