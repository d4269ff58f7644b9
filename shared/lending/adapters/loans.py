"""Loans and credit lines in DynamoDB (LoansTable): booked once per application, read by their owner."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lending.adapters.attribute_values import from_item, to_item
from lending.adapters.aws import client
from lending.adapters.due_index import due_shard
from lending.adapters.open_index import open_shard
from lending.adapters.portfolio import PortfolioStore
from lending.errors import LoanNotFound


class LoanRepository:
    def __init__(self, table_name: str, portfolio: PortfolioStore | None = None) -> None:
        self._table = table_name
        self._dynamodb = client("dynamodb")
        self._portfolio = portfolio

    def create(self, loan: Mapping[str, Any]) -> bool:
        """Book a loan record; False when it exists (a retried booking)."""
        if loan.get("next_due_on"):
            loan = {**loan, "due_shard": due_shard(str(loan["loan_id"]))}  # the DueLoans index's partition key
        if loan.get("status") == "ACTIVE":
            loan = {**loan, "open_shard": open_shard(str(loan["loan_id"]))}  # the OpenLoans index's partition key
        put = {
            "TableName": self._table,
            "Item": to_item(loan),
            # Protects a booked loan from being booked again over its servicing state.
            "ConditionExpression": "attribute_not_exists(loan_id)",
        }
        if self._portfolio is None:
            try:
                self._dynamodb.put_item(**put)
            except self._dynamodb.exceptions.ConditionalCheckFailedException:
                return False
            return True
        state = dict(loan.get("servicing") or {})
        cells = self._portfolio.changes(str(loan["loan_id"]), None, (loan, state))
        put["Item"] = to_item({**loan, "servicing": state})
        try:
            # The loan enters its portfolio cell with its booking, or neither happens.
            self._dynamodb.transact_write_items(TransactItems=[{"Put": put}, *cells])
        except self._dynamodb.exceptions.TransactionCanceledException as exc:
            codes = [str(r.get("Code", "None")) for r in exc.response.get("CancellationReasons", [])]
            if codes and codes[0] == "ConditionalCheckFailed":
                return False
            raise
        return True

    def get(self, loan_id: str) -> dict[str, Any]:
        """The loan, or a not-found error."""
        response = self._dynamodb.get_item(TableName=self._table, Key={"loan_id": {"S": loan_id}}, ConsistentRead=True)
        item = response.get("Item")
        if item is None:
            raise LoanNotFound(f"no loan {loan_id}")
        return from_item(item)

    def get_owned(self, loan_id: str, borrower_id: str) -> dict[str, Any]:
        """The loan if ``borrower_id`` owns it; otherwise exactly as if it did not exist."""
        loan = self.get(loan_id)
        if loan.get("borrower_id") != borrower_id:
            raise LoanNotFound(f"no loan {loan_id}")
        return loan
