"""The servicing steps under concurrency: several threads run a step on the same loan at once over the in-memory
store, whose save is atomic (a lock) but whose read-compute-write is not, exactly like two Lambdas on one item: the
loser of a race gets a stale-version error and the step re-reads and redoes its work (lending.steps.servicing.redo).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from lending import bookkeeping
from lending.catalogue import Catalogue
from lending.drawdown import HOLDING
from lending.errors import DrawdownRefused
from lending.ledger import Account
from lending.money import Money
from lending.servicing import EventKind, LoanTerms, ServicingEvent, replay
from lending.steps.daily_close import close_loan
from lending.steps.drawdowns import request_drawdown
from lending.steps.repayments import apply_repayment

THREADS = 8
ROUNDS = 3  # each scenario is raced a few times over: a race that is lost only now and then still shows


def _race(work: Callable[[int], Any]) -> list[Any]:
    """Run ``work(i)`` for i in 0..7 in eight threads released together; their results (or the exceptions)."""
    barrier = threading.Barrier(THREADS)
    results: list[Any] = [None] * THREADS

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = work(index)
        except Exception as exc:
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)  # only a hung step takes this long: the bound ends a test that has failed
    assert not any(thread.is_alive() for thread in threads)
    return results


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_the_same_payment_sent_by_eight_threads_at_once_is_applied_once(
    round_: int,
    catalogue: Catalogue,
    booked_instalment: Callable[..., dict[str, Any]],
    memory_store: Callable[..., Any],
    at: Callable[..., datetime],
) -> None:
    # Given a loan, and a payment notice for its first instalment
    record = booked_instalment()
    store = memory_store(record)
    store.meet_after_first_read(THREADS)
    terms = LoanTerms.from_record(record, catalogue)
    assert terms.schedule is not None
    first = terms.schedule.instalments[0]
    event = ServicingEvent("pay-1", EventKind.REPAYMENT, at(first.due_date), first.total)

    # When eight threads apply it at the same moment
    results = _race(lambda _: apply_repayment(event, "L-1", store=store, catalogue=catalogue))

    # Then exactly one applied it, the seven others found it applied (none failed)
    statuses = sorted(r["status"] for r in results)
    assert statuses == ["applied"] + ["duplicate"] * 7, results
    assert store.stale >= 1  # the race was real: at least one write was refused as stale and redone
    loan = store.load("L-1")
    assert [e.event_id for e in loan.events] == ["pay-1"]
    # And the ledger holds one repayment: cash in once, the instalment paid once
    repayments = [e.transaction for e in store.ledger.journal if e.transaction.kind == "repayment"]
    assert [t.id for t in repayments] == ["payment/pay-1"]
    assert store.ledger.balance(bookkeeping.SETTLEMENT_CASH) == first.total
    assert store.ledger.trial_balance() == Money.ZERO
    assert [kind for _, kind, _ in store.audit] == ["repayment_applied"]
    assert loan.booked == {a: f for a, f in replay(terms, [event], first.due_date).booked.items() if f}


@pytest.mark.parametrize(
    "amounts",
    [
        ["4000"] * 8,  # 32,000.00 asked of 20,000.00: five fit
        ["7000", "6000", "5000", "4000", "3000", "2500", "2000", "1500"],  # 31,000.00
        ["20000", "0.01", "19999.99", "10000", "10000", "5000", "5000", "1"],
    ],
)
@pytest.mark.parametrize("round_", range(ROUNDS))
def test_concurrent_drawdowns_never_hold_more_than_the_limit(
    round_: int,
    amounts: list[str],
    catalogue: Catalogue,
    booked_line: Callable[..., dict[str, Any]],
    memory_store: Callable[..., Any],
    at: Callable[..., datetime],
) -> None:
    # Given a 20,000.00 line, and eight drawdown requests whose sum is over it, each with its own key
    record = booked_line(limit="20000.00")
    store = memory_store(record)
    store.meet_after_first_read(THREADS)
    limit = Money.of("20000.00")
    asked = [Money.of(a) for a in amounts]
    assert sum(a.fen for a in asked) > limit.fen
    started: list[str] = []
    now = at(date.fromisoformat(record["opened_on"]) + timedelta(days=3))

    # When all eight are requested at the same moment
    def request(index: int) -> dict[str, Any]:
        return request_drawdown(
            "LINE-1",
            "b-1",
            asked[index],
            f"key-{index}",
            store=store,
            catalogue=catalogue,
            start=lambda name, payload: started.append(name),
            now=now,
        )

    results = _race(request)

    # Then each either holds its amount or was refused for the limit; nothing else went wrong
    accepted = [asked[i] for i, r in enumerate(results) if isinstance(r, dict)]
    refused = [asked[i] for i, r in enumerate(results) if isinstance(r, DrawdownRefused)]
    assert len(accepted) + len(refused) == THREADS, results
    assert store.stale >= 1  # the race was real
    assert all("over the available limit" in str(r) for r in results if isinstance(r, DrawdownRefused))
    # And together they hold no more than the limit
    loan = store.load("LINE-1")
    held = [Money.of(d["amount"]) for d in loan.drawdowns.values() if d["status"] in HOLDING]
    assert sorted(held) == sorted(accepted)
    assert sum(h.fen for h in held) <= limit.fen
    # And none was refused that would still have fitted (what is available only shrank while they raced)
    remaining = limit.fen - sum(h.fen for h in held)
    assert all(r.fen > remaining for r in refused)
    # And one payout workflow was started for each accepted drawdown; no money has moved yet
    assert len(started) == len(set(started)) == len(accepted)
    assert store.ledger.journal == ()
    assert store.saves == len(accepted)


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_payments_and_day_closes_racing_on_one_loan_end_where_the_history_does(
    round_: int,
    catalogue: Catalogue,
    booked_instalment: Callable[..., dict[str, Any]],
    memory_store: Callable[..., Any],
    at: Callable[..., datetime],
) -> None:
    # Given a loan whose first instalment is overdue, and four payments on different days before the close
    record = booked_instalment()
    store = memory_store(record)
    store.pause = 0.001
    terms = LoanTerms.from_record(record, catalogue)
    assert terms.schedule is not None
    first_due = terms.schedule.instalments[0].due_date
    day = first_due + timedelta(days=20)
    payments = [
        ServicingEvent(f"pay-{i}", EventKind.REPAYMENT, at(first_due + timedelta(days=3 * i), 9 + i), Money.of("600"))
        for i in range(4)
    ]
    warnings: list[dict[str, Any]] = []

    # When four threads apply the payments while four close the same day
    def work(index: int) -> Any:
        if index < 4:
            return apply_repayment(payments[index], "L-1", store=store, catalogue=catalogue)
        return close_loan("L-1", day, store=store, catalogue=catalogue, warn=warnings.append)

    results = _race(work)

    # Then every payment was applied once and the day closed once
    assert not any(isinstance(r, Exception) for r in results), results
    assert sorted(r["status"] for r in results[:4]) == ["applied"] * 4
    loan = store.load("L-1")
    assert sorted(e.event_id for e in loan.events) == [p.event_id for p in payments]
    assert loan.aged_through == day
    # And the books are the replay of the whole history through that day, whichever order the writes landed in
    # (with the grade the close gave it, whenever it ran: the allowance follows the grade)
    expected = replay(LoanTerms.from_record(loan.record, catalogue), payments, day)
    assert loan.booked == {a: f for a, f in expected.booked.items() if f}
    balances = store.ledger.balances().posted
    assert balances == {Account.parse(str(a)): f for a, f in loan.booked.items()}
    assert store.ledger.trial_balance() == Money.ZERO
    assert loan.state["penalty_accrued"] == str(expected.penalty_accrued)
    # And it was warned about its bucket under one warning id (a close that loses the race may repeat the alert,
    # sent before the write so that it is never lost; consumers dedupe by id)
    assert len({w["warning_id"] for w in warnings}) <= 1
