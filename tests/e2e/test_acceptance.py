"""The offer's acceptance end to end over HTTP: an approved application waits for the borrower, who reads the
contract (APR and total cost first), may take less of the offer, and accepts exactly the document whose hash they
sign; only then is money reserved, paid out and booked, at the accepted amount and term.

This module's platform keeps the template's deadlines (days): nothing races the acceptance deadline here; its
passing is test_deadlines.py's.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

import pytest

from infra.local.platform import LocalPlatform

if TYPE_CHECKING:
    from conftest import Client

TERMINAL = {"DISBURSED", "DECLINED", "FAILED", "EXPIRED", "LINE_OPENED"}


def _open_offer(client: Client, application_id: str) -> dict[str, Any]:
    """The application's view once its offer is open for acceptance."""
    return client.wait_until(
        lambda: client.call("GET", f"/v1/applications/{application_id}")[1],
        lambda seen: seen["status"] in TERMINAL or bool((seen.get("offer") or {}).get("expires_at")),
        f"{application_id}'s offer to open",
    )


@pytest.fixture(scope="module")
def waiting(client: Client) -> dict[str, str]:
    """Approved applications, each left waiting for its borrower."""
    started = {
        "smaller": client.apply("0001", key="accept-smaller", amount="60000.00", term_months=12),
        "conflicts": client.apply("0001", key="accept-conflicts", amount="30000.00", term_months=6),
        "line": client.apply("0001", key="accept-line", product="credit_line", amount="80000.00", term_months=12),
    }
    for application_id in started.values():
        assert _open_offer(client, application_id)["status"] == "APPROVED"
    return started


def test_an_approved_offer_waits_for_acceptance_and_nothing_is_reserved_or_paid(
    client: Client, platform: LocalPlatform, waiting: dict[str, str]
) -> None:
    view = client.call("GET", f"/v1/applications/{waiting['conflicts']}")[1]
    assert view["status"] == "APPROVED"
    assert view["offer"]["expires_at"] is not None
    assert view["accepted"] is None
    assert view["loan_id"] is None
    assert platform.vendors.payouts.payouts(waiting["conflicts"]) == []


def test_the_contract_states_the_apr_and_total_cost_first_and_its_hash_is_of_its_document(
    client: Client, waiting: dict[str, str]
) -> None:
    contract = client.contract(waiting["smaller"])
    again = client.contract(waiting["smaller"])
    chinese = client.contract(waiting["smaller"], language="zh-CN")

    # The same inputs give the same document and hash, whatever language it is read in
    assert again["sha256"] == contract["sha256"] == chinese["sha256"]
    canonical = json.dumps(contract["document"], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert hashlib.sha256(canonical.encode()).hexdigest() == contract["sha256"]
    # APR and the total cost of credit come before anything else, in both languages
    assert contract["text"].splitlines()[0].startswith("APR")
    assert contract["text"].splitlines()[1].startswith("Total cost of credit: CNY " + contract["total_cost_of_credit"])
    assert chinese["language"] == "zh-CN"
    assert chinese["text"].startswith("年化利率")
    assert contract["apr"] == contract["offer"]["apr"]
    # Its figures add up: the schedule repays the amount, and the cost is the interest and the fees
    assert contract["amount"] == "60000.00"
    assert len(contract["schedule"]) == 12
    fen = [int(row["principal"].replace(".", "")) for row in contract["schedule"]]
    assert sum(fen) == 6_000_000
    cost = int(contract["total_interest"].replace(".", "")) + int(contract["total_fees"].replace(".", ""))
    assert cost == int(contract["total_cost_of_credit"].replace(".", ""))
    # The funding partners, the penalty and early repayment rules, and the consent are in the document
    assert contract["document"]["funding"]
    assert contract["document"]["consent"] == {
        "credit_report": True,
        "data_processing": True,
    }
    assert {"penalty_annual_rate", "early_repayment"} <= set(contract["document"])


def test_a_smaller_amount_over_a_shorter_term_is_what_is_paid_out_and_booked(
    client: Client, platform: LocalPlatform, waiting: dict[str, str]
) -> None:
    application_id = waiting["smaller"]
    full = client.contract(application_id)
    contract = client.contract(application_id, query="amount=40000.00&term_months=6")
    assert contract["sha256"] != full["sha256"]
    assert (contract["amount"], contract["term_months"], len(contract["schedule"])) == ("40000.00", 6, 6)

    status, accepted = client.accept(application_id, contract["sha256"])
    assert status == 202, accepted
    assert (accepted["contract_sha256"], accepted["amount"], accepted["term_months"]) == (
        contract["sha256"],
        "40000.00",
        6,
    )
    view = client.wait_for(application_id, TERMINAL, accept=False)
    assert view["status"] == "DISBURSED"
    assert view["accepted"]["contract_sha256"] == contract["sha256"]

    loan = client.call("GET", f"/v1/loans/{view['loan_id']}")[1]
    assert loan["principal_outstanding"] == "40000.00"
    assert len(loan["schedule"]) == 6
    (payout,) = platform.vendors.payouts.payouts(application_id)
    assert str(payout.amount) == contract["net_disbursement"]
    # The acceptance and its hash are in the audit chain, before the money moved
    audit = client.call("GET", f"/v1/loans/{view['loan_id']}/audit")[1]
    kinds = [event["kind"] for event in audit["events"]]
    assert kinds.index("contract_accepted") < kinds.index("funding_reserved") < kinds.index("paid_out")
    (signed,) = [e for e in audit["events"] if e["kind"] == "contract_accepted"]
    assert signed["data"]["contract_sha256"] == contract["sha256"]
    assert audit["verified"] is True
    # The accepted contract is still what the contract route shows
    assert client.contract(application_id)["sha256"] == contract["sha256"]


def test_an_amount_or_term_outside_the_offer_is_refused_naming_it(client: Client, waiting: dict[str, str]) -> None:
    base = f"/v1/applications/{waiting['conflicts']}/contract"
    for query in ("amount=30000.01", "term_months=7", "amount=1.00", "amount=12e3", "term_months=x"):
        status, answer = client.call("GET", f"{base}?{query}")
        assert status == 422, (query, answer)
        assert answer["error"]["code"] in {"invalid_request", "product_rule_violation"}


def test_a_mismatched_foreign_or_second_acceptance_changes_nothing_and_says_why(
    client: Client, platform: LocalPlatform, waiting: dict[str, str]
) -> None:
    application_id = waiting["conflicts"]
    contract = client.contract(application_id)
    shorter = client.contract(application_id, query="term_months=3")

    # A hash never issued for this application
    status, answer = client.accept(application_id, "f" * 64)
    assert (status, answer["error"]["code"]) == (409, "contract_mismatch")
    # Another borrower's: exactly as if it did not exist
    assert client.call("GET", f"/v1/applications/{application_id}/contract", token="borrower2")[0] == 404
    assert client.accept(application_id, contract["sha256"], token="borrower2")[0] == 404
    # Not a hash at all
    assert client.accept(application_id, "not-a-hash")[0] == 422
    view = client.call("GET", f"/v1/applications/{application_id}")[1]
    assert (view["status"], view["accepted"]) == ("APPROVED", None)
    assert platform.vendors.payouts.payouts(application_id) == []

    # The real one, twice: the same answer
    first = client.accept(application_id, contract["sha256"])
    assert first[0] == 202
    assert client.accept(application_id, contract["sha256"]) == first
    # Another contract after it: already accepted
    status, answer = client.accept(application_id, shorter["sha256"])
    assert (status, answer["error"]["code"]) == (409, "already_accepted")
    view = client.wait_for(application_id, TERMINAL, accept=False)
    assert view["status"] == "DISBURSED"
    assert client.call("GET", f"/v1/loans/{view['loan_id']}")[1]["principal_outstanding"] == "30000.00"


def test_a_line_accepts_its_line_agreement_before_it_opens(client: Client, waiting: dict[str, str]) -> None:
    application_id = waiting["line"]
    agreement = client.contract(application_id, query="amount=50000.00")
    assert agreement["schedule"] == []
    assert agreement["document"]["product"]["kind"] == "revolving"
    assert agreement["text"].startswith("APR")
    assert client.call("GET", f"/v1/applications/{application_id}")[1]["status"] == "APPROVED"

    assert client.accept(application_id, agreement["sha256"])[0] == 202
    view = client.wait_for(application_id, TERMINAL, accept=False)
    assert view["status"] == "LINE_OPENED"
    line = client.call("GET", f"/v1/loans/{view['loan_id']}")[1]
    assert line["available_limit"] == "50000.00"


def test_an_application_not_yet_approved_has_no_contract_to_accept(client: Client) -> None:
    application_id = client.apply("0003", key="accept-referred", amount="50000.00", term_months=24)
    client.wait_for(application_id, {"UNDER_REVIEW"} | TERMINAL)
    status, answer = client.call("GET", f"/v1/applications/{application_id}/contract")
    assert (status, answer["error"]["code"]) == (409, "not_awaiting_acceptance")
    status, answer = client.accept(application_id, "a" * 64)
    assert (status, answer["error"]["code"]) == (409, "not_awaiting_acceptance")
