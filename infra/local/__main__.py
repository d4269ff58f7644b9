"""``python -m infra.local`` (``make run``): the whole platform on 127.0.0.1, until Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from infra.local.api import log_to_stderr
from infra.local.platform import DEFAULT_WEB_URL, running_platform, write_description


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.local", description=__doc__)
    parser.add_argument("--port", type=int, default=3000, help="port of the API (default 3000)")
    parser.add_argument(
        "--web-url",
        default=DEFAULT_WEB_URL,
        help=f"the local web app, the one browser origin the API answers (default {DEFAULT_WEB_URL})",
    )
    args = parser.parse_args(argv)
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    log_to_stderr()  # a function that fails or answers 5xx: one line each on stderr
    print("starting the local stack from template.yaml …", flush=True)
    with running_platform(port=args.port, web_url=args.web_url) as platform:
        path = write_description(platform)
        print(f"\nlending API   {platform.api_url}")
        print(f"web app       {platform.web_url}  (the origin the API answers browsers from)")
        print(f"control       {platform.control_url}  (lending local close-day, lending report reconcile)")
        print(f"stack         {path}  (tokens renewed there before they expire)")
        print(f"left out      {', '.join(sorted(platform.stack.left_out))}")
        for name, token in platform.tokens.items():
            print(f"\n{name} token:\n{token}")
        print("\nready; Ctrl-C stops everything", flush=True)
        stop.wait()
        print("\nstopping …", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
