"""``python -m infra.bench``: run every benchmark and print its figures as JSON (``make bench``)."""

from __future__ import annotations

import json
import sys

from infra.bench import domain, platform, scoring


def main() -> int:
    results = {"domain": domain.run(), "scoring": scoring.run(), "platform": platform.run()}
    print(json.dumps(results, indent=2))
    return 0 if all(r.get("within_goal", True) for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
