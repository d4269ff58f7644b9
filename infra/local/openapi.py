"""The OpenAPI document of the whole API, generated from every API function's Powertools routes.

Each function of the template that answers ``Events: Api`` is loaded as the local runtime loads it, its resolver
(``app``) describes its own routes, and Powertools' merge joins them into one document, which the read function
serves at ``GET /v1/openapi.json`` from the layer. ``python -m infra.local.openapi`` rewrites it; a test checks
the shipped copy is current.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

from infra.local.template import ROOT, functions, load_template

DOCUMENT = ROOT / "shared" / "lending" / "api" / "openapi.json"
TITLE = "Lending API"
VERSION = "1.0.0"


def _resolver(logical_id: str, source: Path) -> Any:
    spec = importlib.util.spec_from_file_location(f"openapi_{logical_id}", source)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {source}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.app


def generate() -> dict[str, Any]:
    """One OpenAPI document for every route of every API function in the template."""
    from aws_lambda_powertools.event_handler.openapi.merge import OpenAPIMerge
    from aws_lambda_powertools.event_handler.openapi.models import Server

    merged = OpenAPIMerge(
        title=TITLE,
        version=VERSION,
        description="Unsecured online loans for micro and small businesses: apply, decide, disburse, repay.",
        servers=[Server(url="http://127.0.0.1:3000", description="the local stack (make run)")],
        on_conflict="error",
    )
    for spec in sorted(functions(load_template()).values(), key=lambda s: s.logical_id):
        if not spec.routes:
            continue
        module, _, _ = spec.handler.rpartition(".")
        app = _resolver(spec.logical_id, spec.code_dir / f"{module}.py")
        merged.add_schema(json.loads(app.get_openapi_json_schema(title=TITLE, version=VERSION)))
    document: dict[str, Any] = json.loads(merged.get_openapi_json_schema())
    return document


def render() -> str:
    return json.dumps(generate(), indent=2, sort_keys=True) + "\n"


def main() -> int:
    DOCUMENT.write_text(render())
    print(f"wrote {DOCUMENT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
