"""The local runtime runs a function's handler in-process under moto's own invoke, records every AWS call the
handler makes (through botocore's ``before-parameter-build`` event) and refuses a call its role would not allow."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra.local.runtime import AwsCall, InProcessRuntime
from infra.local.template import FunctionSpec

REGION = "ap-east-1"

HANDLER = """
import boto3


def handler(event, context):
    print('{"_aws": "an EMF line, as Powertools metrics print it"}')
    dynamodb = boto3.session.Session().client("dynamodb", region_name="ap-east-1")
    item = dynamodb.get_item(TableName="notes", Key={"id": {"S": event["id"]}}).get("Item")
    return {"found": item is not None, "function": context.function_name}
"""


@pytest.fixture
def function(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, InProcessRuntime]]:
    for name, value in {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    }.items():
        monkeypatch.setenv(name, value)
    (tmp_path / "app.py").write_text(HANDLER)
    runtime = InProcessRuntime({"NotesFunction": FunctionSpec("NotesFunction", tmp_path, "app.handler", ())})
    with mock_aws(), runtime.installed():
        session = boto3.session.Session(region_name=REGION)
        session.client("dynamodb").create_table(
            TableName="notes",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        role = session.client("iam").create_role(RoleName="notes", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w") as code:
            code.writestr("app.py", HANDLER)
        created = session.client("lambda").create_function(
            FunctionName="notes-fn", Runtime="python3.13", Role=role, Handler="app.handler",
            Code={"ZipFile": archive.getvalue()},
        )  # fmt: skip
        runtime.bind({"NotesFunction": created["FunctionName"]})
        yield session.client("lambda"), runtime


def _invoke(lambda_client: Any, event: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    answer = lambda_client.invoke(FunctionName="notes-fn", Payload=json.dumps(event).encode())
    return json.loads(answer["Payload"].read()), "FunctionError" in answer


def test_a_function_runs_in_process_and_each_of_its_calls_is_recorded_as_its_iam_action(function: Any) -> None:
    lambda_client, runtime = function
    # When the function is invoked through moto's Lambda API
    payload, errored = _invoke(lambda_client, {"id": "n-1"})
    # Then its handler ran here, and its one AWS call is recorded under the function, as IAM names it
    assert (payload, errored) == ({"found": False, "function": "notes-fn"}, False)
    assert runtime.calls == [
        AwsCall("NotesFunction", "dynamodb:GetItem", {"TableName": "notes", "Key": {"id": {"S": "n-1"}}})
    ]
    # And calls made outside a function (this test's own) are nobody's
    boto3.session.Session(region_name=REGION).client("dynamodb").list_tables()
    assert len(runtime.calls) == 1


def test_a_call_the_role_does_not_allow_is_refused_as_aws_refuses_it(function: Any) -> None:
    lambda_client, runtime = function
    runtime.authorise = lambda call: "not allowed here" if call.action == "dynamodb:GetItem" else None
    # When the function makes a call its role does not allow
    payload, errored = _invoke(lambda_client, {"id": "n-1"})
    # Then botocore raised AWS's refusal inside the handler, and nothing reached DynamoDB
    assert errored
    assert payload["errorType"] == "ClientError"
    assert "AccessDeniedException" in payload["errorMessage"]
    assert "not allowed here" in payload["errorMessage"]


def test_what_a_function_prints_goes_to_its_log_never_into_the_process_stdout(
    function: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    lambda_client, runtime = function
    # When the function prints (Powertools' metrics print their EMF lines, even disabled once 100 values pile up)
    _invoke(lambda_client, {"id": "n-1"})
    # Then it is in the function's log, as Lambda sends stdout to CloudWatch Logs, and not in what a console
    # command running beside the stack prints
    assert "an EMF line" not in capsys.readouterr().out
    assert [line.strip() for line in runtime.output["NotesFunction"]] == [
        '{"_aws": "an EMF line, as Powertools metrics print it"}'
    ]
