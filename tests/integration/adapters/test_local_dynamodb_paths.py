"""The local stack's shortcuts through moto's DynamoDB answer exactly as moto's own way does: the direct request path
(infra/local/dynamodb_requests.py), shared condition parses (conditions.py), one-partition queries (queries.py) and
item sizes (sizes.py). Each test runs the same requests both ways, on tables built afresh, and compares answers,
errors and what the tables hold afterwards."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import infra.local.dynamodb_requests as requests_module
from infra.local.conditions import shared_condition_parses
from infra.local.dynamodb_requests import direct_dynamodb_requests
from infra.local.queries import partition_queries
from infra.local.sizes import dynamo_size, exact_item_sizes

EXAMPLES = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

SCALARS = st.one_of(
    st.builds(lambda s: {"S": s}, st.text(alphabet='abcAction=&BS"é', min_size=1, max_size=6)),
    st.builds(lambda n: {"N": str(n)}, st.integers(-500, 500)),
    st.builds(lambda n: {"N": f"{n}.25"}, st.integers(-5, 5)),
    st.just({"BOOL": False}),
    st.just({"NULL": True}),
    st.builds(lambda b: {"B": b}, st.binary(min_size=1, max_size=4)),
    st.just({"SS": ["x", "y"]}),
    st.just({"NS": ["1", "2.5"]}),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.builds(lambda items: {"L": items}, st.lists(inner, max_size=3)),
        st.builds(lambda items: {"M": items}, st.dictionaries(st.sampled_from(["a", "B", "c d"]), inner, max_size=3)),
    ),
    max_leaves=8,
)
ATTRIBUTES = st.dictionaries(st.sampled_from(["a", "b", "n", "B"]), VALUES, max_size=3)


@pytest.fixture(scope="module")
def dynamodb(aws: Any) -> Any:
    return aws.client("dynamodb")


def _fresh_tables(dynamodb: Any) -> None:
    for name in ("plain", "ranged"):
        if name in dynamodb.list_tables()["TableNames"]:
            dynamodb.delete_table(TableName=name)
    dynamodb.create_table(
        TableName="plain",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.create_table(
        TableName="ranged",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )


def _answer(call: Callable[[], Any]) -> Any:
    """A call's answer without what is random per response (request id, date, CRC of a body with those)."""
    try:
        response = call()
    except Exception as error:  # an error is an answer too: compare its kind, code and message
        response = getattr(error, "response", None)
        if response is None:
            return ("raised", type(error).__name__, str(error))
    metadata = response.pop("ResponseMetadata", {})
    headers = {k: v for k, v in metadata.get("HTTPHeaders", {}).items() if k not in ("date", "x-amzn-requestid")}
    return metadata.get("HTTPStatusCode"), headers, response


@contextlib.contextmanager
def _counting_setups() -> Iterator[list[str]]:
    """Each request moto set up its own way (a DynamoHandler's setup_class), by X-Amz-Target."""
    from moto.core.responses import BaseResponse

    seen: list[str] = []
    setup = BaseResponse.setup_class

    def counting(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(str(request.headers.get("X-Amz-Target", "")))
        return setup(self, request, *args, **kwargs)

    with mock.patch.object(BaseResponse, "setup_class", counting):
        yield seen


def _requests(dynamodb: Any, item: dict[str, Any], other: dict[str, Any], value: dict[str, Any]) -> list[Any]:
    """Every operation the direct path takes, with answers that succeed, fail a condition, or are refused."""
    key = {"pk": {"S": "k"}}
    ranged = {"pk": {"S": "k"}, "sk": {"N": "1"}}
    return [
        lambda: dynamodb.put_item(TableName="plain", Item={**key, **item}),
        lambda: dynamodb.put_item(TableName="ranged", Item={**ranged, **item}),
        lambda: dynamodb.put_item(TableName="ranged", Item={"pk": {"S": "k"}, "sk": {"N": "2"}, **other}),
        lambda: dynamodb.get_item(TableName="plain", Key=key, ConsistentRead=True),
        lambda: dynamodb.get_item(TableName="plain", Key={"pk": {"S": "none"}}),
        lambda: dynamodb.get_item(TableName="missing", Key=key),
        lambda: dynamodb.put_item(
            TableName="plain",
            Item={**key, **other},
            ConditionExpression="attribute_not_exists(pk)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        ),
        lambda: dynamodb.put_item(TableName="plain", Item={"pk": {"S": ""}}),
        lambda: dynamodb.update_item(
            TableName="plain",
            Key=key,
            UpdateExpression="SET #v = :v ADD #n :one",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeNames={"#v": "v", "#n": "count"},
            ExpressionAttributeValues={":v": value, ":one": {"N": "1"}},
            ReturnValues="ALL_NEW",
        ),
        lambda: dynamodb.update_item(
            TableName="plain",
            Key=key,
            UpdateExpression="SET #v = :v",
            ExpressionAttributeNames={"#v": "v", "#unused": "x"},
            ExpressionAttributeValues={":v": value},
        ),
        lambda: dynamodb.query(
            TableName="ranged",
            KeyConditionExpression="pk = :p AND sk >= :low",
            ExpressionAttributeValues={":p": {"S": "k"}, ":low": {"N": "1"}},
            ScanIndexForward=False,
            Limit=1,
        ),
        lambda: dynamodb.scan(TableName="ranged", FilterExpression="attribute_exists(a)"),
        lambda: dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": "ranged", "Item": {"pk": {"S": "t"}, "sk": {"N": "1"}, **other}}},
                {
                    "Update": {
                        "TableName": "plain",
                        "Key": key,
                        "UpdateExpression": "SET #w = :w",
                        "ConditionExpression": "#w <> :w OR attribute_not_exists(#w)",
                        "ExpressionAttributeNames": {"#w": "w"},
                        "ExpressionAttributeValues": {":w": value},
                    }
                },
            ]
        ),
        lambda: dynamodb.transact_write_items(
            TransactItems=[
                {
                    "ConditionCheck": {
                        "TableName": "plain",
                        "Key": key,
                        "ConditionExpression": "attribute_not_exists(pk)",
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                },
                {"Delete": {"TableName": "ranged", "Key": ranged}},
            ]
        ),
        lambda: dynamodb.transact_get_items(
            TransactItems=[{"Get": {"TableName": "plain", "Key": key}}, {"Get": {"TableName": "ranged", "Key": ranged}}]
        ),
        lambda: dynamodb.batch_write_item(
            RequestItems={"ranged": [{"PutRequest": {"Item": {"pk": {"S": "b"}, "sk": {"N": "3"}, **item}}}]}
        ),
        lambda: dynamodb.batch_get_item(RequestItems={"ranged": {"Keys": [{"pk": {"S": "b"}, "sk": {"N": "3"}}]}}),
        lambda: dynamodb.delete_item(TableName="plain", Key=key, ReturnValues="ALL_OLD"),
    ]


@EXAMPLES
@given(item=ATTRIBUTES, other=ATTRIBUTES, value=VALUES)
def test_the_direct_request_path_answers_as_moto_does(
    dynamodb: Any, item: dict[str, Any], other: dict[str, Any], value: dict[str, Any]
) -> None:
    def moto_way() -> contextlib.AbstractContextManager[None]:
        return mock.patch.object(requests_module, "OPERATIONS", frozenset())

    calls = _requests(dynamodb, item, other, value)
    outcomes = []
    for shortcut in (moto_way, direct_dynamodb_requests):
        _fresh_tables(dynamodb)
        with shortcut():
            answers = [_answer(call) for call in calls]
        state = [dynamodb.scan(TableName=t, ConsistentRead=True)["Items"] for t in ("plain", "ranged")]
        outcomes.append((answers, state))
    assert outcomes[0] == outcomes[1]


def test_plain_requests_take_the_direct_path_and_binary_ones_go_motos_way(dynamodb: Any) -> None:
    _fresh_tables(dynamodb)
    with direct_dynamodb_requests(), _counting_setups() as set_up:
        dynamodb.put_item(TableName="plain", Item={"pk": {"S": "k"}, "m": {"M": {"BOOL": {"BOOL": True}}}})
        dynamodb.get_item(TableName="plain", Key={"pk": {"S": "k"}})
        assert set_up == []
        dynamodb.put_item(TableName="plain", Item={"pk": {"S": "k"}, "b": {"B": b"\x00"}})
        dynamodb.put_item(TableName="plain", Item={"pk": {"S": "k"}, "s": {"S": "Action=Scan"}})
        dynamodb.describe_table(TableName="plain")
    assert set_up == ["DynamoDB_20120810.PutItem"] * 2 + ["DynamoDB_20120810.DescribeTable"]


CONDITIONS = st.sampled_from(
    [
        "attribute_not_exists(pk)",
        "attribute_exists(#a) AND (attribute_not_exists(#v) OR #v = :x)",
        "#v >= :x OR #v < :y",
        "begins_with(#a, :x) AND NOT contains(#a, :y)",
        "#v BETWEEN :x AND :y",
        "size(#a) > :x",
        "#v IN (:x, :y)",
        "attribute_type(#a, :t)",
        "#v = :missing",
        "#undefined = :x",
        "(#v = :x",
    ]
)
OPERANDS = st.one_of(
    st.builds(lambda n: {"N": str(n)}, st.integers(-3, 3)),
    st.builds(lambda s: {"S": s}, st.sampled_from(["a", "ab", "b"])),
)


@EXAMPLES
@given(
    condition=CONDITIONS,
    x=OPERANDS,
    y=OPERANDS,
    extra=OPERANDS,
    items=st.lists(st.dictionaries(st.sampled_from(["a", "v", "pk"]), OPERANDS, max_size=3), min_size=1, max_size=4),
)
def test_a_shared_condition_parse_is_the_parse_moto_makes(
    condition: str, x: Any, y: Any, extra: Any, items: list[dict[str, Any]]
) -> None:
    from moto.dynamodb.comparisons import ConditionExpressionParser
    from moto.dynamodb.models.dynamo_type import Item

    names = {"#a": "a", "#v": "v"}
    cases = [
        {":x": x, ":y": y, ":t": {"S": "N"}, ":unused": extra},
        {":x": y, ":y": x, ":t": {"S": "S"}},
        {":x": x, ":y": y, ":t": {"S": "N"}, ":unused": {"N": "99"}},  # differs only where nothing reads it
    ]
    stored = [Item({"S": "k"}, None, attributes) for attributes in items]

    def parse_all() -> list[Any]:
        results: list[Any] = []
        for values in cases * 2:  # twice: the second round is answered from what the first one kept
            parser = ConditionExpressionParser(condition, names, values)
            try:
                tree = parser.parse()
            except Exception as error:
                results.append(("error", type(error).__name__, str(error)))
                continue
            verdicts = []
            for item in stored:
                try:
                    verdicts.append(tree.expr(item))
                except Exception as error:
                    verdicts.append(("error", type(error).__name__))
            results.append((parser.expr_attr_names_found, parser.expr_attr_values_found, verdicts))
        return results

    moto_results = parse_all()
    with shared_condition_parses():
        shared_results = parse_all()
    assert shared_results == moto_results


@EXAMPLES
@given(
    rows=st.lists(st.tuples(st.sampled_from(["p", "q", "r"]), st.integers(0, 30), VALUES), min_size=0, max_size=15),
    partition=st.sampled_from(["p", "q", "absent"]),
    comparison=st.sampled_from([None, "sk >= :s", "sk < :s", "sk BETWEEN :s AND :t"]),
    bound=st.integers(0, 30),
    forward=st.booleans(),
    limit=st.none() | st.integers(1, 4),
    filtered=st.booleans(),
)
def test_a_partition_query_answers_as_the_whole_table_scan_does(
    dynamodb: Any,
    rows: list[tuple[str, int, Any]],
    partition: str,
    comparison: str | None,
    bound: int,
    forward: bool,
    limit: int | None,
    filtered: bool,
) -> None:
    def pages() -> list[Any]:
        arguments: dict[str, Any] = {
            "TableName": "ranged",
            "KeyConditionExpression": "pk = :p" + (f" AND {comparison}" if comparison else ""),
            "ExpressionAttributeValues": {":p": {"S": partition}},
            "ScanIndexForward": forward,
        }
        if comparison:
            arguments["ExpressionAttributeValues"][":s"] = {"N": str(bound)}
            if "BETWEEN" in comparison:
                arguments["ExpressionAttributeValues"][":t"] = {"N": str(bound + 10)}
        if limit:
            arguments["Limit"] = limit
        if filtered:
            arguments["FilterExpression"] = "attribute_exists(a)"
        answers = []
        while True:
            page = dynamodb.query(**arguments)
            page.pop("ResponseMetadata")
            answers.append(page)
            if "LastEvaluatedKey" not in page:
                return answers
            arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    calls = [
        lambda row=row: dynamodb.put_item(
            TableName="ranged", Item={"pk": {"S": row[0]}, "sk": {"N": str(row[1])}, "a": row[2]}
        )
        for row in rows
    ]
    outcomes = []
    for use in (False, True):
        _fresh_tables(dynamodb)
        for call in calls:
            call()
        with partition_queries() if use else contextlib.nullcontext():
            outcomes.append(pages())
    assert outcomes[0] == outcomes[1]


@settings(max_examples=300, deadline=None)
@given(value=VALUES)
def test_an_item_size_is_the_size_moto_computes(value: dict[str, Any]) -> None:
    from moto.dynamodb.models.dynamo_type import DynamoType

    typed = DynamoType(value)
    moto_size = typed.size()
    assert dynamo_size(typed) == moto_size
    with exact_item_sizes():
        assert DynamoType(value).size() == moto_size
