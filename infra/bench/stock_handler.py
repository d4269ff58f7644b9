"""The stock Powertools handler a cold request is held against: what the Powertools documentation shows, doing
the AWS calls a function's first request made and nothing else.

Module level, as the docs write it: ``Logger``, ``Tracer``, ``Metrics``, one boto3 session and a client per
service it calls, an ``APIGatewayRestResolver(enable_validation=True)`` for API functions and ``event_parser``
with a pydantic model for the others; for the scoring function, the ONNX sessions its models need. The calls come
from ``STOCK_CALLS`` (JSON: ``[service, operation, params]``, recorded from the function's own request) and are
replayed in order; their answers (often errors: the baseline's moto holds only the template's tables) are not
used, as the round trip is what is measured.
"""

import contextlib
import json
import os
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace="Bench")
app = APIGatewayRestResolver(enable_validation=True)

CALLS: list[list[Any]] = json.loads(os.environ["STOCK_CALLS"])
session = boto3.Session()
clients = {service: session.client(service) for service in sorted({service for service, _, _ in CALLS})}
if os.environ.get("STOCK_ONNX_MODELS"):
    import onnxruntime

    models = [
        onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
        for path in os.environ["STOCK_ONNX_MODELS"].split(os.pathsep)
    ]


class StepInput(BaseModel):
    """A workflow step's input: whatever the state machine passes."""

    model_config = ConfigDict(extra="allow")


def _snake(operation: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() and i else c.lower() for i, c in enumerate(operation))


@tracer.capture_method
def replay() -> int:
    for service, operation, params in CALLS:
        with contextlib.suppress(ClientError):
            getattr(clients[service], _snake(operation))(**params)
    return len(CALLS)


@app.route(".+", method=["GET", "POST"])
def any_route() -> dict[str, int]:
    return {"calls": replay()}


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def api_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
@event_parser(model=StepInput)
def step_handler(event: StepInput, context: LambdaContext) -> dict[str, int]:
    return {"calls": replay()}
