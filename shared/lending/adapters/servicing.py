"""Servicing state of loans and lines in LoansTable, written atomically with its ledger transaction and audit link.

The loan as servicing sees it is lending.serviced_loan.ServicedLoan; this module persists it. On the loan item:

- ``version`` (N): bumped by every servicing write; each write is conditioned on the version it read.
- ``servicing`` (M): the state, in one attribute so a write is one SET:
  ``events`` (the repayments and drawdowns applied: event_id, kind, at, amount; the replay's input),
  ``aged_through`` (the last day the loan was aged to), ``booked`` (the servicing postings so far, summed per
  ledger account, in fen), ``drawdowns`` (a line's drawdowns by id: amount, status, funding, payout), and the
  projections reads and reports use: ``principal_outstanding``, ``interest_accrued``, ``penalty_accrued``,
  ``credit_balance``, ``days_past_due``, ``bucket``, ``frozen``, ``warned_bucket``.
- ``status`` (S): ``ACTIVE``, ``CLOSED`` or ``WRITTEN_OFF``.
- ``next_due_on`` (S) with ``due_shard`` (S): the keys of the sparse ``DueLoans`` index (see
  lending.adapters.due_index), removed when nothing will fall due.
- ``open_shard`` (S): the key of the sparse ``OpenLoans`` index (lending.adapters.open_index), kept while the loan
  is ``ACTIVE``, removed when it is not.
- ``servicing.limit_cut`` (``{"to", "warning_id", "on"}``) and ``servicing.warning_freeze`` (``{"warning_id",
  "on"}``): an early warning's actions on a line, honoured by its replay; ``servicing.early_warnings``: the
  re-check's rules raised and still matching, by kind (lending.early_warning).

One servicing write is one TransactWriteItems: the ledger transaction and its balance updates (via
:meth:`DynamoLedgerStore.record_with`), the loan item's update conditioned on ``version``, and the audit link.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date, datetime, timedelta
from typing import Any, Literal

from lending.adapters.attribute_values import to_attribute
from lending.adapters.audit_store import DynamoAuditStore
from lending.adapters.due_index import DUE_INDEX, DUE_SHARDS, due_shard
from lending.adapters.events import PUT_EVENTS_LIMIT, put_events
from lending.adapters.ledger_store import DynamoLedgerStore
from lending.adapters.loans import LoanRepository
from lending.adapters.open_index import open_shard
from lending.adapters.portfolio import PortfolioStore
from lending.audit import ChainHead
from lending.catalogue import LoanClass
from lending.errors import ConcurrentChange
from lending.ledger import Transaction
from lending.serviced_loan import ServicedLoan
from lending.servicing import LoanStatus, Position, booked_to_record

#: The event bus source of servicing's events.
SOURCE = "lending.servicing"

#: Where a servicing write's items stand in its DynamoDB transaction: the loan's update, then its audit link.
_LOAN, _LINK = 0, 1


def projections(position: Position, warned_bucket: str | None) -> dict[str, Any]:
    """The servicing state's read attributes from a replayed position."""
    return {
        "principal_outstanding": str(position.principal_outstanding),
        "interest_accrued": str(position.interest_accrued),
        "penalty_accrued": str(position.penalty_accrued),
        "credit_balance": str(position.credit_balance),
        "days_past_due": position.days_past_due,
        "bucket": position.bucket,
        "frozen": position.frozen,
        "warned_bucket": warned_bucket,
        "provision": str(position.provision),
        "written_off_principal": str(position.written_off),
    }


def next_look(position: Position, state: Mapping[str, Any]) -> date | None:
    """The day from which the daily close must read the loan again: when something next falls due; sooner, the
    next day, for a loan graded worse than normal that owes nothing overdue and is not under observation (so it is
    graded back up), never for one written off (nothing is recognised on it any more)."""
    if position.status is not LoanStatus.ACTIVE:
        return None
    grade = state.get("classification")
    if grade in (None, LoanClass.NORMAL.value) or position.days_past_due:
        return position.next_due_on
    observed_until = state.get("observation_ends")
    # Under observation, the grade may not improve before the observation ends: read it again then.
    look = position.as_of + timedelta(days=1)
    if observed_until is not None:
        look = max(look, date.fromisoformat(str(observed_until)))
    return look if position.next_due_on is None else min(position.next_due_on, look)


def new_attributes(
    loan: ServicedLoan, changes: Mapping[str, Any], position: Position | None
) -> tuple[dict[str, Any], list[str]]:
    """What a servicing write sets on the loan item, and what it removes (the due-index keys when nothing will
    fall due): the new servicing state, its status, the index keys and the next version."""
    state: dict[str, Any] = {**loan.state, **changes}
    values: dict[str, Any] = {}
    removes: list[str] = []
    if position is not None:
        state.update(projections(position, state.get("warned_bucket")))
        state["booked"] = booked_to_record(position.booked)
        values["status"] = position.status.value
        look = next_look(position, state)
        if look is None:
            removes += ["next_due_on", "due_shard"]
        else:
            values["next_due_on"] = look.isoformat()
            values["due_shard"] = due_shard(loan.loan_id)
        # The OpenLoans index holds active loans only: a loan closed (or written off) leaves it.
        if position.status is LoanStatus.ACTIVE:
            values["open_shard"] = open_shard(loan.loan_id)
        else:
            removes.append("open_shard")
    values["servicing"] = state
    values["version"] = loan.version + 1
    return values, removes


class LoanServicingStore:
    """Reads loans for servicing and writes each servicing change as one all-or-nothing DynamoDB transaction."""

    def __init__(
        self,
        loans_table: str,
        loans: LoanRepository,
        ledger: DynamoLedgerStore,
        audit: DynamoAuditStore,
        client: Any,
        portfolio: PortfolioStore | None = None,
    ) -> None:
        self._table = loans_table
        self._loans = loans
        self._ledger = ledger
        self._audit = audit
        self._dynamodb = client
        self._portfolio = portfolio

    @property
    def ledger(self) -> DynamoLedgerStore:
        return self._ledger

    @property
    def audit(self) -> DynamoAuditStore:
        return self._audit

    def load(self, loan_id: str) -> ServicedLoan:
        """The loan with its servicing state (a not-found error for an unknown id)."""
        return ServicedLoan.parse(self._loans.get(loan_id))

    def save(
        self,
        loan: ServicedLoan,
        *,
        changes: Mapping[str, Any],
        position: Position | None,
        transaction: Transaction | None,
        audit: tuple[str, datetime, Mapping[str, Any]] | None,
    ) -> None:
        """Write ``changes`` (attributes to set) and the position's projections to the loan, the transaction to
        the ledger and the audit event to the chain, all at once. :class:`ConcurrentChange` when the loan or its
        chain moved on since ``loan`` was read (nothing written: read again and redo the work)."""
        remembered = loan.state.get("audit_head")
        head = None if remembered is None else ChainHead(int(remembered["index"]), str(remembered["hash"]))
        try:
            self._write(loan, changes, position, transaction, audit, head if head is not None else "read")
        except ConcurrentChange as exc:
            if head is None or audit is None or exc.changed != {_LINK}:
                # The loan itself changed (or the head was just read): the caller reads the loan again and redoes
                # its work; reading the chain's head here would change nothing.
                raise
            # Only the link failed: the chain grew outside servicing since this loan last wrote to it (an
            # origination step's event, say). Read its head and try once more.
            self._write(loan, changes, position, transaction, audit, "read")

    def _write(
        self,
        loan: ServicedLoan,
        changes: Mapping[str, Any],
        position: Position | None,
        transaction: Transaction | None,
        audit: tuple[str, datetime, Mapping[str, Any]] | None,
        head: ChainHead | Literal["read"],
    ) -> None:
        items: list[dict[str, Any]] = []
        if audit is not None:
            kind, occurred_at, data = audit
            event, link = self._audit.next_link(loan.chain, kind, occurred_at, data, head)
            items.append(link)
            # Remembered, so the next write can link to it without reading the chain's head.
            changes = {**changes, "audit_head": {"index": event.index, "hash": event.hash}}
        values, removes = new_attributes(loan, changes, position)
        if self._portfolio is not None:
            # The loan's move between portfolio cells rides on this write (see lending.adapters.portfolio).
            after = ({**loan.record, **values}, values["servicing"])
            about = position.as_of if position is not None else None
            items.extend(self._portfolio.changes(loan.loan_id, (loan.record, loan.state), after, about))
        names = {f"#a{i}": name for i, name in enumerate([*values, *removes, "loan_id"])}
        by_name = {name: key for key, name in names.items()}
        expression = "SET " + ", ".join(f"{by_name[name]} = :v{i}" for i, name in enumerate(values))
        if removes:
            expression += " REMOVE " + ", ".join(by_name[name] for name in removes)
        update = {
            "Update": {
                "TableName": self._table,
                "Key": {"loan_id": {"S": loan.loan_id}},
                "UpdateExpression": expression,
                # Protects the loan's servicing state: it was computed from version N, so it may only replace
                # version N. A concurrent payment, drawdown or close that wrote first makes this fail, and the
                # caller replays on what that write left (no event applied twice, none lost).
                "ConditionExpression": f"attribute_exists({by_name['loan_id']}) AND "
                + ("(attribute_not_exists(#version) OR #version = :read)" if not loan.version else "#version = :read"),
                "ExpressionAttributeNames": {**names, "#version": "version"},
                "ExpressionAttributeValues": {
                    **{f":v{i}": to_attribute(value) for i, value in enumerate(values.values())},
                    ":read": {"N": str(loan.version)},
                },
            }
        }
        items.insert(_LOAN, update)
        if transaction is not None:
            self._ledger.record_with(transaction, items)
            return
        try:
            self._dynamodb.transact_write_items(TransactItems=items)
        except self._dynamodb.exceptions.TransactionCanceledException as exc:
            reasons = exc.response.get("CancellationReasons", [])
            codes = [str(r.get("Code", "None")) for r in reasons]
            changed = [index for index, code in enumerate(codes) if code == "ConditionalCheckFailed"]
            raise ConcurrentChange(
                f"{loan.loan_id}: the loan or its audit chain changed first ({codes})", changed
            ) from None

    def due(self, day: date) -> Iterator[str]:
        """Ids of the loans with something due or overdue on ``day`` (every shard of the DueLoans index)."""
        for shard in range(DUE_SHARDS):
            arguments: dict[str, Any] = {
                "TableName": self._table,
                "IndexName": DUE_INDEX,
                "KeyConditionExpression": "due_shard = :shard AND next_due_on <= :day",
                "ExpressionAttributeValues": {":shard": {"S": f"due#{shard}"}, ":day": {"S": day.isoformat()}},
            }
            while True:
                page = self._dynamodb.query(**arguments)
                for item in page.get("Items", []):
                    yield item["loan_id"]["S"]
                if "LastEvaluatedKey" not in page:
                    break
                arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def servicing_store() -> LoanServicingStore:
    """The store of the current function, from its settings."""
    from lending.adapters import stores
    from lending.adapters.aws import client
    from lending.adapters.settings import settings

    loans_table = settings().loans_table
    return LoanServicingStore(
        loans_table, stores.loans(), stores.ledger(), stores.audit(), client("dynamodb"), stores.portfolio()
    )


def start_drawdown(state_machine_arn: str, drawdown_id: str, payload: Mapping[str, Any]) -> None:
    """Start the drawdown's payout workflow, named by the drawdown: a second start of the same one is a no-op."""
    import json

    from lending.adapters.aws import client

    stepfunctions = client("stepfunctions")
    try:
        stepfunctions.start_execution(stateMachineArn=state_machine_arn, name=drawdown_id, input=json.dumps(payload))
    except stepfunctions.exceptions.ExecutionAlreadyExists:
        return


def publish_warning(event_bus_name: str, warning: Mapping[str, Any]) -> None:
    """An early-warning event on the lending event bus (consumers dedupe by ``warning_id``)."""
    publish_event(event_bus_name, "LoanDelinquencyWorsened", warning)


def publish_event(event_bus_name: str, detail_type: str, detail: Mapping[str, Any]) -> None:
    """A servicing event on the lending event bus (consumers dedupe by the id in its detail)."""
    put_events(event_bus_name, SOURCE, [(detail_type, detail)], f"{detail_type} for {detail.get('loan_id')}")


class EventBatch:
    """Servicing events for the lending event bus, sent ten to a PutEvents call (the most one call takes): the
    daily close announces a night's grades and write-offs in a tenth of the calls one each would take. ``flush``
    sends what is left; events sent are never sent again by this batch."""

    LIMIT = PUT_EVENTS_LIMIT

    def __init__(self, event_bus_name: str) -> None:
        self._bus = event_bus_name
        self._waiting: list[tuple[str, Mapping[str, Any]]] = []

    def add(self, detail_type: str, detail: Mapping[str, Any]) -> None:
        self._waiting.append((detail_type, detail))
        if len(self._waiting) >= self.LIMIT:
            self.flush()

    def flush(self) -> None:
        waiting, self._waiting = self._waiting, []
        if waiting:
            put_events(self._bus, SOURCE, waiting, "servicing events")
