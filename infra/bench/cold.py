"""The cold request (issue 13): what a user waits for when a function starts cold, beside a stock Powertools
handler making the same AWS calls, measured in the same run.

The whole local stack runs as usual (``running_platform``), and moto's backends are also served over HTTP
(``ThreadedMotoServer`` shares them). Each function's first invocations (up to ``SAMPLES``) run in a fresh
interpreter instead of in-process (:mod:`infra.bench.cold_request`): nothing pre-imported, boto3 pointed at that
server with ``AWS_ENDPOINT_URL``, the function's own environment from the template, its module loaded (imports and
init) and its first invocation answered, each timed. The server records every AWS call the child made. Then a
second fresh interpreter runs :mod:`infra.bench.stock_handler` with the same calls, against a moto of its own
holding the template's tables (so the replay changes nothing in the stack). A scenario of sandbox applications,
a referral, a rejected payout, two lines, a repayment and a nightly close reaches every function.

Reported per function: the median cold request (load + first invocation) of each side, the ratio, the calls each
side made, and the samples. The goal: every ratio at most ``GOAL_RATIO``.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import parse_qsl

from infra.bench.platform import _application, _request, accept_open_offer
from infra.local.platform import LocalPlatform, running_platform
from infra.local.template import ROOT, FunctionSpec, functions, load_template, table_definitions

GOAL_RATIO = 1.5
#: Cold requests per function (the median is reported); later invocations run in-process as usual.
SAMPLES = 5
CHILD = Path(__file__).with_name("cold_request.py")
STOCK = Path(__file__).with_name("stock_handler.py")
SCORING = "CreditScoringFunction"
#: botocore's service names where the signing name differs.
_SERVICES = {"states": "stepfunctions"}
#: KMS request members that are blobs on the wire (base64) and bytes in boto3.
_KMS_BLOBS = ("CiphertextBlob", "Plaintext")


@dataclass
class Sample:
    load_s: float
    first_s: float
    calls: int

    @property
    def cold_s(self) -> float:
        return self.load_s + self.first_s


@dataclass
class Samples:
    function: list[Sample] = field(default_factory=list)
    stock: list[Sample] = field(default_factory=list)


class _Recorder:
    """WSGI middleware: the AWS calls that reach the server, as (service, operation, params) for boto3."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app
        self.calls: list[list[Any]] = []
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        call = _as_call(environ, body)
        if call is not None:
            with self.lock:
                self.calls.append(call)
        return self.app(environ, start_response)

    def take(self) -> list[list[Any]]:
        with self.lock:
            taken, self.calls = self.calls, []
        return taken


def _as_call(environ: dict[str, Any], body: bytes) -> list[Any] | None:
    """The boto3 call a request on the wire stands for (JSON protocols by X-Amz-Target, query protocol by Action)."""
    authorization = environ.get("HTTP_AUTHORIZATION", "")
    if "Credential=" not in authorization:
        return None
    signing = authorization.split("Credential=", 1)[1].split("/")[3]
    service = _SERVICES.get(signing, signing)
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        params = json.loads(body or b"{}")
        if service == "kms":
            params.update({k: base64.b64decode(params[k]) for k in _KMS_BLOBS if k in params})
        return [service, target.rsplit(".", 1)[-1], params]
    form = dict(parse_qsl(body.decode()))
    operation = form.pop("Action", None)
    form.pop("Version", None)
    # Flattened members (MessageAttributes.entry.1.Name...) are left out: the call's shape, not its every member.
    return None if operation is None else [service, operation, {k: v for k, v in form.items() if "." not in k}]


@contextmanager
def _served() -> Iterator[tuple[str, _Recorder]]:
    """This process's moto backends over HTTP, every call recorded."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    assert server._server is not None
    recorder = _Recorder(server._server.app)
    server._server.app = recorder
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}", recorder
    finally:
        server.stop()


_BASELINE_SERVER = """
import json, logging, sys, boto3
from moto.server import ThreadedMotoServer
logging.getLogger("werkzeug").setLevel(logging.ERROR)
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
host, port = server.get_host_and_port()
dynamodb = boto3.client("dynamodb", endpoint_url=f"http://{host}:{port}", region_name=sys.argv[1],
                        aws_access_key_id="bench", aws_secret_access_key="bench")
for arguments in json.loads(sys.argv[2]):
    dynamodb.create_table(**arguments)
print(f"http://{host}:{port}", flush=True)
sys.stdin.read()
"""


@contextmanager
def _baseline_server(region: str, tables: list[dict[str, Any]]) -> Iterator[str]:
    """A moto of its own, in another process, holding the template's tables, for the stock handler's calls."""
    process = subprocess.Popen(
        [sys.executable, "-c", _BASELINE_SERVER, region, json.dumps(tables)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        yield process.stdout.readline().strip()
    finally:
        process.terminate()
        process.wait()


def _child(job: dict[str, Any], environment: dict[str, str]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "answer.json"
        ran = subprocess.run(
            [sys.executable, "-P", str(CHILD)],  # -P: the script's folder (infra/bench) is not on sys.path
            input=json.dumps({**job, "out": str(out)}, default=str),
            text=True,
            env=environment,
            cwd=ROOT,
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        if ran.returncode != 0:
            raise RuntimeError(f"the cold request of {job['function_name']} broke:\n{ran.stderr[-3000:]}")
        answer: dict[str, Any] = json.loads(out.read_text())
        return answer


def _environment(function_env: dict[str, str], endpoint: str, region: str) -> dict[str, str]:
    """What Lambda's runtime sets, the function's own variables, and boto3 pointed at the given moto."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": region,
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        "LAMBDA_TASK_ROOT": str(ROOT),
        "_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
        **function_env,
    }


class _ColdHandlers:
    """In place of the runtime's handlers: a function's first ``SAMPLES`` invocations run cold, each beside the
    stock handler with the calls it made; later ones run in-process."""

    def __init__(self, platform: LocalPlatform, endpoint: str, recorder: _Recorder, baseline: str) -> None:
        self.platform = platform
        self.endpoint = endpoint
        self.recorder = recorder
        self.baseline = baseline
        self.samples: defaultdict[str, Samples] = defaultdict(Samples)
        self.warm = platform.runtime.handler_for
        self.api = {spec.logical_id for spec in functions(load_template()).values() if spec.routes}

    def handler_for(self, spec: FunctionSpec) -> Callable[[Any, Any], Any]:
        if len(self.samples[spec.logical_id].function) >= SAMPLES:
            return self.warm(spec)
        return lambda event, context: self._cold(spec, event, context)

    def _cold(self, spec: FunctionSpec, event: Any, context: Any) -> Any:
        from lending.adapters.environment import lambda_environment

        function_env = dict(lambda_environment())
        region = function_env.get("AWS_REGION", self.platform.stack.region)
        module, _, attribute = spec.handler.rpartition(".")
        job = {
            "path": str(spec.code_dir / f"{module.replace('.', '/')}.py"),
            "handler": attribute,
            "code_dir": str(spec.code_dir),
            "event": event,
            "function_name": context.function_name,
            "memory_mb": int(context.memory_limit_in_mb),
        }
        self.recorder.take()
        answer = _child(job, _environment(function_env, self.endpoint, region))
        calls = self.recorder.take()
        samples = self.samples[spec.logical_id]
        samples.function.append(Sample(answer["load_s"], answer["first_s"], len(calls)))
        stock_env = {**function_env, "STOCK_CALLS": json.dumps(calls, default=_blob)}
        if spec.logical_id == SCORING:
            stock_env["STOCK_ONNX_MODELS"] = os.pathsep.join(str(path) for path in _model_paths(function_env))
        stock_job = {
            **job,
            "path": str(STOCK),
            "handler": "api_handler" if spec.logical_id in self.api else "step_handler",
        }
        stock = _child(stock_job, _environment(stock_env, self.baseline, region))
        samples.stock.append(Sample(stock["load_s"], stock["first_s"], len(calls)))
        if answer["errored"]:
            # The workflow's Retry and Catch match the error's name: raise one of the same name.
            raise type(answer["result"]["errorType"], (Exception,), {})(answer["result"]["errorMessage"])
        return answer["result"]


def _blob(value: Any) -> Any:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    raise TypeError(type(value).__name__)


def _model_paths(function_env: dict[str, str]) -> list[Path]:
    """The graphs the scoring function opens a session on: the champion's, and the challenger's when one is set."""
    from lending.scoring.model import DEFAULT_MODEL_ID, model_directory

    models = [function_env.get("CREDIT_MODEL_ID") or DEFAULT_MODEL_ID, function_env.get("CHALLENGER_MODEL_ID")]
    return [model_directory(model_id) / "model.onnx" for model_id in models if model_id]


def _wait(platform: LocalPlatform, application_id: str, token: str, statuses: set[str]) -> dict[str, Any]:
    deadline = time.monotonic() + 300
    view: dict[str, Any] = {}
    while time.monotonic() < deadline:
        view = _request(f"{platform.api_url}/v1/applications/{application_id}", token)
        if "APPROVED" not in statuses:
            accept_open_offer(platform.api_url, token, view)
        if view["status"] in statuses:
            return view
        if view["status"] in ("DECLINED", "FAILED", "EXPIRED"):
            break
        time.sleep(0.5)
    raise TimeoutError(f"{application_id} never reached {sorted(statuses)}: {view.get('status')}")


def _apply(platform: LocalPlatform, key: str, phone: str = "0001", account: str = "5678", **changes: Any) -> str:
    body = _application(key)
    body["applicant"]["phone"] = body["applicant"]["phone"][:-4] + phone
    body["applicant"]["bank_account"] = body["applicant"]["bank_account"][:-4] + account
    body.update(changes)
    token = platform.tokens["borrower"]
    return str(_request(f"{platform.api_url}/v1/applications", token, "POST", body, key)["application_id"])


def _post(url: str, body: bytes, headers: dict[str, str]) -> None:
    with urllib.request.urlopen(urllib.request.Request(url, body, headers, method="POST"), timeout=600) as answer:
        answer.read()


def _scenario(platform: LocalPlatform) -> None:
    """Sandbox traffic that reaches every function, most of them ``SAMPLES`` times: approved loans, declines,
    payouts the bank rejects, referrals an underwriter approves, two lines drawn on (one rejected), repayments
    (pushed, and asked for from the app), the warnings operations read, the monthly re-check, the nightly jobs for
    each of the days after (close, seal, auto-debit, reconciliation), operations reading the funding, the
    reconciliation, the portfolio and loans, hardship relief asked, approved and accepted, and a write-off by hand."""
    from lending import clock
    from lending.webhooks import SIGNATURE_HEADER, sign

    api, borrower, underwriter = platform.api_url, platform.tokens["borrower"], platform.tokens["underwriter"]
    done = {"DISBURSED", "DECLINED", "FAILED", "EXPIRED", "LINE_OPENED"}
    loans = [_apply(platform, f"cold-{n}") for n in range(SAMPLES)]
    others = [_apply(platform, f"cold-declined-{n}", phone="0002") for n in range(2)]
    others += [_apply(platform, f"cold-rejected-{n}", account="0000") for n in range(3)]
    referred = [_apply(platform, f"cold-referred-{n}", phone="0003") for n in range(3)]
    line = _apply(platform, "cold-line", product="credit_line", amount="50000.00")
    rejected_line = _apply(platform, "cold-line-rejected", account="0000", product="credit_line", amount="20000.00")
    views = [_wait(platform, application_id, borrower, done) for application_id in loans]
    for application_id in referred:
        _wait(platform, application_id, borrower, {"UNDER_REVIEW"})
    _request(f"{api}/v1/reviews", underwriter)
    for application_id in referred:
        _request(f"{api}/v1/reviews/{application_id}", underwriter, "POST", {"decision": "approve", "note": "bench"})
    for application_id in others + referred:
        _wait(platform, application_id, borrower, done)
    lines = {
        name: _wait(platform, application_id, borrower, done)["loan_id"]
        for name, application_id in (("line", line), ("rejected", rejected_line))
    }
    for n in range(SAMPLES):
        name = "line" if n < SAMPLES - 2 else "rejected"
        _request(f"{api}/v1/loans/{lines[name]}/drawdowns", borrower, "POST", {"amount": "1000.00"}, f"cold-draw-{n}")
    secret = platform.webhook_secrets["payments"].encode()
    for n in range(SAMPLES):
        notice = {
            "event_id": f"cold-pay-{n}",
            "loan_id": views[n]["loan_id"],
            "amount": "100.00",
            "paid_at": clock.now().isoformat(),
            "kind": "repayment",
        }
        body = json.dumps(notice).encode()
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(secret, body, int(time.time()))}
        _post(f"{api}/v1/webhooks/payments", body, headers)
    for n in range(SAMPLES):  # the borrower repays from the app: the provider is asked to collect
        loan_id = views[n]["loan_id"]
        _request(f"{api}/v1/loans/{loan_id}/repayments", borrower, "POST", {"amount": "50.00"}, f"cold-repay-{n}")
    deadline = time.monotonic() + 300
    while _drawdowns_running(platform) and time.monotonic() < deadline:
        time.sleep(0.5)
    # Operations read the warnings; the monthly re-check runs once (its start, the open loans' listing, a batch's
    # check), fired for the day before today as its schedule would fire for a month's last day.
    for _ in range(SAMPLES):
        _request(f"{api}/v1/ops/warnings", platform.tokens["operations"])
    _post(
        f"{platform.control_url}/schedules/EveryMonth",
        json.dumps({"date": (clock.today() - timedelta(days=1)).isoformat()}).encode(),
        {"Content-Type": "application/json"},
    )
    # The nightly closes of today and the days after: the test clock moved on runs them (the last step: the
    # children's clock is the system's, and nothing after it asks them the date).
    later = (clock.today() + timedelta(days=SAMPLES)).isoformat()
    _post(
        f"{platform.control_url}/clock",
        json.dumps({"advance_to": later}).encode(),
        {"Content-Type": "application/json"},
    )
    # Operations read the funding, the nights' reconciliation and a loan (nothing here asks the children the date
    # but the loan view, which reads it as the borrower's view does).
    operator = platform.tokens["operations"]
    for path in (
        "/v1/ops/funding",
        "/v1/ops/reconciliation",
        "/v1/ops/portfolio",
        *(f"/v1/ops/loans/{v['loan_id']}" for v in views[:3]),
    ):
        _request(f"{api}{path}", operator)
    # Hardship relief on two loans: asked, approved, its contract read and accepted, the loan restructured; and a
    # write-off by hand on another, asked by one operator and confirmed by a second.
    for n, view in enumerate(views[:2]):
        base = f"{api}/v1/loans/{view['loan_id']}/hardship"
        asked = _request(base, borrower, "POST", {"kind": "payment_holiday", "months": 1, "reason": "bench"}, f"hr-{n}")
        path = f"{base}/{asked['request_id']}"
        _until(
            lambda path=path: _request(path, borrower)["status"] == "UNDER_REVIEW" and _queued(api, underwriter, path)
        )
        _request(f"{api}/v1/reviews/{asked['request_id']}", underwriter, "POST", {"decision": "approve", "note": "b"})
        _until(lambda path=path: _request(path, borrower)["status"] == "APPROVED")
        contract = _request(f"{path}/contract", borrower)
        _request(f"{path}/acceptance", borrower, "POST", {"contract_sha256": contract["sha256"]}, f"hr-accept-{n}")
        _until(lambda path=path: _request(path, borrower)["status"] == "RESTRUCTURED")
    written = f"{api}/v1/ops/loans/{views[2]['loan_id']}/write-off"
    _request(written, operator, "POST", {"reason": "bench"})
    _request(f"{written}/decision", platform.tokens["operations2"], "POST", {"decision": "confirm"})


def _queued(api: str, underwriter: str, path: str) -> bool:
    """Is the hardship request at ``path`` in the underwriters' queue yet (its workflow put it there)?"""
    request_id = path.rsplit("/", 1)[1]
    queue = _request(f"{api}/v1/reviews?kind=hardship", underwriter)["reviews"]
    return any(item["request_id"] == request_id for item in queue)


def _until(done: Callable[[], bool], seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        if time.monotonic() > deadline:
            raise RuntimeError("the cold bench's scenario did not reach a state it waits for")
        time.sleep(0.2)


def _drawdowns_running(platform: LocalPlatform) -> bool:
    import boto3

    sfn = boto3.client("stepfunctions", region_name=platform.stack.region)
    arn = platform.stack.outputs["DrawdownStateMachineArn"]
    return bool(sfn.list_executions(stateMachineArn=arn, statusFilter="RUNNING")["executions"])


def _median(samples: list[Sample], attribute: str) -> float:
    return round(float(statistics.median(getattr(s, attribute) for s in samples)), 3)


def run() -> dict[str, Any]:
    # The template's deadlines (days): cold steps take seconds each, and no application here should expire.
    with running_platform(port=0, callback_delay=0.05, deadlines={}) as platform, _served() as (endpoint, recorder):
        template = load_template()
        # The stock handler's moto holds the same tables, under the names the functions call them by.
        tables = [
            {**arguments, "TableName": platform.stack.physical_ids[logical_id]}
            for logical_id, arguments in table_definitions(template, platform.stack.parameters).items()
        ]
        with _baseline_server(platform.stack.region, tables) as baseline:
            cold = _ColdHandlers(platform, endpoint, recorder, baseline)
            with mock.patch.object(platform.runtime, "handler_for", cold.handler_for):
                _scenario(platform)
    report = {}
    for name, samples in sorted(cold.samples.items()):
        ours, stock = _median(samples.function, "cold_s"), _median(samples.stock, "cold_s")
        report[name] = {
            "cold_request_s": ours,
            "load_s": _median(samples.function, "load_s"),
            "first_invocation_s": _median(samples.function, "first_s"),
            "stock_cold_request_s": stock,
            "ratio": round(ours / stock, 2),
            "aws_calls": statistics.median(s.calls for s in samples.function),
            "samples": len(samples.function),
        }
    worst = max(report.values(), key=lambda r: r["ratio"]) if report else {"ratio": 0}
    return {
        "functions": report,
        "functions_measured": len(report),
        "worst_ratio": worst["ratio"],
        "goal_ratio": GOAL_RATIO,
        "within_goal": len(report) == len(functions(load_template())) and worst["ratio"] <= GOAL_RATIO,
    }
