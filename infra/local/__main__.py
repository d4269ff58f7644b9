"""``python -m infra.local`` (``make run``): the whole platform on 127.0.0.1, until Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from infra.local.platform import running_platform, write_description


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.local", description=__doc__)
    parser.add_argument("--port", type=int, default=3000, help="port of the API (default 3000)")
    args = parser.parse_args(argv)
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print("starting the local stack from template.yaml …", flush=True)
    with running_platform(port=args.port) as platform:
        path = write_description(platform)
        print(f"\nlending API   {platform.api_url}")
        print(f"control       {platform.control_url}  (lending local close-day, lending report reconcile)")
        print(f"stack         {path}")
        print(f"left out      {', '.join(sorted(platform.stack.left_out))}")
        for name, token in platform.tokens.items():
            print(f"\n{name} token:\n{token}")
        print("\nready; Ctrl-C stops everything", flush=True)
        stop.wait()
        print("\nstopping …", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
