"""Schemathesis over the document the stack serves, against the running local stack, with every check it has.

Every operation of ``GET /v1/openapi.json`` is fuzzed with data that fits its schema and data that does not, signed
in as the sandbox's users (a borrower; an underwriter for the review routes; an operator for /v1/ops/) and with
webhooks signed with the stack's shared secrets, exactly as their senders sign them. Each answer must be no server
error, a documented status with a body and content type matching its schema, and schemathesis' other checks
(negative data refused, auth not ignored, required headers enforced, methods not in the document refused) but one
(see EXCLUDED).

Examples per operation and mode: ``FUZZ_EXAMPLES`` (``make fuzz`` raises it; the suite keeps a bounded number).
Hypothesis runs derandomized, so a run sends the same requests every time and a failure reproduces. The number of
requests sent is written to ``.local/fuzz.json`` for the README's figure.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from infra.local.platform import LocalPlatform
from infra.local.template import ROOT
from lending.webhooks import SIGNATURE_HEADER, sign

DOCUMENT = json.loads((ROOT / "shared" / "lending" / "api" / "openapi.json").read_text())
OPERATIONS = sorted((method.upper(), path) for path, methods in DOCUMENT["paths"].items() for method in methods)
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "100"))
#: The webhook routes and the secret each is signed with.
WEBHOOK_SECRETS = {"/v1/webhooks/identity": "identity", "/v1/webhooks/payments": "payments"}
REPORT = ROOT / ".local" / "fuzz.json"
#: Left out: a schema-valid request may still break a rule no schema can state (an ID number's checksum, a
#: product's amount range for its term, a payoff date before today), and that is a 422 the contract documents.
EXCLUDED = [positive_data_acceptance]

sent: Counter[str] = Counter()
failures: Counter[str] = Counter()


class _Signed(requests.auth.AuthBase):
    """Signs the exact bytes requests sends, as the vendor does: ``X-Signature: t=<now>,v1=<HMAC>``."""

    def __init__(self, secret: str) -> None:
        self.secret = secret.encode()

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        body = request.body if isinstance(request.body, bytes) else (request.body or "").encode()
        request.headers[SIGNATURE_HEADER] = sign(self.secret, body, int(time.time()))
        return request


@pytest.fixture(scope="module")
def served(platform: LocalPlatform) -> Any:
    """The document as the stack serves it (the same as the shipped copy: test_platform_openapi checks that)."""
    schema = schemathesis.openapi.from_url(f"{platform.api_url}/v1/openapi.json")
    assert schema.raw_schema == DOCUMENT
    return schema


@pytest.fixture(scope="module", autouse=True)
def _report() -> Iterator[None]:
    yield
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text(
        json.dumps(
            {
                "examples_per_operation_and_mode": EXAMPLES,
                "operations": len(OPERATIONS),
                "requests": sum(sent.values()),
                "failing_operations": sorted(failures),
            },
            indent=2,
        )
    )


def _credentials(platform: LocalPlatform, case: Any) -> dict[str, Any]:
    """What the caller of this operation holds: a token (an underwriter's for reviews, an operator's for the
    operations routes) or a webhook's secret."""
    path = case.operation.path
    if path in WEBHOOK_SECRETS:
        # Signed only when the case carries the header its security scheme asks for: schemathesis' auth checks
        # send the request without it, and must see the 401.
        if SIGNATURE_HEADER in (case.headers or {}):
            return {"auth": _Signed(platform.webhook_secrets[WEBHOOK_SECRETS[path]])}
        return {}
    if "Authorization" not in (case.headers or {}):
        # A negative case that left the bearer token out on purpose: it goes without one, and must see the 401
        # (a token put back would make it a valid request, and its 200 a false "negative data accepted").
        return {}
    user = (
        "underwriter" if path.startswith("/v1/reviews") else "operations" if path.startswith("/v1/ops/") else "borrower"
    )
    return {"headers": {"Authorization": f"Bearer {platform.tokens[user]}"}}


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_every_answer_is_documented_and_none_is_a_server_error(
    served: Any, platform: LocalPlatform, method: str, path: str, mode: GenerationMode
) -> None:
    operation = served[path][method]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(case: Any) -> None:
        sent[f"{method} {path}"] += 1
        case.call_and_validate(
            base_url=platform.api_url, excluded_checks=EXCLUDED, timeout=60, **_credentials(platform, case)
        )

    try:
        fuzz()
    except BaseException:  # schemathesis' FailureGroup, after Hypothesis has shrunk it to the smallest case
        failures[f"{method} {path} {mode}"] += 1
        raise
