"""Collections: which auto-debit attempt a day brings and how much it collects, the reminders, the keys that make a
collection happen once, and the steps (app repayment, webhook settlement, the auto-debit job) on in-memory stores."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from importlib import resources
from typing import Any

import pytest

from lending.catalogue import Catalogue, parse_catalogue
from lending.collections import (
    ReminderKind,
    amount_due,
    app_repayment_id,
    attempt_on,
    auto_debit_repayment_id,
    collection_key,
    reminders_on,
)
from lending.errors import CatalogueError, CollectionUnavailable, ExceedsPayoff, IdempotencyConflict, LoanNotFound
from lending.money import Money
from lending.servicing import EventKind, LoanTerms, Position, ServicingEvent, replay
from lending.steps.collections import (
    collection_date_for,
    list_repayments,
    request_app_repayment,
    run_auto_debit,
    settle_collection,
)
from lending.steps.repayments import SUSPENSE, apply_repayment

RETRY = (1, 3, 7)
MILESTONES = (1, 7, 30, 60, 90)


def _position(record: dict[str, Any], catalogue: Catalogue, on: date, *paid: tuple[date, str]) -> Position:
    terms = LoanTerms.from_record(record, catalogue)
    events = [
        ServicingEvent(
            f"p{n}", EventKind.REPAYMENT, datetime.combine(day, datetime.min.time()).astimezone(), Money.of(a)
        )
        for n, (day, a) in enumerate(paid)
    ]
    return replay(terms, events, on)


def _first_due(record: dict[str, Any]) -> date:
    return date.fromisoformat(record["schedule"][0]["due_date"])


def _instalment(record: dict[str, Any], row: int = 0) -> Money:
    line = record["schedule"][row]
    return Money.of(line["principal"]) + Money.of(line["interest"]) + Money.of(line.get("fee", "0.00"))


# ---------------------------------------------------------------------------------------------------- domain rules


def test_the_due_date_brings_attempt_zero_for_the_instalment(booked_instalment: Any, catalogue: Catalogue) -> None:
    # Given a loan on its first due date, nothing paid
    record = booked_instalment()
    due = _first_due(record)
    # When the day's attempt is decided
    attempt = attempt_on(_position(record, catalogue, due), due, RETRY)
    # Then it is attempt 0 of that due date, for the instalment
    assert attempt is not None
    assert (attempt.due_date, attempt.attempt, attempt.amount) == (due, 0, _instalment(record))


@pytest.mark.parametrize(("days_after", "number"), [(1, 1), (3, 2), (7, 3)])
def test_each_retry_day_brings_the_next_attempt(
    booked_instalment: Any, catalogue: Catalogue, days_after: int, number: int
) -> None:
    record = booked_instalment()
    day = _first_due(record) + timedelta(days=days_after)
    attempt = attempt_on(_position(record, catalogue, day), day, RETRY)
    assert attempt is not None
    assert attempt.attempt == number
    # What is due then includes the penalty accrued since the due date
    assert attempt.amount > _instalment(record)


@pytest.mark.parametrize("days_after", [2, 4, 5, 6, 8, 30])
def test_other_days_bring_no_attempt(booked_instalment: Any, catalogue: Catalogue, days_after: int) -> None:
    record = booked_instalment()
    day = _first_due(record) + timedelta(days=days_after)
    assert attempt_on(_position(record, catalogue, day), day, RETRY) is None


def test_a_paid_instalment_is_not_collected_again(booked_instalment: Any, catalogue: Catalogue) -> None:
    # Given the borrower paid the instalment on its due date
    record = booked_instalment()
    due = _first_due(record)
    position = _position(record, catalogue, due + timedelta(days=1), (due, str(_instalment(record))))
    # Then the retry day brings nothing
    assert attempt_on(position, due + timedelta(days=1), RETRY) is None
    assert amount_due(position, due + timedelta(days=1)) == Money.ZERO


def test_a_partial_payment_leaves_the_rest_to_the_retry(booked_instalment: Any, catalogue: Catalogue) -> None:
    record = booked_instalment()
    due = _first_due(record)
    position = _position(record, catalogue, due + timedelta(days=1), (due, "1000.00"))
    attempt = attempt_on(position, due + timedelta(days=1), RETRY)
    assert attempt is not None
    assert attempt.attempt == 1
    assert Money.ZERO < attempt.amount < _instalment(record)


def test_keys_are_one_per_loan_due_date_and_attempt() -> None:
    due = date(2026, 2, 10)
    ids = {auto_debit_repayment_id("L-1", due, n) for n in range(4)}
    assert len(ids) == 4
    assert auto_debit_repayment_id("L-1", due, 0) == auto_debit_repayment_id("L-1", due, 0)
    assert auto_debit_repayment_id("L-2", due, 0) not in ids
    assert app_repayment_id("L-1", "b", "k") == app_repayment_id("L-1", "b", "k") != app_repayment_id("L-1", "b", "j")
    assert collection_key("rp-1") == collection_key("rp-1") != collection_key("rp-2")
    with pytest.raises(ValueError, match="attempt"):
        auto_debit_repayment_id("L-1", due, -1)


@pytest.mark.parametrize("days", [[0, 1], [3, 1], [1, 1, 2], [31]])
def test_retry_days_must_be_increasing_within_a_month(days: list[int]) -> None:
    # Given the shipped catalogue with one product's retry days changed
    document = json.loads(resources.files("lending").joinpath("data/catalogue.json").read_text())
    document["products"]["business_instalment"]["collection_retry_days"] = days
    # Then it does not load
    with pytest.raises(CatalogueError, match="retry days"):
        parse_catalogue(json.dumps(document))


def test_the_catalogue_gives_every_product_the_default_retry_days(catalogue: Catalogue) -> None:
    assert {product.collection_retry_days for product in catalogue.products.values()} == {RETRY}
    assert catalogue.overdue_reminder_days == MILESTONES


def test_reminders_three_days_before_and_on_an_unpaid_due_date(booked_instalment: Any, catalogue: Catalogue) -> None:
    record = booked_instalment()
    due = _first_due(record)
    before = due - timedelta(days=3)
    soon = reminders_on(_position(record, catalogue, before), before, MILESTONES)
    assert [(r.kind, r.due_date, r.amount_due) for r in soon] == [(ReminderKind.DUE_SOON, due, _instalment(record))]
    today = reminders_on(_position(record, catalogue, due), due, MILESTONES)
    assert [(r.kind, r.due_date) for r in today] == [(ReminderKind.DUE_TODAY, due)]
    # And the message carries no personal data: the loan, the kind, the date, the amount and the days past due
    assert set(today[0].message()) == {"reminder_id", "loan_id", "kind", "due_date", "amount_due", "days_past_due"}


@pytest.mark.parametrize("past_due", MILESTONES)
def test_a_reminder_on_each_overdue_milestone(booked_instalment: Any, catalogue: Catalogue, past_due: int) -> None:
    record = booked_instalment(months=12)
    day = _first_due(record) + timedelta(days=past_due)
    overdue = [r for r in reminders_on(_position(record, catalogue, day), day, MILESTONES) if r.kind == "overdue"]
    assert [(r.days_past_due, r.due_date) for r in overdue] == [(past_due, _first_due(record))]


def test_no_reminder_between_milestones(booked_instalment: Any, catalogue: Catalogue) -> None:
    record = booked_instalment()
    day = _first_due(record) + timedelta(days=2)
    assert reminders_on(_position(record, catalogue, day), day, MILESTONES) == []


def test_an_early_payment_lowers_what_the_reminder_asks(booked_instalment: Any, catalogue: Catalogue) -> None:
    # Given the borrower paid an instalment's worth four days early (it prepays principal: lending.loan)
    record = booked_instalment()
    due = _first_due(record)
    ahead = due - timedelta(days=3)
    paid = _position(record, catalogue, ahead, (due - timedelta(days=4), str(_instalment(record))))
    # Then the reminder ahead of the due date asks only what is left of the re-planned instalment
    [reminder] = reminders_on(paid, ahead, MILESTONES)
    assert reminder.kind == ReminderKind.DUE_SOON
    assert reminder.amount_due < _instalment(record)


def test_the_scheduled_event_collects_for_the_day_it_fires() -> None:
    # 01:00 China Standard Time on 2 March is 17:00 UTC on 1 March
    assert collection_date_for({"time": "2026-03-01T17:00:00Z"}) == date(2026, 3, 2)
    assert collection_date_for({"collection_date": "2026-03-05"}) == date(2026, 3, 5)


# ------------------------------------------------------------------------------------------------- fakes for steps


@dataclass
class MemoryRepayments:
    """CollectionsTable in memory, with its conditional writes."""

    items: dict[str, dict[str, Any]] = field(default_factory=dict)
    reminders: dict[str, str] = field(default_factory=dict)

    def get(self, repayment_id: str) -> dict[str, Any] | None:
        found = self.items.get(repayment_id)
        return None if found is None else copy.deepcopy(found)

    def create(self, record: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
        existing = self.items.get(str(record["repayment_id"]))
        if existing is not None:
            return copy.deepcopy(existing), False
        self.items[str(record["repayment_id"])] = dict(record)
        return dict(record), True

    def update(self, repayment_id: str, fields: Mapping[str, Any], *, when_status: str) -> bool:
        item = self.items.get(repayment_id)
        if item is None or item["status"] != when_status:
            return False
        for name, value in fields.items():
            if value is None:
                item.pop(name, None)
            else:
                item[name] = value
        return True

    def page(
        self, loan_id: str, limit: int, after: dict[str, str] | None
    ) -> tuple[list[dict[str, Any]], dict[str, str] | None]:
        mine = sorted((i for i in self.items.values() if i["loan_id"] == loan_id), key=lambda i: i["requested_at"])
        mine.reverse()
        start = int((after or {}).get("start", 0))
        page = mine[start : start + limit]
        return copy.deepcopy(page), {"start": str(start + limit)} if start + limit < len(mine) else None

    def pending(self, loan_id: str) -> Money:
        return Money(
            sum(
                Money.of(str(i["amount"])).fen
                for i in self.items.values()
                if i["loan_id"] == loan_id and i["status"] == "PENDING"
            )
        )

    def claim_reminder(self, reminder_id: str, message: Mapping[str, Any], now: datetime) -> bool:
        if self.reminders.get(reminder_id) == "sent":
            return False
        self.reminders[reminder_id] = "claimed"
        return True

    def reminder_sent(self, reminder_id: str) -> None:
        self.reminders[reminder_id] = "sent"


@dataclass
class FakeCollector:
    """The provider: takes each key once (a repeat is the same collection), or is unavailable while ``down``."""

    calls: list[dict[str, Any]] = field(default_factory=list)
    taken: dict[str, str] = field(default_factory=dict)
    down: bool = False

    def collect(self, idempotency_key: str, **request: Any) -> Any:
        self.calls.append({"key": idempotency_key, **request})
        if self.down:
            raise CollectionUnavailable("down", vendor="collection_provider")
        collection_id = self.taken.setdefault(idempotency_key, f"co-{len(self.taken)}")
        return type("Taken", (), {"collection_id": collection_id})()


class DueStore:
    """The servicing memory store with the due index's read."""

    def __init__(self, store: Any) -> None:
        self.inner = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def due(self, day: date) -> Iterator[str]:
        for loan_id, record in sorted(self.inner.records.items()):
            if record.get("next_due_on") and record["next_due_on"] <= day.isoformat():
                yield loan_id

    def due_on(self, day: date) -> list[str]:
        return [i for i, r in sorted(self.inner.records.items()) if r.get("next_due_on") == day.isoformat()]


def _request(
    store: Any, repayments: MemoryRepayments, collector: FakeCollector, catalogue: Catalogue, **kw: Any
) -> Any:
    arguments: dict[str, Any] = {
        "loan_id": "L-1",
        "borrower_id": "b-1",
        "amount": Money.of("1000.00"),
        "idempotency_key": "k-1",
        **kw,
    }
    return request_app_repayment(
        arguments["loan_id"],
        arguments["borrower_id"],
        arguments["amount"],
        arguments["idempotency_key"],
        store=store,
        repayments=repayments,
        collector=collector,
        bank_account=lambda loan: "62220200000005678",
        catalogue=catalogue,
        notify_url="http://127.0.0.1:1/v1/webhooks/payments",
        now=arguments.get("now"),
    )


def _settle(store: Any, repayments: MemoryRepayments, catalogue: Catalogue, repayment_id: str, **kw: Any) -> Any:
    arguments: dict[str, Any] = {
        "event_id": "evt-1",
        "repayment_id": repayment_id,
        "loan_id": "L-1",
        "amount": Money.of("1000.00"),
        "succeeded": True,
        "failure_reason": None,
        **kw,
    }
    return settle_collection(
        paid_at=arguments.pop("paid_at"), store=store, repayments=repayments, catalogue=catalogue, **arguments
    )


# ----------------------------------------------------------------------------------------------------------- steps


def test_an_app_repayment_asks_once_and_its_notice_applies_once(
    booked_instalment: Any, memory_store: Any, catalogue: Catalogue, at: Callable[..., datetime]
) -> None:
    # Given a borrower's loan and a repayment asked for in the app (twice with the same key)
    record = booked_instalment()
    store, repayments, collector = memory_store(record), MemoryRepayments(), FakeCollector()
    now = at(date(2026, 1, 20))
    first = _request(store, repayments, collector, catalogue, now=now)
    again = _request(store, repayments, collector, catalogue, now=now)
    # Then it is one pending repayment, and the provider was asked once
    assert first == again == {"repayment_id": first["repayment_id"], "status": "PENDING"}
    assert [c["key"] for c in collector.calls] == [collection_key(first["repayment_id"])]

    # When the provider's success notice arrives twice (two event ids for the same collection)
    receipts = [
        _settle(store, repayments, catalogue, first["repayment_id"], event_id=f"evt-{n}", paid_at=now) for n in (1, 2)
    ]
    # Then the money is applied once, and the repayment has SUCCEEDED
    assert [r["status"] for r in receipts] == ["applied", "duplicate"]
    loan = store.load("L-1")
    assert [e.event_id for e in loan.events] == [first["repayment_id"]]
    assert repayments.items[first["repayment_id"]]["status"] == "SUCCEEDED"


def test_a_failed_collection_records_its_reason_and_applies_nothing(
    booked_instalment: Any, memory_store: Any, catalogue: Catalogue, at: Callable[..., datetime]
) -> None:
    store, repayments, collector = memory_store(booked_instalment()), MemoryRepayments(), FakeCollector()
    now = at(date(2026, 1, 20))
    asked = _request(store, repayments, collector, catalogue, now=now)
    receipt = _settle(
        store,
        repayments,
        catalogue,
        asked["repayment_id"],
        succeeded=False,
        failure_reason="insufficient_funds",
        paid_at=now,
    )
    assert receipt["status"] == "failed"
    assert store.load("L-1").events == []
    kept = repayments.items[asked["repayment_id"]]
    assert (kept["status"], kept["failure_reason"]) == ("FAILED", "insufficient_funds")


def test_a_notice_for_an_unknown_repayment_is_parked_not_applied(
    booked_instalment: Any, memory_store: Any, catalogue: Catalogue, at: Callable[..., datetime]
) -> None:
    store = memory_store(booked_instalment())
    receipt = _settle(store, MemoryRepayments(), catalogue, "rp-never-asked", paid_at=at(date(2026, 1, 20)))
    assert receipt["status"] == "parked"
    assert store.load("L-1").events == []
    # The money waits in suspense for a person
    assert store.ledger.transaction("payment/evt-1") is not None


def test_above_the_payoff_nothing_is_asked(
    booked_instalment: Any, memory_store: Any, catalogue: Catalogue, at: Callable[..., datetime]
) -> None:
    store, repayments, collector = memory_store(booked_instalment()), MemoryRepayments(), FakeCollector()
    with pytest.raises(ExceedsPayoff):
        _request(store, repayments, collector, catalogue, amount=Money.of("12000.01"), now=at(date(2026, 1, 10)))
    assert (repayments.items, collector.calls) == ({}, [])


def test_another_borrowers_loan_and_another_amount_are_refused(
    booked_instalment: Any, memory_store: Any, catalogue: Catalogue, at: Callable[..., datetime]
) -> None:
    store, repayments, collector = memory_store(booked_instalment()), MemoryRepayments(), FakeCollector()
    now = at(date(2026, 1, 20))
    with pytest.raises(LoanNotFound):
        _request(store, repayments, collector, catalogue, borrower_id="b-2", now=now)
    _request(store, repayments, collector, catalogue, now=now)
    with pytest.raises(IdempotencyConflict):
        _request(store, repayments, collector, catalogue, amount=Money.of("999.00"), now=now)


def test_a_provider_that_did_not_answer_is_asked_again_with_the_same_key(
    booked_instalment: Any, memory_store: Any, catalogue: Catalogue, at: Callable[..., datetime]
) -> None:
    store, repayments, collector = memory_store(booked_instalment()), MemoryRepayments(), FakeCollector(down=True)
    now = at(date(2026, 1, 20))
    with pytest.raises(CollectionUnavailable):
        _request(store, repayments, collector, catalogue, now=now)
    collector.down = False
    asked = _request(store, repayments, collector, catalogue, now=now)
    assert {c["key"] for c in collector.calls} == {collection_key(asked["repayment_id"])}
    assert len(repayments.items) == 1


def _run(
    store: DueStore, repayments: MemoryRepayments, collector: FakeCollector, catalogue: Catalogue, day: date
) -> Any:
    published: list[Mapping[str, Any]] = []
    summary = run_auto_debit(
        day,
        store=store,
        due_on=store.due_on,
        repayments=repayments,
        collector=collector,
        bank_account=lambda loan: "62220200000004444",
        catalogue=catalogue,
        notify_url="http://127.0.0.1:1/v1/webhooks/payments",
        publish=published.append,
        now=datetime.combine(day, datetime.min.time()).astimezone(),
    )
    return summary, published


def test_auto_debit_fails_then_retries_once_and_stops_when_paid(
    booked_instalment: Any, memory_store: Any, catalogue: Catalogue, at: Callable[..., datetime]
) -> None:
    # Given a loan due today
    record = booked_instalment()
    due = _first_due(record)
    store, repayments, collector = DueStore(memory_store(record)), MemoryRepayments(), FakeCollector()

    # When the job runs on the due date, twice (a retried run)
    _run(store, repayments, collector, catalogue, due)
    _run(store, repayments, collector, catalogue, due)
    # Then one attempt was asked for, once
    first = auto_debit_repayment_id("L-1", due, 0)
    assert [c["key"] for c in collector.calls] == [collection_key(first)]
    assert collector.calls[0]["amount"] == _instalment(record)

    # And while it is pending, the retry day asks nothing more
    _run(store, repayments, collector, catalogue, due + timedelta(days=1))
    assert len(collector.calls) == 1

    # When it fails, the next retry day asks for attempt 1
    _settle(store, repayments, catalogue, first, succeeded=False, failure_reason="insufficient_funds", paid_at=at(due))
    _run(store, repayments, collector, catalogue, due + timedelta(days=3))
    second = auto_debit_repayment_id("L-1", due, 2)
    assert [c["key"] for c in collector.calls][1:] == [collection_key(second)]

    # When that one succeeds, the instalment is paid and the last retry day asks nothing
    amount = collector.calls[1]["amount"]
    _settle(store, repayments, catalogue, second, amount=amount, paid_at=at(due + timedelta(days=3)))
    assert store.load("L-1").record["next_due_on"] > due.isoformat()
    _run(store, repayments, collector, catalogue, due + timedelta(days=7))
    assert len(collector.calls) == 2


def test_a_payment_that_arrives_meanwhile_cancels_the_retry(
    booked_instalment: Any, memory_store: Any, catalogue: Catalogue, at: Callable[..., datetime]
) -> None:
    record = booked_instalment()
    due = _first_due(record)
    store, repayments, collector = DueStore(memory_store(record)), MemoryRepayments(), FakeCollector()
    _run(store, repayments, collector, catalogue, due)
    _settle(store, repayments, catalogue, auto_debit_repayment_id("L-1", due, 0), succeeded=False, paid_at=at(due))
    # The borrower pays it themselves the same day (a provider-pushed payment)
    pushed = ServicingEvent("pushed-1", EventKind.REPAYMENT, at(due, 20), _instalment(record))
    assert apply_repayment(pushed, "L-1", store=store.inner, catalogue=catalogue)["status"] == "applied"
    _run(store, repayments, collector, catalogue, due + timedelta(days=1))
    assert len(collector.calls) == 1


def test_reminders_are_sent_once_however_often_the_job_runs(
    booked_instalment: Any, memory_store: Any, catalogue: Catalogue
) -> None:
    record = booked_instalment()
    ahead = _first_due(record) - timedelta(days=3)
    store, repayments, collector = DueStore(memory_store(record)), MemoryRepayments(), FakeCollector()
    _, sent = _run(store, repayments, collector, catalogue, ahead)
    _, again = _run(store, repayments, collector, catalogue, ahead)
    assert [m["kind"] for m in sent] == ["due_soon"]
    assert again == []
    assert collector.calls == []


def test_the_list_is_the_owners_newest_first(
    booked_instalment: Any, memory_store: Any, catalogue: Catalogue, at: Callable[..., datetime]
) -> None:
    store, repayments, collector = memory_store(booked_instalment()), MemoryRepayments(), FakeCollector()
    for n in range(3):
        _request(store, repayments, collector, catalogue, idempotency_key=f"k-{n}", now=at(date(2026, 1, 20), 10 + n))
    items, following = list_repayments(
        "L-1", "b-1", limit=2, after=None, loans=lambda loan_id, owner: None, repayments=repayments
    )
    assert [item["requested_at"] for item in items] == sorted((item["requested_at"] for item in items), reverse=True)
    assert following is not None
    assert len(items) == 2
    assert {item["source"] for item in items} == {"app"}


# ------------------------------------------------------------------------------------------- found from outside


def test_the_borrowers_own_repayment_on_its_way_is_not_collected_again_by_auto_debit(
    booked_instalment: Any, memory_store: Any, catalogue: Catalogue, at: Callable[..., datetime]
) -> None:
    # Given a borrower who tapped "repay" for the whole instalment the evening before its due date
    record = booked_instalment()
    due = _first_due(record)
    store, repayments, collector = DueStore(memory_store(record)), MemoryRepayments(), FakeCollector()
    tapped = _request(
        store, repayments, collector, catalogue, amount=_instalment(record), now=at(due - timedelta(days=1), 20)
    )
    # When the due date's job runs before the provider's notice has come
    summary, _ = _run(store, repayments, collector, catalogue, due)
    # Then the job asks for nothing: that amount is already on its way
    assert [c["key"] for c in collector.calls] == [collection_key(tapped["repayment_id"])]
    assert summary["collections_covered"] == 1


def test_an_app_repayment_beside_a_pending_auto_debit_may_not_exceed_the_payoff_together(
    booked_instalment: Any, memory_store: Any, catalogue: Catalogue, at: Callable[..., datetime]
) -> None:
    record = booked_instalment()
    due = _first_due(record)
    store, repayments, collector = DueStore(memory_store(record)), MemoryRepayments(), FakeCollector()
    _run(store, repayments, collector, catalogue, due)  # the instalment is being collected
    payoff = _position(store.load("L-1").record, catalogue, due).payoff
    with pytest.raises(ExceedsPayoff, match="already being collected"):
        _request(store, repayments, collector, catalogue, amount=payoff, now=at(due, 9))
    assert len(collector.calls) == 1


def test_an_attempt_that_never_reached_the_provider_is_asked_again_on_the_retry_day(
    booked_instalment: Any, memory_store: Any, catalogue: Catalogue
) -> None:
    # Given the provider down all through the due date
    record = booked_instalment()
    due = _first_due(record)
    store, repayments, collector = DueStore(memory_store(record)), MemoryRepayments(), FakeCollector(down=True)
    _run(store, repayments, collector, catalogue, due)
    first = auto_debit_repayment_id("L-1", due, 0)
    assert repayments.items[first]["status"] == "PENDING"
    # When it is back on the first retry day
    collector.down = False
    summary, _ = _run(store, repayments, collector, catalogue, due + timedelta(days=1))
    # Then the attempt it never took is asked for again, under its own key: collected once, not left pending
    assert summary["collections_asked_again"] == 1
    assert [c["key"] for c in collector.calls] == [collection_key(first)] * 2
    assert repayments.items[first].get("collection_id")


def test_one_loans_trouble_does_not_stop_the_days_run_for_the_others(
    booked_instalment: Any, memory_store: Any, catalogue: Catalogue
) -> None:
    first = booked_instalment()
    store = DueStore(memory_store(first, {**booked_instalment(), "loan_id": "L-2"}))
    repayments, collector = MemoryRepayments(), FakeCollector()
    due = _first_due(first)

    def account(loan: Any) -> str:
        if loan.loan_id == "L-1":
            raise KeyError("the bound account could not be read")
        return "62220200000005678"

    summary = run_auto_debit(
        due,
        store=store,
        due_on=store.due_on,
        repayments=repayments,
        collector=collector,
        bank_account=account,
        catalogue=catalogue,
        notify_url="http://127.0.0.1:1/v1/webhooks/payments",
        publish=lambda message: None,
        now=datetime.combine(due, datetime.min.time()).astimezone(),
    )
    assert summary["loans_failed"] == 1
    assert [c["loan_id"] for c in collector.calls] == ["L-2"]


def test_money_collected_after_a_recorded_failure_is_parked_once_however_many_notices_say_it(
    booked_instalment: Any, memory_store: Any, catalogue: Catalogue, at: Callable[..., datetime]
) -> None:
    record = booked_instalment()
    store, repayments, collector = memory_store(record), MemoryRepayments(), FakeCollector()
    now = at(date(2026, 1, 20))
    asked = _request(store, repayments, collector, catalogue, now=now)
    _settle(store, repayments, catalogue, asked["repayment_id"], succeeded=False, failure_reason="x", paid_at=now)
    receipts = [
        _settle(store, repayments, catalogue, asked["repayment_id"], event_id=f"evt-s{n}", paid_at=now) for n in (1, 2)
    ]
    # Then it is held in suspense once (the books show the cash once), and nothing is applied to the loan
    assert [r["status"] for r in receipts] == ["parked", "parked"]
    assert abs(store.ledger.balance(SUSPENSE).fen) == Money.of("1000.00").fen
    assert list(store.load("L-1").events) == []
