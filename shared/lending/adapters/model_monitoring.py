"""The monthly model-monitoring report over the stored applications (an offline job: it reads the whole table,
never on a request path)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lending.adapters.attribute_values import from_item
from lending.monitoring import MONTH, MonitoringReport, build_report
from lending.risk.policy import DecisionPolicy, load_policy
from lending.scoring.cards import shipped_card


def scored_in(dynamodb: Any, table: str, month: str) -> Iterator[dict[str, Any]]:
    """The monitoring fields of every application scored in ``month`` (YYYY-MM): a scan that reads only them."""
    if not MONTH.match(month):
        raise ValueError(f"the month must be YYYY-MM, not {month!r}")
    arguments: dict[str, Any] = {
        "TableName": table,
        "ProjectionExpression": "#score, #challenger, #bins",
        "FilterExpression": "begins_with(#score.#on, :month)",
        "ExpressionAttributeNames": {
            "#score": "score",
            "#challenger": "challenger_score",
            "#bins": "feature_bins",
            "#on": "scored_on",
        },
        "ExpressionAttributeValues": {":month": {"S": f"{month}-"}},
    }
    while True:
        page = dynamodb.scan(**arguments)
        for item in page.get("Items", []):
            yield from_item(item)
        if "LastEvaluatedKey" not in page:
            return
        arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def monitor_table(
    applications_table: str, month: str, *, region: str | None = None, policy: DecisionPolicy | None = None
) -> MonitoringReport:
    """The month's report: stability of scores and inputs against the cards' training samples, and agreement."""
    import boto3

    dynamodb = boto3.client("dynamodb", region_name=region)
    return build_report(
        month,
        scored_in(dynamodb, applications_table, month),
        card=shipped_card,
        cutoffs=(policy or load_policy()).score,
    )
