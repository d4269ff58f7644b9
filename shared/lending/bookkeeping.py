"""The ledger transactions of a loan's life, built from domain facts. Ids derive from business ids, so a retried
step rebuilds the same transaction and the ledger treats it as the no-op it is.

- Funding reservation (pending): Dr settlement cash / Cr each funding source's share.
- Disbursement: Dr principal receivable / Cr settlement cash (what the borrower receives) and fee income.
- Recognition (an instalment falls due, a day of penalty): Dr interest, fee, penalty receivable / Cr income.
- Repayment: Dr settlement cash / Cr receivables, income paid ahead of its due date, and the borrower's credit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from functools import lru_cache
from typing import Protocol

from lending.ledger import Account, AccountCode, Transaction
from lending.loan import PaymentApplied, Recognised
from lending.money import Money, total

SETTLEMENT_CASH = Account(AccountCode.SETTLEMENT_CASH)
INTEREST_INCOME = Account(AccountCode.INTEREST_INCOME)
PENALTY_INCOME = Account(AccountCode.PENALTY_INCOME)
FEE_INCOME = Account(AccountCode.FEE_INCOME)


@lru_cache(maxsize=4096)
def of_loan(code: AccountCode, loan_id: str) -> Account:
    """A loan's own sub-account (receivables, credit balance)."""
    return Account(code, loan_id)


def funding_source(source_id: str) -> Account:
    """The account of one funding source: ``own_capital`` or ``partner:<bank>``."""
    return Account(AccountCode.FUNDING, source_id)


class FundingBalances(Protocol):
    """The two balances of an account that say how much of a funding source is in use."""

    def balance(self, account: Account) -> Money: ...
    def pending_balance(self, account: Account) -> Money: ...


def funding_in_use(ledger: FundingBalances, sources: Iterable[str]) -> dict[str, Money]:
    """How much of each funding source is lent or reserved: its credit balance, posted and pending (funding
    accounts are credit-normal, so a source in use stands below zero)."""
    return {
        source: -(ledger.balance(funding_source(source)) + ledger.pending_balance(funding_source(source)))
        for source in sources
    }


def funding_reservation(tx_id: str, loan_id: str, shares: Mapping[str, Money], on: date) -> Transaction:
    """Phase one of funding: each source's share held for the loan's settlement (record with ``reserve``)."""
    credits = [(funding_source(source), share) for source, share in shares.items()]
    debits = [(SETTLEMENT_CASH, total(shares.values()))]
    return Transaction.build(tx_id, "funding_reservation", on, debits, credits, memo=f"loan {loan_id}")


def disbursement(tx_id: str, loan_id: str, principal: Money, upfront_fee: Money, on: date) -> Transaction:
    """The loan booked: principal receivable, the payout net of upfront fees, the fees earned."""
    return Transaction.build(
        tx_id,
        "disbursement",
        on,
        [(of_loan(AccountCode.PRINCIPAL_RECEIVABLE, loan_id), principal)],
        [(SETTLEMENT_CASH, principal - upfront_fee), (FEE_INCOME, upfront_fee)],
        memo=f"loan {loan_id}",
    )


def recognition(tx_id: str, loan_id: str, recognised: Recognised, on: date) -> Transaction | None:
    """Interest and fees fallen due and penalty accrued, as receivables; None when there is nothing."""
    if not recognised:
        return None
    return Transaction.build(
        tx_id,
        "recognition",
        on,
        [
            (of_loan(AccountCode.INTEREST_RECEIVABLE, loan_id), recognised.interest),
            (of_loan(AccountCode.FEE_RECEIVABLE, loan_id), recognised.fee),
            (of_loan(AccountCode.PENALTY_RECEIVABLE, loan_id), recognised.penalty),
        ],
        [(INTEREST_INCOME, recognised.interest), (FEE_INCOME, recognised.fee), (PENALTY_INCOME, recognised.penalty)],
        memo=f"loan {loan_id}",
    )


def repayment(tx_id: str, loan_id: str, applied: PaymentApplied, on: date) -> Transaction:
    """Cash in, and every fen of it to the receivable, income or credit it paid."""
    return Transaction.build(
        tx_id,
        "repayment",
        on,
        [(SETTLEMENT_CASH, applied.allocation.payment)],
        [
            (of_loan(AccountCode.PRINCIPAL_RECEIVABLE, loan_id), applied.principal),
            (of_loan(AccountCode.INTEREST_RECEIVABLE, loan_id), applied.interest_receivable),
            (INTEREST_INCOME, applied.interest_earned),
            (of_loan(AccountCode.FEE_RECEIVABLE, loan_id), applied.fee_receivable),
            (FEE_INCOME, applied.fee_earned),
            (of_loan(AccountCode.PENALTY_RECEIVABLE, loan_id), applied.penalty),
            (of_loan(AccountCode.BORROWER_CREDIT, loan_id), applied.credit),
        ],
        memo=f"loan {loan_id}",
    )


#: A loan's receivables, in the order a write-off takes them off the book.
RECEIVABLES = (
    AccountCode.PRINCIPAL_RECEIVABLE,
    AccountCode.INTEREST_RECEIVABLE,
    AccountCode.FEE_RECEIVABLE,
    AccountCode.PENALTY_RECEIVABLE,
)
PROVISION_EXPENSE = Account(AccountCode.PROVISION_EXPENSE)
RECOVERY_INCOME = Account(AccountCode.RECOVERY_INCOME)


def write_off(tx_id: str, loan_id: str, receivables: Mapping[AccountCode, Money], on: date) -> Transaction | None:
    """The loan's receivables taken off the book (the borrower still owes them): Dr write-off / Cr each."""
    parts = [(of_loan(code, loan_id), receivables.get(code, Money.ZERO)) for code in RECEIVABLES]
    written = total(amount for _, amount in parts)
    if not written:
        return None
    return Transaction.build(
        tx_id, "write_off", on, [(of_loan(AccountCode.WRITE_OFF, loan_id), written)], parts, memo=f"loan {loan_id}"
    )


def recovery(tx_id: str, loan_id: str, amount: Money, credit: Money, on: date) -> Transaction:
    """Money collected after a write-off: income, but for what went beyond everything owed (the borrower's credit)."""
    return Transaction.build(
        tx_id,
        "recovery",
        on,
        [(SETTLEMENT_CASH, amount)],
        [(RECOVERY_INCOME, amount - credit), (of_loan(AccountCode.BORROWER_CREDIT, loan_id), credit)],
        memo=f"loan {loan_id}",
    )


def provision(tx_id: str, loan_id: str, allowance: Money, on: date) -> Transaction | None:
    """The loan's loss allowance raised to ``allowance`` from nothing: Dr provision expense / Cr the allowance."""
    if not allowance:
        return None
    return Transaction.transfer(
        tx_id,
        "provision",
        on,
        PROVISION_EXPENSE,
        of_loan(AccountCode.LOAN_LOSS_ALLOWANCE, loan_id),
        allowance,
        memo=f"loan {loan_id}",
    )
