"""The ledger's stored names: account codes and account keys are written into every balance item and posting.

A stored ledger outlives the code that wrote it: renaming a code would split each account in two (the old items
under the old name, new postings under the new one) and leave the old books unreadable. Mutation testing renamed
every one of these without a test failing, so each is pinned here as the exact string stored.
"""

from __future__ import annotations

import pytest

from lending.ledger import Account, AccountCode

STORED_CODES = {
    AccountCode.PRINCIPAL_RECEIVABLE: "principal_receivable",
    AccountCode.INTEREST_RECEIVABLE: "interest_receivable",
    AccountCode.PENALTY_RECEIVABLE: "penalty_receivable",
    AccountCode.FEE_RECEIVABLE: "fee_receivable",
    AccountCode.SETTLEMENT_CASH: "settlement_cash",
    AccountCode.FUNDING: "funding",
    AccountCode.INTEREST_INCOME: "interest_income",
    AccountCode.PENALTY_INCOME: "penalty_income",
    AccountCode.FEE_INCOME: "fee_income",
    AccountCode.BORROWER_CREDIT: "borrower_credit",
    AccountCode.SUSPENSE: "suspense",
    AccountCode.WRITE_OFF: "write_off",
    AccountCode.PROVISION_EXPENSE: "provision_expense",
    AccountCode.LOAN_LOSS_ALLOWANCE: "loan_loss_allowance",
    AccountCode.RECOVERY_INCOME: "recovery_income",
}


def test_every_account_code_is_stored_under_its_exact_name() -> None:
    assert {code: code.value for code in AccountCode} == STORED_CODES
    assert [str(code) for code in STORED_CODES] == list(STORED_CODES.values())


@pytest.mark.parametrize(
    ("account", "stored"),
    [
        (
            Account(AccountCode.PRINCIPAL_RECEIVABLE, "loan_df25044cff9d2a5a42edf1f852"),
            "principal_receivable:loan_df25044cff9d2a5a42edf1f852",
        ),
        (Account(AccountCode.FUNDING, "partner:icbc"), "funding:partner:icbc"),
        (Account(AccountCode.SETTLEMENT_CASH), "settlement_cash"),
    ],
)
def test_an_account_is_stored_as_code_colon_key_and_read_back(account: Account, stored: str) -> None:
    assert str(account) == stored
    assert Account.parse(stored) == account
