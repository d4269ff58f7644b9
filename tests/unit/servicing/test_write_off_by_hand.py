"""Writing a loan off by hand, maker-checker (lending.steps.write_offs)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from lending.catalogue import Catalogue
from lending.errors import MakerCheckerViolation, NoWriteOffPending, WriteOffRefused
from lending.ledger import Account, AccountCode
from lending.steps.write_offs import decide_write_off, request_write_off


def test_one_operator_asks_another_confirms_and_the_loan_is_off_the_book(
    booked_instalment: Callable[..., dict[str, Any]], memory_store: Callable[..., Any], catalogue: Catalogue
) -> None:
    store = memory_store(booked_instalment())
    asked = request_write_off("L-1", "fraud confirmed by the police", "op-1", store=store)
    assert asked["status"] == "PENDING_CONFIRMATION"
    # Asking again the same way is the same request; anything else waits for the first to be decided
    assert request_write_off("L-1", "fraud confirmed by the police", "op-1", store=store) == asked
    with pytest.raises(WriteOffRefused):
        request_write_off("L-1", "another reason", "op-2", store=store)
    # The maker cannot check their own request
    with pytest.raises(MakerCheckerViolation):
        decide_write_off("L-1", True, "", "op-1", store=store, catalogue=catalogue)
    assert store.load("L-1").record["status"] == "ACTIVE"
    done = decide_write_off("L-1", True, "checked the file", "op-2", store=store, catalogue=catalogue)
    assert done["status"] == "WRITTEN_OFF"
    loan = store.load("L-1")
    assert loan.state["written_off"]["by"] == "op-1"
    assert loan.state["written_off"]["confirmed_by"] == "op-2"
    assert store.ledger.balances().posted[Account(AccountCode.WRITE_OFF, "L-1")] > 0
    # A retried confirmation answers the same; a second request on a written-off loan is refused
    again = decide_write_off("L-1", True, "checked the file", "op-2", store=store, catalogue=catalogue)
    assert again == done
    with pytest.raises(WriteOffRefused):
        request_write_off("L-1", "fraud confirmed by the police", "op-1", store=store)
    kinds = [kind for _, kind, _ in store.audit]
    assert kinds[-2:] == ["write_off_requested", "written_off"]


def test_a_rejected_request_leaves_the_loan_as_it_was(
    booked_instalment: Callable[..., dict[str, Any]], memory_store: Callable[..., Any], catalogue: Catalogue
) -> None:
    store = memory_store(booked_instalment())
    request_write_off("L-1", "borrower unreachable", "op-1", store=store)
    assert decide_write_off("L-1", False, "too early", "op-2", store=store, catalogue=catalogue)["status"] == "ACTIVE"
    assert store.load("L-1").state.get("write_off_request") is None
    assert store.ledger.journal == ()
    with pytest.raises(NoWriteOffPending):
        decide_write_off("L-1", True, "", "op-3", store=store, catalogue=catalogue)
