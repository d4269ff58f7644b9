"""Applications in DynamoDB (ApplicationsTable). Keys and indexes are described in template.yaml.

Every write that changes an application's status is conditional on the statuses it may come from
(:data:`lending.origination.ALLOWED_FROM`), so a retried or replayed workflow step cannot move an application
backwards, and two underwriters cannot both decide one application.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lending.adapters.attribute_values import from_item as _from_item
from lending.adapters.attribute_values import to_item as _to_item
from lending.adapters.aws import client
from lending.errors import ApplicationNotFound, NotAwaitingAcceptance, StatusConflict, TooManyContracts
from lending.origination import ALLOWED_FROM, Status

REVIEW_QUEUE = "PENDING"  # the one partition of the sparse ReviewQueue index
#: How many contract variants (amount, term, issue day) one application keeps: enough for a borrower trying
#: amounts, few enough that the item stays small.
MAX_CONTRACTS = 40


class ApplicationRepository:
    """Reads and conditional writes of application records."""

    def __init__(self, table_name: str) -> None:
        self._table = table_name
        self._dynamodb = client("dynamodb")

    def create(self, application: Mapping[str, Any]) -> bool:
        """Store a new application; False when one with this id exists (a retried intake)."""
        try:
            self._dynamodb.put_item(
                TableName=self._table,
                Item=_to_item(application),
                # Protects an application id from ever being written twice.
                ConditionExpression="attribute_not_exists(application_id)",
            )
        except self._dynamodb.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def get(self, application_id: str) -> dict[str, Any]:
        """The application, or ApplicationNotFound."""
        response = self._dynamodb.get_item(
            TableName=self._table, Key=_to_item({"application_id": application_id}), ConsistentRead=True
        )
        if "Item" not in response:
            raise ApplicationNotFound(f"no application {application_id}")
        return _from_item(response["Item"])

    def get_owned(self, application_id: str, borrower_id: str) -> dict[str, Any]:
        """The application if ``borrower_id`` owns it; otherwise exactly as if it did not exist."""
        application = self.get(application_id)
        if application.get("borrower_id") != borrower_id:
            raise ApplicationNotFound(f"no application {application_id}")
        return application

    def move(
        self,
        application_id: str,
        target: Status,
        updates: Mapping[str, Any] | None = None,
        removes: tuple[str, ...] = (),
    ) -> dict[str, Any]:
        """Set the status to ``target`` (and ``updates``) if the current status allows it; returns the new record.

        Arriving at the status the application already has is allowed, so a retried step succeeds; it rewrites the
        same values it wrote the first time.
        """
        values = {"status": target.value, **(updates or {})}
        names = {f"#f{i}": name for i, name in enumerate(values)}
        assignments = ", ".join(f"#f{i} = :v{i}" for i in range(len(values)))
        expression = f"SET {assignments}"
        if removes:
            names.update({f"#r{i}": name for i, name in enumerate(removes)})
            expression += " REMOVE " + ", ".join(f"#r{i}" for i in range(len(removes)))
        allowed = sorted({target.value, *(s.value for s in ALLOWED_FROM[target])})
        attribute_values = {f":v{i}": value for i, value in enumerate(values.values())}
        attribute_values.update({f":s{i}": status for i, status in enumerate(allowed)})
        try:
            response = self._dynamodb.update_item(
                TableName=self._table,
                Key=_to_item({"application_id": application_id}),
                UpdateExpression=expression,
                # Protects the workflow's order: only a status this one may follow (or itself, on a retry).
                ConditionExpression="attribute_exists(application_id) AND #status IN ("
                + ", ".join(f":s{i}" for i in range(len(allowed)))
                + ")",
                ExpressionAttributeNames={**names, "#status": "status"},
                ExpressionAttributeValues=_to_item(attribute_values),
                ReturnValues="ALL_NEW",
            )
        except self._dynamodb.exceptions.ConditionalCheckFailedException:
            current = self.get(application_id)
            raise StatusConflict(
                f"application {application_id} is {current.get('status')}; it cannot become {target}"
            ) from None
        return _from_item(response["Attributes"])

    def set_fields(self, application_id: str, updates: Mapping[str, Any], only_once: str | None = None) -> bool:
        """Set fields without a status change; with ``only_once``, only if that attribute is not yet set."""
        names = {f"#f{i}": name for i, name in enumerate(updates)}
        condition = "attribute_exists(application_id)"
        if only_once:
            names["#once"] = only_once
            condition += " AND attribute_not_exists(#once)"
        try:
            self._dynamodb.update_item(
                TableName=self._table,
                Key=_to_item({"application_id": application_id}),
                UpdateExpression="SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(updates))),
                # Protects a record from being created by an update, and a once-only fact from being rewritten.
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=_to_item({f":v{i}": v for i, v in enumerate(updates.values())}),
            )
        except self._dynamodb.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def queue_for_review(self, application_id: str, referred_at: str, task_token: str) -> dict[str, Any]:
        """Move the application UNDER_REVIEW into the underwriters' queue (the sparse ReviewQueue index), with
        the time it joined and the token its decision resumes; a retry rewrites the same values."""
        return self.move(
            application_id,
            Status.UNDER_REVIEW,
            {"review_queue": REVIEW_QUEUE, "referred_at": referred_at, "review_task_token": task_token},
        )

    def review_queue(self, limit: int = 100) -> list[dict[str, Any]]:
        """Applications waiting for an underwriter, oldest referral first (the sparse ReviewQueue index)."""
        response = self._dynamodb.query(
            TableName=self._table,
            IndexName="ReviewQueue",
            KeyConditionExpression="review_queue = :queue",
            ExpressionAttributeValues=_to_item({":queue": REVIEW_QUEUE}),
            ScanIndexForward=True,
            Limit=limit,
        )
        return [_from_item(item) for item in response.get("Items", [])]

    def record_review(self, application_id: str, decision: Mapping[str, Any]) -> dict[str, Any]:
        """Record an underwriter's decision once; a second decision is a StatusConflict."""
        target = Status.APPROVED if decision["decision"] == "approve" else Status.DECLINED
        try:
            response = self._dynamodb.update_item(
                TableName=self._table,
                Key=_to_item({"application_id": application_id}),
                UpdateExpression="SET #status = :target, underwriter = :decision REMOVE review_queue",
                # Protects a referral from being decided twice (two underwriters, or one clicking twice).
                ConditionExpression="#status = :waiting AND attribute_not_exists(underwriter)",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=_to_item(
                    {":target": target.value, ":decision": dict(decision), ":waiting": Status.UNDER_REVIEW.value}
                ),
                ReturnValues="ALL_NEW",
            )
        except self._dynamodb.exceptions.ConditionalCheckFailedException:
            raise StatusConflict(f"application {application_id} is not waiting for a decision") from None
        return _from_item(response["Attributes"])

    def issue_contract(self, application_id: str, sha256: str, terms: Mapping[str, Any]) -> None:
        """Keep a contract issued to the borrower (by its hash, with the terms that rebuild it) so that accepting it
        can be checked; issuing one again is a no-op. TooManyContracts once the application keeps MAX_CONTRACTS."""
        try:
            self._dynamodb.update_item(
                TableName=self._table,
                Key=_to_item({"application_id": application_id}),
                UpdateExpression="SET contracts.#sha = :terms",
                # Protects the offer's end (no contract issued once it is accepted, expired or declined) and the
                # item's size (a bounded number of variants; one already kept may be written again).
                ConditionExpression="#status = :approved AND attribute_not_exists(accepted) AND "
                "(attribute_exists(contracts.#sha) OR size(contracts) < :most)",
                ExpressionAttributeNames={"#sha": sha256, "#status": "status"},
                ExpressionAttributeValues=_to_item(
                    {":terms": dict(terms), ":approved": Status.APPROVED.value, ":most": MAX_CONTRACTS}
                ),
            )
        except self._dynamodb.exceptions.ConditionalCheckFailedException:
            current = self.get(application_id)
            if current.get("status") == Status.APPROVED.value and not current.get("accepted"):
                raise TooManyContracts(
                    f"application {application_id} has {MAX_CONTRACTS} contract variants already; accept one of them"
                ) from None
            raise NotAwaitingAcceptance(f"application {application_id} is not waiting for acceptance") from None

    def record_acceptance(self, application_id: str, sha256: str, accepted: Mapping[str, Any]) -> bool:
        """Record the borrower's acceptance of the issued contract ``sha256``, once; False when the application
        accepted a contract before, or stopped waiting for acceptance (the caller reads why)."""
        try:
            self._dynamodb.update_item(
                TableName=self._table,
                Key=_to_item({"application_id": application_id}),
                UpdateExpression="SET accepted = :accepted",
                # Protects the acceptance from being made twice (two taps, two devices) or of a contract never
                # issued for this application, or after the offer ended.
                ConditionExpression="#status = :approved AND attribute_not_exists(accepted) AND "
                "attribute_exists(contracts.#sha)",
                ExpressionAttributeNames={"#sha": sha256, "#status": "status"},
                ExpressionAttributeValues=_to_item({":accepted": dict(accepted), ":approved": Status.APPROVED.value}),
            )
        except self._dynamodb.exceptions.ConditionalCheckFailedException:
            return False
        return True
