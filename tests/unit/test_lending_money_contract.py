"""Money's promises at its edges: yuan read back exactly under any ambient context, and the schema the API publishes.

Mutation testing found both unpinned: ``to_decimal`` scaling in the ambient context (a low precision rounds the
amount) and every key of the amount's JSON schema (the OpenAPI document's description of each amount) passed.
"""

from __future__ import annotations

import decimal

from pydantic import BaseModel

from lending.money import AMOUNT_PATTERN, Money


class _Priced(BaseModel):
    amount: Money


def test_an_amount_reads_back_in_yuan_exactly_under_a_low_precision_ambient_context() -> None:
    # Given an ambient context of 3 significant digits (money.py promises no arithmetic depends on it)
    with decimal.localcontext(decimal.Context(prec=3, rounding=decimal.ROUND_DOWN)):
        # When amounts of many digits are read back in yuan
        large = Money(12_345_678_901).to_decimal()
        small = Money(-5).to_decimal()

    # Then every digit is kept, at two places
    assert (str(large), str(small)) == ("123456789.01", "-0.05")


def test_the_amount_schema_the_api_publishes_is_a_two_place_string_in_cny() -> None:
    amount = _Priced.model_json_schema()["properties"]["amount"]
    assert amount == {
        "type": "string",
        "pattern": AMOUNT_PATTERN,
        "examples": ["120000.00"],
        "description": "CNY",
        "title": "Amount",  # pydantic's, from the field name
    }
    assert AMOUNT_PATTERN == r"^-?\d{1,13}(\.\d{1,2})?$"
