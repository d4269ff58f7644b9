"""A birth date in an ID number is judged against the platform's business date: one in the future is refused.

The ID number check runs at intake (the API models' field validator), so a number whose birth date has not yet
come is a 422 there, naming the field, and never reaches the workflow (where working out an age from it failed the
application). "Today" is the platform's one clock (``lending.calendar.business_date``), so the local test clock
moves it too; the system clock is never asked.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from pydantic import ValidationError

from lending import clock
from lending.applicant import Applicant
from lending.prc_id import InvalidIdNumber, age_on, birth_date, check_character, make_id_number, validate_id_number

BUSINESS_DATE = date(2026, 1, 10)


@pytest.fixture
def business_date(monkeypatch: pytest.MonkeyPatch) -> date:
    """The platform's clock stands on BUSINESS_DATE (the local test clock can put it anywhere)."""
    monkeypatch.setattr(clock, "today", lambda: BUSINESS_DATE)
    return BUSINESS_DATE


def _number(born: date) -> str:
    """A checksum-valid number with this birth date, built without make_id_number (which refuses future dates)."""
    body = f"110105{born:%Y%m%d}123"
    return body + check_character(body)


def test_a_birth_date_after_the_business_date_is_refused(business_date: date) -> None:
    # Given a checksum-valid number whose holder is born the day after the business date
    number = _number(business_date + timedelta(days=1))
    # When it is validated
    with pytest.raises(InvalidIdNumber) as refused:
        validate_id_number(number)
    # Then it is refused as a ValueError (what a pydantic validator turns into a 422), without quoting the number
    assert isinstance(refused.value, ValueError)
    assert "future" in refused.value.message
    assert number not in str(refused.value)


def test_a_birth_date_on_the_business_date_is_a_real_one(business_date: date) -> None:
    # Given a number whose holder is born on the business date itself
    number = _number(business_date)
    # Then it is valid, and its holder is 0 years old today
    assert validate_id_number(number) == number
    assert age_on(number, business_date) == 0


def test_the_future_is_the_platform_clocks_not_the_systems(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a platform clock far behind the system clock (a replay), and one far ahead (the local test clock)
    born = date(2020, 6, 1)
    number = _number(born)
    # When the business date is before the birth date, the number is refused
    monkeypatch.setattr(clock, "today", lambda: date(2019, 1, 1))
    with pytest.raises(InvalidIdNumber, match="future"):
        validate_id_number(number)
    # And when the test clock stands past a birth date still ahead of the system clock, that number is accepted
    ahead = datetime.now(clock.CHINA_STANDARD_TIME).date() + timedelta(days=400)  # the system's date, not the clock's
    monkeypatch.setattr(clock, "today", lambda: ahead + timedelta(days=1))
    assert birth_date(_number(ahead)) == ahead


@pytest.mark.parametrize(
    ("digits", "words"),
    [
        ("20270101", "future"),  # after the business date
        ("18991231", "1900"),  # before any holder of an 18-character card
        ("20230229", "calendar date"),  # no 29 February in 2023
        ("19901301", "calendar date"),  # no 13th month
        ("19900431", "calendar date"),  # no 31 April
    ],
)
def test_an_impossible_birth_date_is_a_422_at_intake(business_date: date, digits: str, words: str) -> None:
    # Given an applicant whose otherwise well-formed, checksum-valid ID number gives an impossible birth date
    body = f"110105{digits}123"
    number = body + check_character(body)
    # When the intake body's applicant is validated
    with pytest.raises(ValidationError) as refused:
        Applicant.model_validate(
            {"name": "Zhang Min", "id_number": number, "phone": "+8613900000001", "bank_account": "6222020200001234"}
        )
    # Then it is refused on id_number alone, saying why, and the number is not echoed
    errors = refused.value.errors(include_url=False)
    assert [error["loc"] for error in errors] == [("id_number",)]
    assert words in errors[0]["msg"]
    assert number not in str(refused.value)


def test_make_id_number_refuses_a_birth_date_in_the_future(business_date: date) -> None:
    # Given a birth date after the business date
    # Then no number is made for it: every number made validates
    with pytest.raises(InvalidIdNumber, match="future"):
        make_id_number("110105", business_date + timedelta(days=1), 1)
    assert validate_id_number(make_id_number("110105", business_date, 1))
