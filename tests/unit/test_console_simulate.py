"""`lending simulate`: a loan's life replayed offline by date, on the servicing code; bad input is one line."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from infra.console import main


def _simulate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], events: list[dict[str, Any]], *extra: str
) -> tuple[int, Any, str]:
    path = tmp_path / "events.json"
    path.write_text(json.dumps(events))
    status = main(["simulate", "--amount", "60000", "--start", "2026-01-15", "--events", str(path), *extra])
    out, err = capsys.readouterr()
    return status, (json.loads(out) if status == 0 and "--table" not in extra else out), err


LOAN = ["--product", "business_instalment", "--annual-rate", "0.18", "--method", "equal_instalment"]


def test_what_if_i_pay_early_then_on_time_then_let_a_month_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a 60,000 loan at 18%, and the events as an analyst writes them, out of order
    events = [
        {"on": "2026-04-20", "kind": "day"},
        {"on": "2026-01-15", "kind": "payment", "amount": "3000.00"},
        {"on": "2026-02-15", "kind": "payment", "amount": "5500.80"},
    ]

    # When they are simulated
    status, days, _ = _simulate(tmp_path, capsys, events, *LOAN)

    # Then each date is shown in order: the payout-day payment is all principal (no interest earned yet)
    assert status == 0
    assert [d["date"] for d in days] == ["2026-01-15", "2026-02-15", "2026-04-20"]
    first = days[0]
    assert first["state"]["principal_outstanding"] == "57000.00"
    assert {p["account"]: p["amount"] for p in first["transaction"]} == {
        "principal_receivable:simulated": "-3000.00",
        "settlement_cash": "3000.00",
        # the allowance of a normal loan (1%) follows the principal down
        "loan_loss_allowance:simulated": "30.00",
        "provision_expense": "-30.00",
    }
    # And the instalment paid on its due date settles the re-planned first row (855.00 = 57,000 × 1.5%)
    assert days[1]["schedule"][0] == {
        "due_date": "2026-02-15",
        "principal": "4645.80",
        "interest": "855.00",
        "fee": "0.00",
        "paid": True,
        "principal_paid": "4645.80",
        "interest_paid": "855.00",
    }
    # And with March's instalment unpaid, 20 April finds the loan 36 days past due, with penalty accrued
    late = days[2]["state"]
    assert late["days_past_due"] == 36
    assert late["penalty_accrued"] != "0.00"
    # And each step's transaction is balanced
    for day in days:
        assert sum(float(p["amount"]) for p in day["transaction"] or []) == pytest.approx(0)


def test_a_line_is_drawn_and_repaid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    events = [
        {"on": "2026-01-20", "kind": "drawdown", "amount": "10000"},
        {"on": "2026-02-20", "kind": "payment", "amount": "2000"},
    ]
    status, days, _ = _simulate(tmp_path, capsys, events, "--product", "credit_line", "--annual-rate", "0.18")
    assert status == 0
    assert days[0]["state"]["available_limit"] == "50000.00"
    assert days[0]["state"]["principal_outstanding"] == "10000.00"
    # And the payment pays the month's interest first, then principal
    repaid = days[1]
    assert Decimal(repaid["state"]["principal_outstanding"]) > Decimal("8000.00")
    assert Decimal(repaid["state"]["principal_outstanding"]) < Decimal("10000.00")


@pytest.mark.parametrize(
    ("events", "message"),
    [
        ([{"on": "2026-01-10", "kind": "payment", "amount": "1"}], "before the loan opened"),
        ([{"on": "2026-02-01", "kind": "payment"}], "needs an amount"),
        ([{"on": "2026-02-01", "kind": "drawdown", "amount": "5"}], "only a credit line"),
        ([{"on": "2026-02-01", "kind": "refund", "amount": "5"}], "--events: 0.kind"),
        ([{"on": "2026-02-01", "kind": "payment", "amount": "1e3"}], "--events: 0.amount"),
    ],
)
def test_bad_events_are_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], events: list[dict[str, Any]], message: str
) -> None:
    status, _, err = _simulate(tmp_path, capsys, events, *LOAN)
    assert status == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_the_table_reads_down_by_date(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = _simulate(
        tmp_path, capsys, [{"on": "2026-01-15", "kind": "payment", "amount": "3000"}], *LOAN, "--table"
    )
    assert status == 0
    assert out.startswith("2026-01-15  payment 3000")
    assert "principal 57000.00" in out
