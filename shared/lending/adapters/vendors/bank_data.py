"""The open-banking and tax data vendor: the business's bank statements and its tax filings.

Wire contract
-------------
Both requests carry the applicant's ID number and phone: the vendor releases data only when they match the holder
who consented (query strings hold personal data, so request lines are never logged, by us or by the vendor).

Bank statements, the last ``months`` whole calendar months::

    GET {base_url}/v1/statements?account=<digits>&months=<1–24>&id_number=<18 characters>&phone=<+86…>

    200 {"period_start": "YYYY-MM-DD", "period_end": "YYYY-MM-DD", "currency": "CNY",
         "transactions": [{"on": "YYYY-MM-DD", "amount": "<signed decimal, 2 places: + in, - out>",
                           "category": "<the bank's label>" | null}, …]}     (every "on" lies in the period)
    422 {"error": {"code": "invalid_request", …}}
    404 {"error": {"code": "account_not_found", …}}

Tax filings of the business (``tax_id``: its unified social credit code), or of the applicant as a sole trader
when ``tax_id`` is left out::

    GET {base_url}/v1/tax-filings?id_number=<18 characters>&phone=<+86…>[&tax_id=<code>]

    200 {"filings": [{"period_start": "YYYY-MM-01", "period_end": "<last day of a month>",
                      "declared_revenue": "<decimal, 2 places, ≥ 0>"}, …]}
    422 {"error": {"code": "invalid_request", …}}

Both are read-only and safe to retry. Results are the business assessment's own types, so they go to it unchanged.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from lending.adapters.vendors.transport import VendorTransport
from lending.applicant import Person
from lending.errors import LendingError
from lending.money import Money
from lending.risk.cash_flow import BankStatement, BankTransaction
from lending.risk.tax import TaxFiling

VENDOR = "bank_data"
MAX_STATEMENT_MONTHS = 24


def _date(value: Any) -> date:
    if not isinstance(value, str) or len(value) != 10:
        raise ValueError("a date is YYYY-MM-DD")
    return date.fromisoformat(value)


def _amount(value: Any) -> Money:
    if not isinstance(value, str):
        raise ValueError("an amount is a decimal string")
    return Money.of(value)


def _transaction(item: Any) -> BankTransaction:
    if not isinstance(item, dict):
        raise ValueError("a transaction is an object")
    category = item.get("category")
    if category is not None and not isinstance(category, str):
        raise ValueError("a category is text or null")
    return BankTransaction(on=_date(item["on"]), amount=_amount(item["amount"]), category=category)


def _filing(item: Any) -> TaxFiling:
    if not isinstance(item, dict):
        raise ValueError("a tax filing is an object")
    return TaxFiling(
        period_start=_date(item["period_start"]),
        period_end=_date(item["period_end"]),
        declared_revenue=_amount(item["declared_revenue"]),
    )


class BankDataClient:
    """Fetches bank statements and tax filings for the business assessment."""

    def __init__(self, base_url: str, *, timeout: float = 10.0, api_key: str | None = None) -> None:
        self._http = VendorTransport(VENDOR, base_url, timeout=timeout, api_key=api_key)

    def fetch_statements(self, bank_account: str, months: int = 12, *, holder: Person) -> BankStatement:
        """The account's transactions over the last ``months`` whole calendar months, with the period covered."""
        if not bank_account.isdigit():
            raise ValueError("a bank account number is digits")
        if not 1 <= months <= MAX_STATEMENT_MONTHS:
            raise ValueError(f"statements cover 1 to {MAX_STATEMENT_MONTHS} months")
        response = self._http.send(
            "GET",
            "/v1/statements",
            query={
                "account": bank_account,
                "months": str(months),
                "id_number": holder.id_number,
                "phone": holder.phone,
            },
            expect=(200,),
        )
        body = response.body
        try:
            transactions = body["transactions"]
            if not isinstance(transactions, list) or body.get("currency", "CNY") != "CNY":
                raise ValueError("transactions are a list of CNY amounts")
            return BankStatement(
                period_start=_date(body["period_start"]),
                period_end=_date(body["period_end"]),
                transactions=tuple(_transaction(item) for item in transactions),
            )
        except (KeyError, ValueError, TypeError, LendingError):
            raise self._http.malformed("bank statement", response.status) from None

    def fetch_tax_filings(self, holder: Person, tax_id: str | None = None) -> list[TaxFiling]:
        """Revenue declared to the tax authority by the business ``tax_id``, or by the holder as a sole trader."""
        query = {"id_number": holder.id_number, "phone": holder.phone}
        if tax_id:
            query["tax_id"] = tax_id
        response = self._http.send("GET", "/v1/tax-filings", query=query, expect=(200,))
        try:
            filings = response.body["filings"]
            if not isinstance(filings, list):
                raise ValueError("filings are a list")
            return [_filing(item) for item in filings]
        except (KeyError, ValueError, TypeError, LendingError):
            raise self._http.malformed("tax filing list", response.status) from None
