"""Run the template's Lambda functions in this process, underneath moto's own invoke path.

moto runs Lambda code in Docker, which this machine does not have: :class:`InProcessRuntime` answers moto's invoke
instead (:func:`infra.local.hooks.in_process_lambda`), so everything above it stays moto's: ``lambda.invoke``, Step
Functions tasks, event source mappings. Each invocation sees its own environment (the template's, as moto resolved
it) through :func:`lending.adapters.environment.provided_environment`, so concurrent invocations never share
``os.environ``.

Every AWS call a function's code makes while it runs is recorded (:class:`AwsCall`, ``InProcessRuntime.calls``)
through botocore's own ``before-parameter-build`` event, not a patch: the IAM action botocore's operation maps to and
the function (or the state machine whose task it is) that made it. It is the evidence for what each role must grant,
and ``authorise`` refuses the call as IAM would.
"""

from __future__ import annotations

import collections
import contextlib
import importlib.util
import io
import json
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

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
        #: What each function printed (its log stream, as Lambda hands a function's stdout to CloudWatch Logs), the
        #: latest invocations' only: Powertools' metrics print their EMF there, never into the process's stdout.
        self.output: dict[str, collections.deque[str]] = collections.defaultdict(lambda: collections.deque(maxlen=50))

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
                printed = io.StringIO()
                with provided_environment(environment):
                    # Imported (its init run) on its first invocation, with its environment, as Lambda does; its
                    # Logger's stream is the process's stdout, bound at init.
                    handler = self.handler_for(spec)
                # (one invocation at a time, so the one stdout is this invocation's while it runs)
                with provided_environment(environment), contextlib.redirect_stdout(printed):
                    try:
                        result = handler(event, context)
                    finally:
                        if printed.getvalue():
                            self.output[spec.logical_id].append(printed.getvalue())
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
        """Run the template's functions here for the duration of the block, each AWS call they make recorded and
        weighed against its principal's role (``authorise``)."""
        from infra.local.calls import listening
        from infra.local.hooks import in_process_lambda, workflow_task_principal

        def entered(state_machine_arn: str) -> object:
            caller = getattr(_running, "function", None)
            _running.function = self._state_machines.get(state_machine_arn)
            return caller

        def left(caller: object) -> None:
            _running.function = caller

        def listener(model: Any, params: dict[str, Any], context: dict[str, Any]) -> None:
            function = getattr(_running, "function", None)
            if function is not None:
                self._before_call(function, model, params, context.get("client_region"))

        with in_process_lambda(self.invoke), workflow_task_principal(entered, left), listening(listener):
            yield

    def _before_call(self, function: str, model: Any, params: dict[str, Any], region: str | None) -> None:
        """Record a call the running ``function`` (or state machine) makes, and refuse it as IAM would."""
        service = model.service_model.signing_name or model.service_model.endpoint_prefix
        params = dict(params)
        if model.name.startswith("SendTask") and "taskToken" in params and region:
            # IAM authorises a task token's answer on the state machine that issued it; the token does not say
            # which, so it is found while the execution still waits for it.
            owner = _token_owner(str(params["taskToken"]), region)
            if owner is not None:
                params["stateMachineArn"] = owner
        action = f"{service}:{model.name}"
        call = AwsCall(function, _IAM_ACTIONS.get(action, action), params)
        self.calls.append(call)
        refusal = self.authorise(call) if self.authorise is not None else None
        if refusal is not None:
            raise _access_denied(service, model.name, refusal)


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
