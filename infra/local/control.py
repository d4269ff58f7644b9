"""The local stack's control port: what AWS would do on its own and moto does not.

- ``POST /schedules/<event name>`` with ``{"date": "YYYY-MM-DD"}``: fire a scheduled function of the template as
  EventBridge would at the schedule's first time after that day ends (China Standard Time), with EventBridge's
  event shape. So ``lending local close-day --date 2026-03-01`` closes 1 March exactly as the nightly rule would.
- ``GET /reports/reconcile``: the reconciliation report, run where the local tables live.
- ``GET /reports/model-monitoring?month=YYYY-MM``: the month's model-monitoring report, likewise.
- ``GET /clock``: the test clock, ``{"date", "now"}``; ``POST /clock`` with ``{"advance_to": "YYYY-MM-DD"}``: move
  it forward a day at a time, firing every scheduled function for each day that ends, in order, as EventBridge
  would (a monthly one only for the day whose span holds its day of the month); answers when they have run, a
  job that starts a workflow once its execution has ended. A schedule fires only for a day that has ended.

It listens on loopback only, beside the API, and is written to ``.local/stack.json`` as ``control_url``.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from datetime import UTC, date, datetime, time, timedelta
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from time import perf_counter
from typing import Any

from infra.local.stack import DeployedStack
from infra.local.template import ScheduleSpec, load_template, schedules
from lending import clock

_CRON = re.compile(r"^cron\((\d+) (\d+) (\*|\d+) \* \? \*\)$")
_CST = timedelta(hours=8)
_DAY = timedelta(days=1)


def _parse(expression: str) -> tuple[int, int, int | None]:
    match = _CRON.match(expression)
    if match is None:
        raise ValueError(
            "the local stack fires daily cron(M H * * ? *) and monthly cron(M H D * ? *) schedules only, "
            f"not {expression}"
        )
    day_of_month = None if match.group(3) == "*" else int(match.group(3))
    return int(match.group(1)), int(match.group(2)), day_of_month


def _first_after_day_ends(expression: str, day: date) -> tuple[datetime, int | None]:
    """The first time of day the schedule names after ``day`` ends in China (UTC+8), and its day of the month."""
    minute, hour, day_of_month = _parse(expression)
    day_ends = datetime.combine(day + _DAY, time(), tzinfo=UTC) - _CST
    fires = datetime.combine(day_ends.date(), time(hour, minute), tzinfo=UTC)
    return (fires if fires >= day_ends else fires + _DAY), day_of_month


def firing_time(expression: str, day: date) -> datetime | None:
    """When a schedule fires for ``day``: its first firing after the day ends in China Standard Time (UTC+8) and
    before the next day ends. A daily ``cron(M H * * ? *)`` fires for every day; a monthly ``cron(M H D * ? *)``
    only for the day whose span holds day D of a month (None for the others)."""
    fires, day_of_month = _first_after_day_ends(expression, day)
    return fires if day_of_month is None or fires.day == day_of_month else None


def next_firing(expression: str, day: date) -> datetime:
    """The schedule's first firing after ``day`` ends (a monthly one: up to a month later)."""
    for ahead in range(32):
        fires = firing_time(expression, day + timedelta(days=ahead))
        if fires is not None:
            return fires
    raise ValueError(f"{expression} never fires")


def _time_of_day(expression: str) -> timedelta:
    """How long after a day ends the schedule fires (its order among the jobs of a day)."""
    fires, _ = _first_after_day_ends(expression, date(2000, 1, 1))
    return fires - (datetime.combine(date(2000, 1, 2), time(), tzinfo=UTC) - _CST)


def scheduled_event(stack: DeployedStack, schedule: ScheduleSpec, at: datetime) -> dict[str, Any]:
    """The event EventBridge hands a scheduled target."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": stack.region,
        "resources": [f"arn:aws:events:{stack.region}:123456789012:rule/{schedule.function}{schedule.name}"],
        "detail": {},
    }


def fire(stack: DeployedStack, name: str, day: date, schedule: ScheduleSpec | None = None) -> dict[str, Any]:
    """Invoke the scheduled function through moto's Lambda, as its rule would for ``day`` (``schedule``: the
    template's, when the caller has it already: parsing the template costs more than most jobs)."""
    import boto3

    schedule = schedule or schedules(load_template())[name]
    event = scheduled_event(stack, schedule, next_firing(schedule.expression, day))
    response = boto3.client("lambda", region_name=stack.region).invoke(
        FunctionName=stack.physical_ids[schedule.function], Payload=json.dumps(event).encode()
    )
    payload: dict[str, Any] = json.loads(response["Payload"].read() or b"{}")
    if response.get("FunctionError"):
        raise JobFailed(
            f"{schedule.function} failed for {day.isoformat()}: "
            f"{payload.get('errorType')}: {payload.get('errorMessage')}"
        )
    if payload.get("execution_arn"):
        # A job that starts a workflow (the monthly re-check) has run when its execution has ended.
        payload["execution"] = wait_for_execution(stack, str(payload["execution_arn"]), schedule.function, day)
    return payload


#: How long a scheduled workflow may run before the control gives up on it (a broken stack only).
EXECUTION_SECONDS = 600.0


def wait_for_execution(stack: DeployedStack, execution_arn: str, function: str, day: date) -> str:
    """The execution's status once it is no longer running; :class:`JobFailed` unless it succeeded."""
    import time as clock_time

    import boto3

    stepfunctions = boto3.client("stepfunctions", region_name=stack.region)
    deadline = clock_time.monotonic() + EXECUTION_SECONDS
    while True:
        status = str(stepfunctions.describe_execution(executionArn=execution_arn)["status"])
        if status == "SUCCEEDED":
            return status
        if status != "RUNNING" or clock_time.monotonic() > deadline:
            raise JobFailed(f"the workflow {function} started for {day.isoformat()} ended {status}")
        clock_time.sleep(0.1)


class JobFailed(RuntimeError):
    """A scheduled function answered with an error (an advance stops there: the clock is past that day, and
    `/schedules/<name>` runs the job again for it)."""


class DayNotEnded(ValueError):
    """A scheduled job was asked to run for a day the clock has not finished."""


def fire_for_ended_day(stack: DeployedStack, name: str, day: date) -> dict[str, Any]:
    """:func:`fire`, for a day that has ended on the test clock (EventBridge never fires early)."""
    if day >= clock.today():
        raise DayNotEnded(f"{day.isoformat()} has not ended: today is {clock.today().isoformat()} (advance the clock)")
    return fire(stack, name, day)


_advancing = threading.Lock()


def clock_view() -> dict[str, str]:
    return {"date": clock.today().isoformat(), "now": clock.now().isoformat().replace("+00:00", "Z")}


def advance_clock(stack: DeployedStack, to: date) -> dict[str, Any]:
    """Move the test clock to ``to``: for each day that ends on the way, the clock reaches the next day and every
    schedule fires for the day that ended, earliest firing first. One advance at a time."""
    with _advancing:
        if to < clock.today():
            raise ValueError(f"the clock never moves back: today is {clock.today().isoformat()}")
        jobs = schedules(load_template()).values()
        by_firing = sorted(jobs, key=lambda job: _time_of_day(job.expression))
        ran: list[dict[str, Any]] = []
        while (day := clock.today()) < to:
            clock.advance_to(day + timedelta(days=1))
            for schedule in by_firing:
                if firing_time(schedule.expression, day) is None:
                    continue  # a monthly job, on a day it does not fire for
                started = perf_counter()
                result = fire(stack, schedule.name, day, schedule)
                seconds = round(perf_counter() - started, 3)
                ran.append({"job": schedule.name, "date": day.isoformat(), "seconds": seconds, "result": result})
        return {**clock_view(), "ran": ran}


def reconcile(stack: DeployedStack, day: date | None = None) -> dict[str, Any]:
    from lending.adapters.reconciliation import reconcile_tables

    report = reconcile_tables(
        stack.outputs["LoansTableName"], stack.outputs["LedgerTableName"], region=stack.region, close_date=day
    )
    return {"ok": report.ok, "text": report.render()}


def model_monitoring(stack: DeployedStack, month: str) -> dict[str, Any]:
    from lending.adapters.model_monitoring import monitor_table

    report = monitor_table(stack.outputs["ApplicationsTableName"], month, region=stack.region)
    return {"text": report.render(), "report": report.to_json()}


class _ControlHTTPServer(ThreadingHTTPServer):
    # socketserver's backlog of 5 refuses the sixth client arriving at once (a loaded machine accepts late).
    request_queue_size = 128
    daemon_threads = True


class ControlServer:
    """The control port on 127.0.0.1 (a free port), in a thread of its own."""

    def __init__(self, stack: DeployedStack) -> None:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def _answer(self, status: HTTPStatus, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                match = re.fullmatch(r"/schedules/([A-Za-z0-9]+)", self.path)
                if match is None and self.path != "/clock":
                    self._answer(HTTPStatus.NOT_FOUND, {"error": f"no {self.path}"})
                    return
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    body = json.loads(self.rfile.read(length) or b"{}")
                    if match is None:
                        result = advance_clock(owner.stack, date.fromisoformat(body["advance_to"]))
                    else:
                        result = fire_for_ended_day(owner.stack, match.group(1), date.fromisoformat(body["date"]))
                except DayNotEnded as exc:
                    self._answer(HTTPStatus.CONFLICT, {"error": str(exc)})
                    return
                except (KeyError, ValueError, TypeError) as exc:
                    self._answer(HTTPStatus.BAD_REQUEST, {"error": str(exc)})
                    return
                except JobFailed as exc:  # answered, not a dropped connection: the caller sees which job broke
                    self._answer(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": str(exc)})
                    return
                self._answer(HTTPStatus.OK, result)

            def do_GET(self) -> None:
                path, _, query = self.path.partition("?")
                if path == "/clock":
                    self._answer(HTTPStatus.OK, clock_view())
                    return
                wanted = dict(part.partition("=")[::2] for part in query.split("&") if part)
                if path == "/reports/model-monitoring":
                    try:
                        self._answer(HTTPStatus.OK, model_monitoring(owner.stack, wanted.get("month", "")))
                    except ValueError as exc:
                        self._answer(HTTPStatus.BAD_REQUEST, {"error": str(exc)})
                    return
                if path != "/reports/reconcile":
                    self._answer(HTTPStatus.NOT_FOUND, {"error": f"no {self.path}"})
                    return
                day = date.fromisoformat(wanted["date"]) if wanted.get("date") else None
                self._answer(HTTPStatus.OK, reconcile(owner.stack, day))

        self.stack = stack
        self._server = _ControlHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="local-control", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> ControlServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
