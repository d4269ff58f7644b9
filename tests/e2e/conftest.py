"""The whole platform from template.yaml, started for each end-to-end test module, driven over HTTP.

Nothing here depends on how fast the machine is. Each wait is for an event (a status reached, a balance booked)
and fails loudly, with what it last saw, only after a bound no loaded machine comes near. The platform's API
binds a free port itself. Its deadlines are the template's (days, as in AWS) unless a module asks for others
(``deadlines``), so no test races a deadline it means to beat; the one module whose deadline must pass sets the
seconds ``make run`` uses, and nothing in it has to beat one. The business day is put at noon in China while a
platform runs, so no run crosses midnight between two readings of the date.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TypeVar

import least_privilege
import pytest
from least_privilege import UNRECORDED

from infra.local.iam_audit import Authoriser, stack_names
from infra.local.platform import LocalPlatform, running_platform
from infra.local.template import load_template
from lending import clock
from lending.prc_id import make_id_number

TERMINAL = {"DISBURSED", "DECLINED", "FAILED", "EXPIRED", "LINE_OPENED"}
#: How long a test waits for something that does happen before it fails: only a broken platform needs longer,
#: so the bound is far beyond what a loaded two-core machine takes.
WAIT_SECONDS = 120.0
POLL_SECONDS = 0.3

T = TypeVar("T")


@contextmanager
def noon_in_china() -> Iterator[None]:
    """The platform's clock moved forward to the next noon in China, and put back afterwards.

    The tests read dates at different moments (a loan opened today, its due dates, the days the test clock closes,
    a birth date after today); a run across midnight in China would see the business date move between two of
    them. From noon, twelve hours pass before the date changes. The clock only moves forward while the platform
    runs, as the platform's own clock does; it is put back after the platform stopped, so the rest of the suite
    (this same process) reads the system's clock again.
    """
    with clock._Shift.moving:
        kept = clock._Shift.ahead
        there = clock.now().astimezone(clock.CHINA_STANDARD_TIME)
        noon = there.replace(hour=12, minute=0, second=0, microsecond=0)
        clock._Shift.ahead += (noon if noon >= there else noon + timedelta(days=1)) - there
    try:
        yield
    finally:
        with clock._Shift.moving:
            clock._Shift.ahead = kept


@dataclass
class Client:
    """A mobile client of the local API."""

    platform: LocalPlatform
    terminal = frozenset(TERMINAL)
    wait_seconds = WAIT_SECONDS

    @staticmethod
    def body(phone_suffix: str, account_suffix: str = "5678", **changes: Any) -> dict[str, Any]:
        return application(phone_suffix, account_suffix, **changes)

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | None = "borrower",
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        # English messages, for the tests to read (the contract's default, zh-CN, has its own tests).
        all_headers = {"Content-Type": "application/json", "Accept-Language": "en", **(headers or {})}
        if token is not None:
            all_headers["Authorization"] = f"Bearer {self.platform.tokens[token]}"
        data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        request = urllib.request.Request(self.platform.api_url + path, method=method, data=data, headers=all_headers)
        try:
            with urllib.request.urlopen(request, timeout=WAIT_SECONDS) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def apply(
        self, phone_suffix: str, account_suffix: str = "5678", *, key: str, token: str = "borrower", **changes: Any
    ) -> str:
        status, answer = self.call(
            "POST",
            "/v1/applications",
            application(phone_suffix, account_suffix, **changes),
            token=token,
            headers={"Idempotency-Key": key},
        )
        assert status == 202, answer
        return str(answer["application_id"])

    def open(
        self,
        phone_suffix: str = "0001",
        account_suffix: str = "5678",
        *,
        key: str,
        token: str = "borrower",
        **changes: Any,
    ) -> dict[str, Any]:
        """Apply and see it through, accepting the offer as it stands: the application's view once it has ended (a
        loan ``DISBURSED``, a line ``LINE_OPENED``, or ``DECLINED``/``FAILED``/``EXPIRED``)."""
        application_id = self.apply(phone_suffix, account_suffix, key=key, token=token, **changes)
        return self.wait_for(application_id, set(TERMINAL), token=token)

    def contract(
        self, application_id: str, *, token: str = "borrower", query: str = "", language: str = "en"
    ) -> dict[str, Any]:
        """The contract offered (``query``: ``amount=…&term_months=…`` for less of the offer)."""
        status, contract = self.call(
            "GET",
            f"/v1/applications/{application_id}/contract" + (f"?{query}" if query else ""),
            token=token,
            headers={"Accept-Language": language},
        )
        assert status == 200, contract
        return dict(contract)

    def accept(self, application_id: str, contract_sha256: str, *, token: str = "borrower") -> tuple[int, Any]:
        """The borrower's acceptance of the contract with that hash: its status and answer."""
        return self.call(
            "POST",
            f"/v1/applications/{application_id}/acceptance",
            {"contract_sha256": contract_sha256},
            token=token,
            headers={"Idempotency-Key": f"accept-{application_id}-{contract_sha256[:12]}"},
        )

    def wait_for(
        self,
        application_id: str,
        statuses: set[str],
        *,
        token: str = "borrower",
        seconds: float = WAIT_SECONDS,
        accept: bool = True,
    ) -> dict[str, Any]:
        """The application's view once its status is one of ``statuses``; the test fails if it is not within
        ``seconds``. On the way, unless ``APPROVED`` is awaited or ``accept`` is off, the client accepts an offer
        open for acceptance as it stands, as a borrower tapping "accept" would."""

        def view() -> dict[str, Any]:
            status, answer = self.call("GET", f"/v1/applications/{application_id}", token=token)
            assert status == 200, answer
            seen = dict(answer)
            open_offer = seen["status"] == "APPROVED" and (seen.get("offer") or {}).get("expires_at")
            if accept and "APPROVED" not in statuses and open_offer and not seen.get("accepted"):
                contract = self.contract(application_id, token=token)
                status, accepted = self.accept(application_id, contract["sha256"], token=token)
                assert status == 202, accepted
            return seen

        return self.wait_until(
            view, lambda seen: seen["status"] in statuses, f"{application_id} to be {sorted(statuses)}", seconds
        )

    @staticmethod
    def wait_until(read: Callable[[], T], done: Callable[[T], bool], what: str, seconds: float = WAIT_SECONDS) -> T:
        """``read()`` again and again until ``done`` holds for what it read; that reading. The test fails, showing
        the last reading, if it does not within ``seconds``: the bound only ends a wait that would never end."""
        deadline = time.monotonic() + seconds
        while True:
            seen = read()
            if done(seen):
                return seen
            if time.monotonic() > deadline:
                pytest.fail(f"waited {seconds:.0f} s for {what}; last seen: {seen!r}")
            time.sleep(POLL_SECONDS)


def application(phone_suffix: str, account_suffix: str = "5678", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "product": "business_instalment",
        "amount": "120000.00",
        "term_months": 12,
        "purpose": "inventory",
        "applicant": {
            "name": "Li Hua",
            "id_number": make_id_number("110101", date(1985, 5, 5), 12),
            "phone": f"+861380000{phone_suffix}",
            "bank_account": f"62220200000{account_suffix}",
        },
        "business": {"name": "Hua Trading", "industry": "retail", "registered_on": "2020-01-01"},
        "consent": {"credit_report": True, "data_processing": True},
    }
    body.update(changes)
    return body


@pytest.fixture(scope="module")
def deadlines() -> Mapping[str, str]:
    """The platform's deadline Parameters: none set, so the template's days (a module whose deadline must pass
    overrides this)."""
    return {}


@dataclass
class GrantEvidence:
    """Every grant of the template's roles, and those the suite's AWS calls used, over all modules' platforms."""

    every: set[str]
    used: set[str]


def _whole_suite(session: pytest.Session) -> bool:
    """Whether every e2e test was collected and ran, and passed: only then is an unused grant unused."""
    option = session.config.option
    e2e = Path(__file__).parent
    modules = {item.path for item in session.items if item.path.parent == e2e}
    return (
        not option.keyword
        and not option.markexpr
        and not getattr(option, "lf", False)
        and modules == set(e2e.glob("test_*.py"))
        and session.testsfailed == 0
    )


@pytest.fixture(scope="session")
def grant_evidence(request: pytest.FixtureRequest) -> Iterator[GrantEvidence]:
    """After the whole suite: every grant of template.yaml was used by some call, or is listed as not driven here
    (least privilege, issue 12: a grant no code path uses fails the run)."""
    evidence = GrantEvidence(set(), set())
    yield evidence
    if _whole_suite(request.session):
        unused = sorted(evidence.every - evidence.used - set(UNRECORDED))
        assert unused == [], "granted in template.yaml, used by no call of the e2e suite:\n" + "\n".join(unused)


@pytest.fixture(scope="module")
def platform(deadlines: Mapping[str, str], grant_evidence: GrantEvidence) -> Iterator[LocalPlatform]:
    """The platform, one per module: each module's deadlines are its own, and no module sees another's data."""
    with noon_in_china(), running_platform(port=0, deadlines=deadlines) as running:
        yield running
        authoriser = running.runtime.authorise
        assert isinstance(authoriser, Authoriser)
        template = load_template()
        names = {
            k: v for k, v in stack_names(running.stack, template).items() if k.split(".")[0] in template["Resources"]
        }
        every, used = least_privilege.grant_evidence(authoriser, running.runtime.calls, names)
        grant_evidence.every |= every
        grant_evidence.used |= used


@pytest.fixture(scope="module")
def client(platform: LocalPlatform) -> Client:
    return Client(platform)


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """Modules that move the test clock months ahead run first: every day the clock passes runs every nightly job
    over every loan and chain the stack holds, so those days cost least before the rest of the suite has booked its
    loans (the others read their dates from the clock, wherever it stands). Otherwise the order is pytest's."""
    items.sort(key=lambda item: item.get_closest_marker("months_on_the_clock") is None)
