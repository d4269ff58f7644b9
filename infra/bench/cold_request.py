"""One cold request in a fresh interpreter: a function's module loaded (imports and init), then its first
invocation, each timed. Run as a script by :mod:`infra.bench.cold`; nothing but the standard library is imported
before the clock starts, so the figures are what a Lambda cold start pays beyond the runtime's own start.

Reads the job as JSON on stdin: ``path`` (the handler module's file), ``handler`` (its attribute), ``event``,
``code_dir`` (the function's folder, first on ``sys.path``), ``function_name``, ``memory_mb``, ``out`` (where to
write the answer: stdout carries the function's logs).
"""

import importlib.util
import json
import sys
import time
import uuid


class Context:
    """What Lambda hands a handler (the attributes Powertools reads)."""

    def __init__(self, function_name: str, memory_mb: int) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = memory_mb
        self.invoked_function_arn = f"arn:aws:lambda:ap-east-1:123456789012:function:{function_name}"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = "/lending/bench/functions"
        self.log_stream_name = "bench"
        self._deadline = time.monotonic() + 29

    def get_remaining_time_in_millis(self) -> int:
        return int((self._deadline - time.monotonic()) * 1000)


def main() -> None:
    job = json.loads(sys.stdin.read())
    started = time.perf_counter()
    sys.path.insert(0, job["code_dir"])  # the function's code, as Lambda's /var/task
    spec = importlib.util.spec_from_file_location("app", job["path"])
    if spec is None or spec.loader is None:
        raise ImportError(job["path"])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    handler = getattr(module, job["handler"])
    loaded = time.perf_counter()
    try:
        result, errored = handler(job["event"], Context(job["function_name"], job["memory_mb"])), False
    except Exception as exc:  # a function error: reported as Lambda reports it
        result, errored = {"errorType": type(exc).__name__, "errorMessage": str(exc)}, True
    answered = time.perf_counter()
    with open(job["out"], "w") as out:
        json.dump({"load_s": loaded - started, "first_s": answered - loaded, "result": result, "errored": errored}, out)


if __name__ == "__main__":
    main()
