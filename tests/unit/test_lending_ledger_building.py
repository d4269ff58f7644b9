"""Building a transaction keeps what is stored with it: its date, its memo, and legs on one account netted.

Mutation testing found these unpinned: a transaction built with no date or another memo, or a credit leg that
replaced a debit on the same account instead of netting with it, passed every test.
"""

from __future__ import annotations

from datetime import date

from lending.ledger import Account, AccountCode, Posting, Transaction
from lending.money import Money

ON = date(2026, 2, 15)
CASH = Account(AccountCode.SETTLEMENT_CASH)
SUSPENSE = Account(AccountCode.SUSPENSE)
PRINCIPAL = Account(AccountCode.PRINCIPAL_RECEIVABLE, "L-1")
CREDIT = Account(AccountCode.BORROWER_CREDIT, "L-1")


def test_a_debit_and_a_credit_on_one_account_net_to_one_posting() -> None:
    # Given 100.00 debited to suspense and 30.00 credited back to it, with 70.00 credited elsewhere
    transaction = Transaction.build(
        "T-net",
        "placement",
        ON,
        debits=[(SUSPENSE, Money.of("100.00"))],
        credits=[(SUSPENSE, Money.of("30.00")), (CREDIT, Money.of("70.00"))],
    )

    # Then suspense carries the 70.00 difference, in the order the legs came
    assert transaction.postings == (Posting(SUSPENSE, Money.of("70.00")), Posting(CREDIT, Money.of("-70.00")))


def test_legs_that_cancel_on_one_account_leave_no_posting_for_it() -> None:
    transaction = Transaction.build(
        "T-cancel",
        "placement",
        ON,
        debits=[(SUSPENSE, Money.of("40.00")), (CASH, Money.of("60.00"))],
        credits=[(SUSPENSE, Money.of("40.00")), (PRINCIPAL, Money.of("60.00"))],
    )
    assert transaction.postings == (Posting(CASH, Money.of("60.00")), Posting(PRINCIPAL, Money.of("-60.00")))


def test_a_built_transaction_keeps_its_date_and_memo() -> None:
    built = Transaction.build(
        "T-1", "repayment", ON, [(CASH, Money.of("10.00"))], [(PRINCIPAL, Money.of("10.00"))], memo="loan L-1"
    )
    assert (built.id, built.kind, built.effective_on, built.memo) == ("T-1", "repayment", ON, "loan L-1")
    assert Transaction.build("T-2", "repayment", ON, [(CASH, Money.of("1"))], [(PRINCIPAL, Money.of("1"))]).memo == ""


def test_a_transfer_debits_one_account_credits_the_other_and_keeps_its_date_and_memo() -> None:
    transfer = Transaction.transfer("T-3", "disbursement", ON, PRINCIPAL, CASH, Money.of("120000.00"), memo="payout")
    assert transfer.postings == (Posting(PRINCIPAL, Money.of("120000.00")), Posting(CASH, Money.of("-120000.00")))
    assert (transfer.kind, transfer.effective_on, transfer.memo) == ("disbursement", ON, "payout")
    assert Transaction.transfer("T-4", "disbursement", ON, PRINCIPAL, CASH, Money.of("1.00")).memo == ""
