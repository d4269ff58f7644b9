"""A drawdown's statuses: the API's values, which may follow which, and what holds the line's limit."""

from __future__ import annotations

import typing

import pytest

from lending.api.models import DrawdownView
from lending.drawdown import ALLOWED_FROM, HOLDING, TERMINAL, DrawdownStatus, may_move
from lending.serviced_loan import ServicedLoan

S = DrawdownStatus


def test_the_statuses_are_exactly_the_ones_the_api_answers_with() -> None:
    assert set(typing.get_args(DrawdownView.model_fields["status"].annotation)) == {s.value for s in S}


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.REQUESTED, S.FUNDED),
        (S.FUNDED, S.PAID),
        (S.PAID, S.BOOKED),
        (S.REQUESTED, S.FAILED),
        (S.FUNDED, S.FAILED),
    ],
)
def test_a_drawdown_moves_forward_along_its_workflow(current: DrawdownStatus, target: DrawdownStatus) -> None:
    assert may_move(current, target)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.FUNDED, S.REQUESTED),  # a late request step never takes back its funding
        (S.REQUESTED, S.PAID),  # nothing is disbursed unfunded
        (S.PAID, S.FAILED),  # money that left is booked, never released
        (S.BOOKED, S.FAILED),
        (S.FAILED, S.FUNDED),  # a released drawdown stays released
        (S.FAILED, S.BOOKED),
    ],
)
def test_a_drawdown_never_moves_backwards_or_past_its_end(current: DrawdownStatus, target: DrawdownStatus) -> None:
    assert not may_move(current, target)


def test_staying_put_is_allowed_so_a_retried_step_is_a_no_op() -> None:
    assert all(may_move(status, status) for status in S)


def test_only_booked_and_failed_are_final_and_only_drawdowns_under_way_hold_the_limit() -> None:
    assert {s for s in S if not any(s in ALLOWED_FROM[t] for t in S)} == TERMINAL == {S.BOOKED, S.FAILED}
    assert {S.REQUESTED, S.FUNDED, S.PAID} == HOLDING


def test_a_stored_drawdown_reads_back_with_its_status_typed() -> None:
    record = {
        "loan_id": "LINE-1",
        "application_id": "app-LINE-1",
        "opened_on": "2026-01-10",
        "servicing": {"drawdowns": {"dd_1": {"amount": "100.00", "status": "funded"}}},
    }
    drawdown = ServicedLoan.parse(record).drawdowns["dd_1"]
    assert drawdown["status"] is S.FUNDED
    record["servicing"]["drawdowns"]["dd_1"]["status"] = "lost"
    with pytest.raises(ValueError, match="'lost' is not a valid DrawdownStatus"):
        ServicedLoan.parse(record)
