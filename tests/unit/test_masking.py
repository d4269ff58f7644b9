"""Personal data as operations see it: enough to recognise a borrower, never enough to be them."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lending.masking import mask_bank_account, mask_id_number, mask_name, mask_phone, masked
from lending.prc_id import make_id_number


def test_a_mobile_number_keeps_its_first_three_and_last_four_digits_without_the_country_code() -> None:
    assert mask_phone("+8613800000001") == "138****0001"
    assert mask_phone("008613800000001") == "138****0001"
    assert mask_phone("13912345678") == "139****5678"


def test_a_short_number_keeps_only_its_last_two_digits() -> None:
    assert mask_phone("+852123456") == "****56"


def test_a_bank_account_keeps_its_first_four_and_last_four_digits_or_only_the_last_four_if_short() -> None:
    assert mask_bank_account("6222020000005678") == "6222****5678"
    assert mask_bank_account("12345678") == "****5678"
    assert mask_bank_account("622202000005678") == "****5678"


def test_an_id_number_hides_the_birth_date_and_keeps_its_length() -> None:
    id_number = make_id_number("110101", date(1985, 5, 5), 12)
    shown = mask_id_number(id_number)
    assert shown == id_number[:3] + "*" * 11 + id_number[-4:]
    assert "19850505" not in shown
    assert len(shown) == 18


def test_a_name_keeps_its_first_character() -> None:
    assert mask_name("李华") == "李*"
    assert mask_name("欧阳小明") == "欧***"
    assert mask_name("Li Hua") == "L*****"
    assert mask_name("李") == "*"


def test_every_field_is_masked_by_its_own_rule_and_an_unknown_field_is_refused() -> None:
    person = {"name": "李华", "phone": "+8613800000001", "bank_account": "6222020000005678"}
    assert masked(person) == {"name": "李*", "phone": "138****0001", "bank_account": "6222****5678"}
    with pytest.raises(KeyError, match="email"):
        masked({"email": "li@example.com"})


@given(st.text(alphabet="0123456789", min_size=6, max_size=20), st.booleans())
def test_a_phone_number_shows_at_most_seven_digits_and_never_its_middle(digits: str, plus: bool) -> None:
    shown = mask_phone(("+" if plus else "") + digits)
    kept = [c for c in shown if c.isdigit()]
    assert len(kept) <= 7
    assert shown.count("****") == 1
    assert digits not in shown


@given(st.text(alphabet="0123456789", min_size=8, max_size=30))
def test_at_least_half_of_a_bank_account_is_hidden(account: str) -> None:
    kept = sum(c.isdigit() for c in mask_bank_account(account))
    assert kept * 2 <= len(account)
