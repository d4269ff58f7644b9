"""The portfolio's cells, monthly rolls, vintage curves and daily snapshot (lending.portfolio)."""

from __future__ import annotations

from datetime import date
from typing import Any

from lending.catalogue import load_catalogue
from lending.portfolio import NEW, Cell, Figures, Roll, build_snapshot, moves, rolled, standing

BUCKETS = load_catalogue().delinquency_buckets


def _loan(**state: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    record = {"product": "business_instalment", "industry": "retail", "opened_on": "2027-01-05", "status": "ACTIVE"}
    record["status"] = state.pop("status", "ACTIVE")
    return record, {"principal_outstanding": "1000.00", "provision": "10.00", **state}


def test_a_loan_stands_in_one_cell_and_a_write_moves_it() -> None:
    before = standing(*_loan())
    after = standing(*_loan(bucket="dpd_1_30", classification="special_mention", provision="20.00"))
    assert before[0] == Cell("business_instalment", "retail", "ACTIVE", "current", "normal", "2027-01")
    assert before[1] == Figures(1, 100000, 1000, 0)
    changes = moves(before, after)
    assert changes == {before[0]: Figures(-1, -100000, -1000, 0), after[0]: Figures(1, 100000, 2000, 0)}
    assert sum((f for f in changes.values()), Figures()) == Figures(0, 0, 1000, 0)  # only the allowance grew
    # A loan written off carries nothing on the book, only what was written off
    off = standing(
        *_loan(
            status="WRITTEN_OFF", written_off={"on": "2027-07-01", "by": "daily_close"}, written_off_principal="1000.00"
        )
    )
    assert off[0].state == "written_off"
    assert off[0].classification == "none"  # out of the five categories
    assert off[1] == Figures(1, 0, 0, 100000)
    # A write that changes nothing moves nothing
    assert moves(before, before) == {}


def test_a_loans_month_counts_once_from_where_it_began_to_where_it_is() -> None:
    # The first write of February: the loan began the month current, and is now 1-30 days past due
    counts, memory = rolled({"month": "2027-01", "start": "current"}, "current", "dpd_1_30", "2027-02")
    assert counts == {Roll("2027-02", "current", "dpd_1_30"): 1}
    assert memory == {"month": "2027-02", "start": "current"}
    # A later write that month moves it on: one loan, counted in one roll only
    counts, memory = rolled(memory, "dpd_1_30", "dpd_31_60", "2027-02")
    assert counts == {Roll("2027-02", "current", "dpd_1_30"): -1, Roll("2027-02", "current", "dpd_31_60"): 1}
    # Booked this month: it was not in any state when the month began
    counts, memory = rolled(None, None, "current", "2027-02")
    assert counts == {Roll("2027-02", NEW, "current"): 1}


def test_the_snapshot_adds_the_cells_up_and_gives_rates_against_the_months_start() -> None:
    january = date(2027, 1, 31)
    cells = [
        (Cell("business_instalment", "retail", "ACTIVE", "current", "normal", "2027-01"), Figures(8, 800000, 8000, 0)),
        (Cell("credit_line", "food", "ACTIVE", "dpd_31_60", "special_mention", "2027-01"), Figures(2, 2000, 40, 0)),
    ]
    first = build_snapshot(january, cells, [], None, BUCKETS)
    assert first["loans"] == 10
    assert first["principal_outstanding"] == "8020.00"
    assert first["provisions"] == "80.40"
    assert first["classification"]["special_mention"]["loans"] == 2
    assert first["by_product"]["credit_line"]["principal_outstanding"] == "20.00"
    assert first["vintages"] == [
        {"vintage": "2027-01", "loans": 10, "points": [{"month_on_book": 0, "share_30_plus": "0.2000"}]}
    ]
    # In February, 2 of the 8 current loans fell 1-30 days behind
    february = date(2027, 2, 10)
    rolls = [(Roll("2027-02", "current", "dpd_1_30"), 2), (Roll("2027-01", "current", "dpd_31_60"), 5)]
    second = build_snapshot(february, cells, rolls, first, BUCKETS)
    assert second["month_start"] == {"month": "2027-02", "states": {"current": 8, "dpd_31_60": 2}}
    assert second["roll_rates"] == [
        {"month": "2027-02", "from_state": "current", "to_state": "dpd_1_30", "loans": 2, "rate": "0.2500"}
    ]
    assert [p["month_on_book"] for p in second["vintages"][0]["points"]] == [0, 1]
    # The next day in February keeps the month's starting counts (not the day before's)
    third = build_snapshot(date(2027, 2, 11), cells[:1], rolls, second, BUCKETS)
    assert third["month_start"] == second["month_start"]
