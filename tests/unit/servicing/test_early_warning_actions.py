"""An early warning's actions on a line (servicing.limit_cut, servicing.warning_freeze), as its replay honours them:
the available limit and the freeze GET /v1/loans/{id} shows, and the drawdown refusal they give."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from lending.catalogue import load_catalogue
from lending.drawdown import refusal
from lending.money import Money
from lending.servicing import EventKind, LoanTerms, ServicingEvent, replay

CATALOGUE = load_catalogue()
OPENED = date(2026, 12, 5)


def _line(servicing: dict[str, Any] | None = None) -> LoanTerms:
    record: dict[str, Any] = {
        "loan_id": "CL-1",
        "product": "credit_line",
        "opened_on": OPENED.isoformat(),
        "annual_rate": "0.1800",
        "term_months": 12,
        "limit": "100000.00",
    }
    if servicing is not None:
        record["servicing"] = servicing
    return LoanTerms.from_record(record, CATALOGUE)


def _events(*moves: tuple[EventKind, str, int]) -> list[ServicingEvent]:
    return [
        ServicingEvent(f"e{i}", kind, datetime.combine(OPENED + timedelta(days=day), time(2), tzinfo=UTC), Money.of(a))
        for i, (kind, a, day) in enumerate(moves)
    ]


DRAWN = _events((EventKind.DRAWDOWN, "20000.00", 0))
CHECKED = date(2026, 12, 20)  # before the first statement falls due: the line is current


def test_a_line_cut_to_what_it_had_drawn_has_nothing_left_to_draw_and_regains_what_is_repaid() -> None:
    # Given a line that drew 20,000 of 100,000, cut to the 20,000 drawn
    cut = _line({"limit_cut": {"to": "20000.00", "warning_id": "CL-1/2027-02/cash_flow_drop", "on": "2027-01-31"}})
    position = replay(cut, DRAWN, CHECKED)
    # Then nothing is available, and a drawdown is refused on the limit, not frozen
    assert (position.available_limit, position.frozen) == (Money.ZERO, False)
    assert refusal(cut, position, Money.of("0.01"), CHECKED, Money.ZERO) == "0.01 is over the available limit of 0.00"
    # And what the borrower repays of the principal may be drawn again, up to the cut limit only
    repaid = replay(cut, [*DRAWN, *_events((EventKind.REPAYMENT, "5000.00", 16))], CHECKED + timedelta(days=2))
    assert Money.ZERO < repaid.available_limit <= Money.of("5000.00")  # type: ignore[operator]
    # While the line without the cut keeps its whole limit
    assert replay(_line(), DRAWN, CHECKED).available_limit == Money.of("80000.00")


def test_a_frozen_line_refuses_every_drawdown_naming_the_early_warning() -> None:
    frozen = _line({"warning_freeze": {"warning_id": "CL-1/2027-02/bureau_change", "on": "2027-01-31"}})
    position = replay(frozen, DRAWN, CHECKED)
    assert position.frozen is True
    assert position.available_limit == Money.of("80000.00")
    assert "early warning" in str(refusal(frozen, position, Money.of("1.00"), CHECKED, Money.ZERO))
