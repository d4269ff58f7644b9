"""Run the template's Lambda functions in this process, underneath moto's own invoke path.

moto runs Lambda code in Docker, which this machine does not have. Its single private seam,
``LambdaFunction._invoke_lambda(self, event) -> (payload, errored, logs)`` (same signature in moto 4.2–5.2; moto is
pinned), is replaced by :class:`InProcessRuntime`; everything above it stays moto's: ``lambda.invoke``, Step
Functions tasks, event source mappings. Each invocation sees its own environment (the template's, as moto resolved
it) through :func:`lending.adapters.environment.provided_environment`, so concurrent invocations never share
``os.environ``.

Every AWS call a function's code makes while it runs is recorded (:class:`AwsCall`, ``InProcessRuntime.calls``):
the IAM action botocore's operation maps to and the function that made it. It is the evidence for what each role
must grant (issue 12 checks it against the template's roles).

State machines created by moto's CloudFormation land in moto's plain Step Functions backend, which never runs
them; :func:`executing_state_machines` makes CloudFormation create them in the backend that executes ASL.
"""

from __future__ import annotations

import base64
import contextlib
import enum
import importlib.util
import json
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any
from unittest import mock

from infra.local.template import FunctionSpec
from lending.adapters.environment import provided_environment


@dataclass
class LambdaContext:
    """The attributes of AWS's context object that handlers and Powertools read."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    timeout_seconds: int
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = ""
    log_stream_name: str = "local"
    _deadline: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self._deadline = time.monotonic() + self.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(int((self._deadline - time.monotonic()) * 1000), 0)


@dataclass(frozen=True, slots=True)
class Invocation:
    """One finished invocation, kept for tests and the benchmark's accounting."""

    function: str  # logical id
    started: float
    seconds: float
    errored: bool
    error_type: str | None


@dataclass(frozen=True, slots=True)
class AwsCall:
    """One AWS call a function's code made: who, the IAM action, and the request's parameters (values included:
    kept in memory only, for matching resources; never logged)."""

    function: str  # logical id
    action: str  # e.g. "dynamodb:GetItem"
    params: dict[str, Any]


#: API operations whose IAM action has another name (Service Authorization Reference); every other operation's
#: action is its own name.
_IAM_ACTIONS = {
    "lambda:Invoke": "lambda:InvokeFunction",
    "lambda:InvokeAsync": "lambda:InvokeFunction",
    "s3:HeadObject": "s3:GetObject",
    "s3:HeadBucket": "s3:ListBucket",
    "s3:ListObjects": "s3:ListBucket",
    "s3:ListObjectsV2": "s3:ListBucket",
}

#: The principal whose code runs on this thread: a function while its handler runs, a state machine while one of
#: its Lambda tasks invokes a function (moto's other threads have none).
_running = threading.local()


class InProcessRuntime:
    """Maps moto's functions (by physical name) to the template's code and runs their handlers here."""

    def __init__(self, specs: dict[str, FunctionSpec]) -> None:
        self._specs = specs
        self._by_name: dict[str, FunctionSpec] = {}
        self._state_machines: dict[str, str] = {}  # ARN -> logical id
        self._handlers: dict[str, Callable[[Any, Any], Any]] = {}
        self._lock = threading.Lock()
        # A Lambda container runs one invocation at a time; here every function shares one interpreter, whose
        # module globals (a resolver's current event, Powertools' and boto3's process state) two concurrent
        # invocations would share. So invocations take turns. Nothing waits inside a handler for another
        # function (task tokens resume executions on moto's own threads), so turns cannot deadlock.
        self._turn = threading.Lock()
        self.invocations: list[Invocation] = []
        self.calls: list[AwsCall] = []
        #: Set by the platform once the stack is deployed: the refusal AWS would give a call, or None to let it run.
        self.authorise: Callable[[AwsCall], str | None] | None = None
        self.last_error = ""

    def bind(self, physical_names: dict[str, str]) -> None:
        """Tell the runtime which deployed function name is which template function."""
        for logical_id, name in physical_names.items():
            if logical_id in self._specs:
                self._by_name[name] = self._specs[logical_id]

    def bind_state_machines(self, by_arn: dict[str, str]) -> None:
        """Tell the runtime which deployed state machine (by ARN) is which template state machine."""
        self._state_machines.update(by_arn)

    def handler_for(self, spec: FunctionSpec) -> Callable[[Any, Any], Any]:
        """Import a function's module once, under a name of its own, and return its handler."""
        with self._lock:
            if spec.logical_id not in self._handlers:
                module_name, _, attribute = spec.handler.rpartition(".")
                path = spec.code_dir / f"{module_name.replace('.', '/')}.py"
                module_spec = importlib.util.spec_from_file_location(f"lambda_{spec.logical_id}", path)
                if module_spec is None or module_spec.loader is None:
                    raise ImportError(f"cannot load {path}")
                module: ModuleType = importlib.util.module_from_spec(module_spec)
                module_spec.loader.exec_module(module)
                self._handlers[spec.logical_id] = getattr(module, attribute)
            return self._handlers[spec.logical_id]

    def invoke(self, function: Any, event: Any) -> tuple[str, bool, str]:
        """Run the handler behind moto's ``function`` with ``event``; the result in moto's own shape."""
        spec = self._by_name.get(function.function_name)
        if spec is None:
            payload = {"errorType": "ResourceNotFound", "errorMessage": f"no local code for {function.function_name}"}
            return json.dumps(payload), True, ""
        if isinstance(event, str | bytes):
            event = json.loads(event) if event else {}
        environment = {
            "AWS_LAMBDA_FUNCTION_NAME": function.function_name,
            "AWS_REGION": function.region,
            **{k: str(v) for k, v in (function.environment_vars or {}).items()},
        }
        context = LambdaContext(
            function.function_name, function.function_arn, int(function.memory_size), int(function.timeout)
        )
        error_type = None
        with self._turn:
            started = time.perf_counter()  # after waiting for the turn: the function's own time
            caller = getattr(_running, "function", None)  # a state machine, when its task invoked the function
            _running.function = spec.logical_id
            try:
                with provided_environment(environment):
                    # Imported (its init run) on its first invocation, with its environment, as Lambda does.
                    handler = self.handler_for(spec)
                    result = handler(event, context)
                payload, errored = json.dumps(result), False
            except Exception as exc:  # a Lambda function error: reported in the payload, as AWS does
                error_type = type(exc).__name__
                self.last_error = "".join(traceback.format_exception(exc))
                payload = json.dumps(
                    {
                        "errorType": error_type,
                        "errorMessage": str(exc),
                        "stackTrace": traceback.format_exception(exc)[-5:],
                    }
                )
                errored = True
            finally:
                _running.function = caller
        self.invocations.append(
            Invocation(spec.logical_id, started, time.perf_counter() - started, errored, error_type)
        )
        return payload, errored, ""

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        """Replace moto's Docker invoke with this runtime for the duration of the block."""
        from moto.awslambda.models import LambdaFunction

        runtime = self

        def _invoke_lambda(self: Any, event: Any = None) -> tuple[str, bool, str]:
            return runtime.invoke(self, event)

        from botocore.client import BaseClient

        make_api_call = BaseClient._make_api_call

        def _recorded(client: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
            function = getattr(_running, "function", None)
            if function is not None:
                model = client.meta.service_model
                prefix = model.signing_name or model.endpoint_prefix
                params = dict(api_params)
                if operation_name.startswith("SendTask") and "taskToken" in params:
                    # IAM authorises a task token's answer on the state machine that issued it; the token does not
                    # say which, so it is found while the execution still waits for it.
                    owner = _token_owner(str(params["taskToken"]), client.meta.region_name)
                    if owner is not None:
                        params["stateMachineArn"] = owner
                action = f"{prefix}:{operation_name}"
                call = AwsCall(function, _IAM_ACTIONS.get(action, action), params)
                runtime.calls.append(call)
                refusal = runtime.authorise(call) if runtime.authorise is not None else None
                if refusal is not None:
                    raise _access_denied(prefix, operation_name, refusal)
            return make_api_call(client, operation_name, api_params)

        from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils

        integrate = lambda_eval_utils.execute_lambda_function_integration

        def _as_state_machine(env: Any, *args: Any, **kwargs: Any) -> Any:
            # A workflow's Lambda task invokes its function as the state machine's role. moto runs each state on a
            # thread of its own, so the principal is read from the execution's context object, not the thread.
            machine = env.states.context_object.context_object_data["StateMachine"]["Id"]
            _running.function = runtime._state_machines.get(machine)
            try:
                return integrate(env, *args, **kwargs)
            finally:
                _running.function = None

        with (
            mock.patch.object(LambdaFunction, "_invoke_lambda", _invoke_lambda),
            mock.patch.object(BaseClient, "_make_api_call", _recorded),
            mock.patch.object(lambda_eval_utils, "execute_lambda_function_integration", _as_state_machine),
        ):
            yield


#: The error code each service answers an IAM refusal with (botocore raises it as a ClientError).
_DENIED_CODES = {"s3": "AccessDenied", "sns": "AuthorizationError", "sqs": "AccessDenied"}


def _access_denied(service: str, operation_name: str, message: str) -> Exception:
    """The ClientError botocore raises for AWS's refusal of a call the caller's role does not allow."""
    from botocore.exceptions import ClientError

    code = _DENIED_CODES.get(service, "AccessDeniedException")
    error = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": 400}}
    return ClientError(error, operation_name)  # type: ignore[arg-type]


def _token_owner(token: str, region: str) -> str | None:
    """The state machine whose running execution waits for ``token`` (moto's executing backend), if any."""
    from moto.stepfunctions.parser.api import ExecutionStatus
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    for account in list(stepfunctions_parser_backends):
        backend = stepfunctions_parser_backends[account][region]
        for execution in backend._get_executions(ExecutionStatus.RUNNING):
            worker = getattr(execution, "exec_worker", None)
            if worker is not None and worker.env.callback_pool_manager.get(token) is not None:
                return str(execution.state_machine_arn)
    return None


@contextlib.contextmanager
def serialised_dynamodb() -> Iterator[None]:
    """One DynamoDB request at a time, as each is atomic in AWS.

    moto's DynamoDB is not thread-safe (measured on 5.2.5: TransactWriteItems deep-copies tables for rollback
    without a lock, so concurrent requests crash, apply a conditional write twice, or roll back other writes).
    Requests still interleave between each other, which is where real races live.
    """
    from moto.dynamodb.responses import DynamoHandler

    handle = DynamoHandler.call_action
    lock = threading.Lock()

    def one_at_a_time(self: Any) -> Any:
        with lock:
            return handle(self)

    with mock.patch.object(DynamoHandler, "call_action", one_at_a_time):
        yield


class _NotPlain(Exception):
    """A value the plain walk does not handle (a model object, a timestamp): moto's own serializer takes it."""


_ABSENT = object()


def _plain_value(value: Any, shape: Any) -> Any:
    """``value`` serialized for the JSON protocol as moto's ``JSONSerializer`` does, for plain dict/list trees.

    moto 5.2 picks every structure member through a chain of alias providers, built anew per member and per
    value; for DynamoDB's recursive ``AttributeValue`` shape that costs ~100 ms for one application record. The
    results DynamoDB's handler returns (``DynamoResult``) are already plain dicts keyed by the wire names, where
    every alias lookup falls through to the key itself, so this walk does what the serializer does, step for
    step, without the pickers (``tests/unit/platform/test_local_runtime.py`` holds the two against each other).
    Returns ``_ABSENT`` where the serializer would set nothing.
    """
    kind = shape.type_name
    if kind == "structure":
        if value is None:
            return _ABSENT
        if shape.is_document_type:
            return value
        if type(value) is not dict:
            raise _NotPlain(shape.name)
        wrapper: dict[str, Any] = {}
        members = shape.members
        # A one-member value (every AttributeValue) looks up its member instead of trying each of the shape's.
        pairs = [(k, members[k]) for k in value if k in members] if len(value) == 1 else members.items()
        for key, member in pairs:
            found = value.get(key)
            if found is not None:
                serialized = _plain_value(found, member)
                if serialized is not _ABSENT:
                    wrapper[member.serialization.get("name", key)] = serialized
        return wrapper
    if kind == "map":
        if type(value) is not dict:
            raise _NotPlain(shape.name)
        mapped: dict[str, Any] = {}
        for key, item in value.items():
            serialized = _plain_value(item, shape.value)
            if serialized is not _ABSENT:
                mapped[shape.value.serialization.get("name", key)] = serialized
        return mapped
    if kind == "list":
        if type(value) is not list:
            raise _NotPlain(shape.name)
        # The serializer keeps an item it set under a name other than the member's own name as it came.
        renamed = shape.member.serialization.get("name", shape.member.name) != shape.member.name
        items = []
        for item in value:
            serialized = _ABSENT if renamed else _plain_value(item, shape.member)
            items.append(item if serialized is _ABSENT else serialized)
        return items
    if kind == "string":
        if isinstance(value, enum.Enum):
            value = value.value
        return str(value) if value not in [None, {}, []] else value
    if kind == "blob":
        raw = value.encode("utf-8") if isinstance(value, str) else value
        return base64.b64encode(raw).strip().decode("utf-8")
    if kind in ("integer", "long"):
        return int(value)
    if kind in ("float", "double"):
        return float(value)
    if kind == "timestamp":
        raise _NotPlain(shape.name)
    return value


@contextlib.contextmanager
def plain_dynamodb_responses() -> Iterator[None]:
    """Serialize DynamoDB's results with :func:`_plain_value` instead of moto's generic serializer.

    The body is the same JSON, byte for byte (same keys, same order); anything the plain walk does not handle,
    errors and any response transformer go through moto's serializer as before.
    """
    from moto import settings as moto_settings
    from moto.core.responses import ActionResult
    from moto.core.serialize import JSONSerializer
    from moto.dynamodb.responses import DynamoResult

    generic = ActionResult.execute_result

    def execute_result(self: Any, context: Any) -> Any:
        serializer_class = context.serializer_class
        output_shape = context.operation_model.output_shape
        if (
            serializer_class is not JSONSerializer
            or output_shape is None
            or isinstance(self.result, Exception)
            or getattr(context.response, "RESPONSE_KEY_PATH_TO_TRANSFORMER", None)
            or context.operation_model.has_event_stream_output
        ):
            return generic(self, context)
        try:
            serialized = _plain_value(self.result, output_shape)
        except _NotPlain:
            return generic(self, context)
        if serialized is _ABSENT:
            serialized = {}
        serializer = serializer_class(
            operation_model=context.operation_model, pretty_print=moto_settings.PRETTIFY_RESPONSES
        )
        response = serializer._serialized_result_to_response(
            serializer._create_default_response(), self.result, output_shape, serialized
        )
        return response["status_code"], response["headers"], response["body"]

    with mock.patch.object(DynamoResult, "execute_result", execute_result):
        yield


@contextlib.contextmanager
def shared_workflow_clients() -> Iterator[None]:
    """Give moto's Step Functions interpreter one boto3 client per (region, service) instead of one per task.

    moto's ``boto_client_for`` builds a fresh client (service model, endpoint rules, event hooks: tens of
    milliseconds) for every Lambda task of every execution. It ignores the state's credentials (every client is
    ``ak``/``sk`` against moto), so one client per region and service answers exactly as a new one would; boto3
    clients are safe to share between threads once built, and building goes through a lock.
    """
    import sys

    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils  # noqa: F401
    from moto.stepfunctions.parser.asl.utils import boto_client

    build = boto_client.boto_client_for
    clients: dict[tuple[str, str], Any] = {}
    building = threading.Lock()

    def shared(region: str, service: str, state_credentials: Any = None) -> Any:
        key = (region, service)
        found = clients.get(key)
        if found is None:
            with building:
                found = clients.get(key)
                if found is None:
                    found = clients[key] = build(region, service, state_credentials)
        return found

    with contextlib.ExitStack() as patches:
        for name, module in list(sys.modules.items()):
            if name.startswith("moto.stepfunctions.parser") and getattr(module, "boto_client_for", None) is build:
                patches.enter_context(mock.patch.object(module, "boto_client_for", shared))
        yield


@contextlib.contextmanager
def executing_state_machines() -> Iterator[None]:
    """Make moto's CloudFormation create state machines in the Step Functions backend that executes them."""
    from moto.stepfunctions.models import StateMachine
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    def create(
        cls: Any, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **_: Any
    ) -> Any:
        properties = cloudformation_json["Properties"]
        backend = stepfunctions_parser_backends[account_id][region_name]
        return backend.create_state_machine(
            properties.get("StateMachineName", resource_name),
            properties["DefinitionString"],
            properties["RoleArn"],
            sm_type=properties.get("StateMachineType", "STANDARD"),
        )

    with mock.patch.object(StateMachine, "create_from_cloudformation_json", classmethod(create)):
        yield
