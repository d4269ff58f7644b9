"""Writing a loan off by hand, maker-checker: one operator asks, with a reason; another confirms (or rejects).

The request waits on the loan (``servicing.write_off_request``); the confirmation writes the loan off as the daily
close does at the product's threshold (lending.steps.daily_close): from the day of the confirmation every
receivable is off the book and later payments are recoveries. Each step is one conditional servicing write, so two
operators racing on a loan cannot both win, and a retried confirmation finds the loan written off and answers as
the first did.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from lending import clock
from lending.calendar import business_date
from lending.catalogue import Catalogue
from lending.errors import MakerCheckerViolation, NoWriteOffPending, WriteOffRefused
from lending.serviced_loan import ServicedLoan
from lending.servicing import LoanStatus, LoanTerms, difference, replay
from lending.steps.ports import LoanStore
from lending.steps.servicing import redo

REQUEST = "write_off_request"


def request_write_off(loan_id: str, reason: str, operator: str, *, store: LoanStore) -> dict[str, Any]:
    """Ask for the loan to be written off; the same operator asking again with the same reason gets the same
    answer."""

    def work(loan: ServicedLoan) -> dict[str, Any]:
        pending = loan.state.get(REQUEST)
        if pending is not None:
            if pending["requested_by"] == operator and pending["reason"] == reason:
                return _answer(loan_id, pending, "PENDING_CONFIRMATION")
            raise WriteOffRefused(f"{loan_id}: a write-off waits for confirmation already")
        if loan.status is not LoanStatus.ACTIVE:
            raise WriteOffRefused(f"{loan_id} is {loan.status.value}: only an active loan can be written off")
        request = {"reason": reason, "requested_by": operator, "requested_at": clock.now().isoformat()}
        store.save(
            loan,
            changes={REQUEST: request},
            position=None,
            transaction=None,
            audit=("write_off_requested", clock.now(), {"reason": reason, "requested_by": operator}),
        )
        return _answer(loan_id, request, "PENDING_CONFIRMATION")

    return redo(store, loan_id, work)


def decide_write_off(
    loan_id: str, confirm: bool, note: str, operator: str, *, store: LoanStore, catalogue: Catalogue
) -> dict[str, Any]:
    """Confirm (write the loan off today) or reject the waiting request; never by the operator who asked."""

    def work(loan: ServicedLoan) -> dict[str, Any]:
        pending = loan.state.get(REQUEST)
        done = loan.state.get("written_off")
        if pending is None:
            if done and done.get("confirmed_by") == operator:
                return {"loan_id": loan_id, "status": LoanStatus.WRITTEN_OFF.value, "written_off_on": done["on"]}
            raise NoWriteOffPending(f"{loan_id}: no write-off waits for confirmation")
        if pending["requested_by"] == operator:
            raise MakerCheckerViolation("the operator who asked for the write-off cannot confirm or reject it")
        if confirm and loan.status is not LoanStatus.ACTIVE:
            raise WriteOffRefused(f"{loan_id} is {loan.status.value} now: there is nothing to write off")
        decided = {"decision": "confirm" if confirm else "reject", "note": note, "decided_by": operator}
        if not confirm:
            store.save(
                loan,
                changes={REQUEST: None},
                position=None,
                transaction=None,
                audit=("write_off_rejected", clock.now(), {**pending, **decided}),
            )
            return {"loan_id": loan_id, "status": loan.status.value}
        today = business_date()
        terms = replace(LoanTerms.from_record(loan.record, catalogue), written_off_on=today)
        position = replay(terms, loan.events, loan.through(loan.events, today))
        transaction = difference(
            f"{loan_id}/write-off", "write_off", today, loan.booked, position.booked, f"loan {loan_id}"
        )
        written = {
            "on": today.isoformat(),
            "reason": pending["reason"],
            "by": pending["requested_by"],
            "confirmed_by": operator,
        }
        store.save(
            loan,
            changes={REQUEST: None, "written_off": written, "aged_through": position.as_of.isoformat()},
            position=position,
            transaction=transaction,
            audit=("written_off", clock.now(), {**written, "written_off": str(position.written_off), "note": note}),
        )
        return {"loan_id": loan_id, "status": position.status.value, "written_off_on": today.isoformat()}

    return redo(store, loan_id, work)


def _answer(loan_id: str, request: dict[str, Any], status: str) -> dict[str, Any]:
    return {
        "loan_id": loan_id,
        "status": status,
        "reason": request["reason"],
        "requested_by": request["requested_by"],
        "requested_at": request["requested_at"],
    }
