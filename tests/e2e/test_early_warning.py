"""Early warning before a missed payment, over HTTP on the local stack: the sandbox's triggers on the test clock.

Five borrowers are paid out today: a line on a bank account ending ``5555`` (its inflows fall by 60% from the
second month), a line of a phone ending ``0005`` (the bureau shows a default at another lender 30 days after
payout), a business loan of a business named ``… POWER …`` (its electricity use falls by 70% from the second
month), an ordinary borrower, and one whose collections fail (account ``3333``: the daily close's delinquency
warnings). The test clock then passes the first of the month after next (later when that is not yet 30 days on),
so the monthly re-check has run on the second month's figures: each trigger takes its policy's action (the limit
cut to what is drawn, drawdowns frozen, a flag) and is listed for operations; the ordinary borrower gets no
warning.
"""

from __future__ import annotations

import json
import urllib.request
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from infra.local.platform import LocalPlatform
from lending.calendar import add_months

if TYPE_CHECKING:
    from conftest import Client

pytestmark = pytest.mark.months_on_the_clock

TERMINAL = {"DISBURSED", "DECLINED", "FAILED", "EXPIRED", "LINE_OPENED"}


def _control(platform: LocalPlatform, path: str, body: Any = None) -> Any:
    request = urllib.request.Request(
        platform.control_url + path,
        method="GET" if body is None else "POST",
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    # A clock advance runs every nightly job for each day passed (two months of them here) and the monthly
    # re-check's workflow: the bound is for a control port that never answers.
    with urllib.request.urlopen(request, timeout=900) as response:
        return json.loads(response.read())


def _opened(client: Client, phone: str, account: str, key: str, **changes: Any) -> str:
    application_id = client.apply(phone, account, key=key, **changes)
    view = client.wait_for(application_id, TERMINAL)
    assert view["status"] in ("DISBURSED", "LINE_OPENED"), view
    return str(view["loan_id"])


def _draw(client: Client, loan_id: str, amount: str, key: str) -> tuple[int, Any]:
    return client.call("POST", f"/v1/loans/{loan_id}/drawdowns", {"amount": amount}, headers={"Idempotency-Key": key})


def _loan(client: Client, loan_id: str) -> dict[str, Any]:
    status, view = client.call("GET", f"/v1/loans/{loan_id}")
    assert status == 200, view
    return dict(view)


def _drawn(client: Client, loan_id: str, amount: str, key: str) -> None:
    status, drawdown = _draw(client, loan_id, amount, key)
    assert status == 202, drawdown
    client.wait_until(
        lambda: _loan(client, loan_id),
        lambda seen: seen["principal_outstanding"] == amount,
        "the drawdown to be paid out and booked",
    )


def _warnings(client: Client) -> list[dict[str, Any]]:
    """Every warning, page by page (two a page, so the cursor is followed)."""
    found: list[dict[str, Any]] = []
    path = "/v1/ops/warnings?limit=2"
    while True:
        status, page = client.call("GET", path, token="operations")
        assert status == 200, page
        found += page["items"]
        if page["next"] is None:
            return found
        path = f"/v1/ops/warnings?limit=2&cursor={page['next']}"


@pytest.fixture(scope="module")
def loans(client: Client, platform: LocalPlatform) -> dict[str, str]:
    """The four borrowers' loans, paid out today, and the clock moved past the month after next's first day."""
    line = {"product": "credit_line", "amount": "100000.00", "term_months": 12}
    opened = {
        "cash_flow": _opened(client, "0001", "5555", "ew-cash-flow", **line),
        "bureau": _opened(client, "0005", "5678", "ew-bureau", **line),
        "electricity": _opened(
            client,
            "0001",
            "5678",
            "ew-electricity",
            business={"name": "Hua POWER Works", "industry": "retail", "registered_on": "2020-01-01"},
        ),
        "ordinary": _opened(client, "0001", "6789", "ew-ordinary"),
        # Collections fail on 3333: the daily close's delinquency warnings are listed beside the re-check's.
        "delinquent": _opened(client, "0001", "3333", "ew-delinquent"),
    }
    _drawn(client, opened["cash_flow"], "20000.00", "ew-draw-cash-flow")
    _drawn(client, opened["bureau"], "10000.00", "ew-draw-bureau")
    today = date.fromisoformat(_control(platform, "/clock")["date"])
    # The first monthly run on the second month's figures, and at least 30 days after today's payouts (a payout on
    # the 31st of January is only 29 days before the 1st of March).
    rerun = max(add_months(today.replace(day=1), 2), add_months((today + timedelta(days=30)).replace(day=1), 1))
    moved = _control(platform, "/clock", {"advance_to": rerun.isoformat()})
    rechecks = [job for job in moved["ran"] if job["job"] == "EveryMonth"]
    assert [job["result"]["execution"] for job in rechecks] == ["SUCCEEDED"] * len(rechecks) != [], rechecks
    return opened


def test_each_sandbox_trigger_raises_its_warning_with_its_action_and_an_ordinary_borrower_none(
    client: Client, loans: dict[str, str]
) -> None:
    # Given the re-check ran on the second month's figures / When operations list the warnings
    by_loan: dict[str, list[dict[str, Any]]] = {}
    for warning in _warnings(client):
        by_loan.setdefault(warning["loan_id"], []).append(warning)

    # Then each trigger raised exactly its warning, with its evidence and action; the ordinary borrower none
    [(cash_flow,)] = [tuple(by_loan[loans["cash_flow"]])]
    assert (cash_flow["kind"], cash_flow["action"]) == ("cash_flow_drop", "limit_cut")
    assert Decimal(cash_flow["evidence"]["share"]) > Decimal("0.40")
    assert Decimal(cash_flow["evidence"]["after"]) < Decimal(cash_flow["evidence"]["before"])
    [(bureau,)] = [tuple(by_loan[loans["bureau"]])]
    assert (bureau["kind"], bureau["action"]) == ("bureau_change", "freeze")
    assert (bureau["evidence"]["before"], bureau["evidence"]["after"]) == (0, 1)
    [(electricity,)] = [tuple(by_loan[loans["electricity"]])]
    assert (electricity["kind"], electricity["action"]) == ("electricity_drop", "none")
    assert Decimal(electricity["evidence"]["share"]) > Decimal("0.50")
    assert loans["ordinary"] not in by_loan
    # And the daily close's warnings on the loan left unpaid are listed too, one per bucket it entered, no other
    delinquent = by_loan[loans["delinquent"]]
    assert {(w["kind"], w["action"]) for w in delinquent} == {("delinquency_worsened", "none")}
    assert delinquent[-1]["evidence"]["bucket"] == "dpd_1_30"
    assert delinquent[-1]["evidence"]["days_past_due"] == 1
    # And each warning names its month: the re-check on the first of the month looked at the month before
    assert cash_flow["warning_id"] == f"{loans['cash_flow']}/{cash_flow['raised_at'][:7]}/cash_flow_drop"


def test_a_cut_line_has_no_limit_left_and_a_frozen_line_refuses_drawdowns_with_the_reason(
    client: Client, loans: dict[str, str]
) -> None:
    # Given the cash-flow line cut to what it had drawn
    cut = _loan(client, loans["cash_flow"])
    assert (cut["available_limit"], cut["frozen"]) == ("0.00", False)
    status, refused = _draw(client, loans["cash_flow"], "100.00", "ew-draw-after-cut")
    assert (status, refused["error"]["code"]) == (409, "drawdown_refused")
    assert "available limit" in refused["error"]["message"]

    # And the bureau line frozen, the limit untouched
    frozen = _loan(client, loans["bureau"])
    assert frozen["frozen"] is True
    assert Decimal(frozen["available_limit"]) == Decimal("90000.00")
    status, refused = _draw(client, loans["bureau"], "100.00", "ew-draw-after-freeze")
    assert (status, refused["error"]["code"]) == (409, "drawdown_refused")
    assert "early warning" in refused["error"]["message"]


def test_the_same_month_run_again_raises_nothing_twice_and_only_operations_read_warnings(
    client: Client, platform: LocalPlatform, loans: dict[str, str]
) -> None:
    # Given the warnings raised so far
    before = _warnings(client)
    # When the month's schedule fires again for the day it fired for (the last of the month before)
    today = date.fromisoformat(_control(platform, "/clock")["date"])
    fired_for = today.replace(day=1) - timedelta(days=1)
    again = _control(platform, "/schedules/EveryMonth", {"date": fired_for.isoformat()})
    # Then its workflow is the month's (started once) and no warning is raised twice
    assert again["execution"] == "SUCCEEDED"
    assert _warnings(client) == before
    # And a borrower, or an underwriter, is refused the list
    for token in ("borrower", "underwriter"):
        status, answer = client.call("GET", "/v1/ops/warnings", token=token)
        assert (status, answer["error"]["code"]) == (403, "forbidden")
    status, answer = client.call("GET", "/v1/ops/warnings?limit=0", token="operations")
    assert status == 422
