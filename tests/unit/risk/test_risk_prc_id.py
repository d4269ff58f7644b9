"""The PRC resident ID number: checksum, birth date, region, age, and that errors never quote the number."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lending.errors import LendingError
from lending.prc_id import (
    PROVINCE_CODES,
    InvalidIdNumber,
    age_on,
    birth_date,
    check_character,
    make_id_number,
    validate_id_number,
)

# The specimen number printed in GB 11643-1999 guides: Beijing Chaoyang, born 31 Dec 1949, sequence 002, check 'X'.
SPECIMEN = "11010519491231002X"


def _assert_refused_without_echo(number: str, words: str) -> None:
    with pytest.raises(InvalidIdNumber) as refused:
        validate_id_number(number)
    assert words in refused.value.message
    assert number not in str(refused.value)
    assert number[:17] not in str(refused.value)


def test_the_specimen_number_is_valid_and_check_x_stands_for_ten() -> None:
    # Given the specimen number, whose weighted digit sum gives check value 10
    # When it is validated
    # Then it passes as is, and the check character computed from its body is 'X'
    assert validate_id_number(SPECIMEN) == SPECIMEN
    assert check_character(SPECIMEN[:17]) == "X"


def test_a_lower_case_x_and_surrounding_spaces_are_normalised() -> None:
    # Given the specimen typed with a lower-case x and stray spaces
    # When it is validated
    # Then the canonical form comes back
    assert validate_id_number(f" {SPECIMEN.lower()} ") == SPECIMEN


def test_the_error_is_a_lending_error_with_a_stable_code() -> None:
    # Given an invalid number
    # When it is validated
    # Then the error is a LendingError coded invalid_id_number
    with pytest.raises(LendingError) as refused:
        validate_id_number("123")
    assert refused.value.code == "invalid_id_number"


def test_a_wrong_check_digit_is_refused_without_quoting_the_number() -> None:
    # Given the specimen with its check character changed
    wrong = SPECIMEN[:17] + "3"
    # When it is validated
    # Then the checksum check fails, and the message names the check and not the number
    _assert_refused_without_echo(wrong, "check character")


def test_an_impossible_birth_date_is_refused_without_quoting_the_number() -> None:
    # Given a number whose digits 7–14 read 30 February (with a correct check character, so only the date is wrong)
    body = "11010519850230123"
    number = body + check_character(body)
    # When it is validated
    # Then the date check fails
    _assert_refused_without_echo(number, "not a calendar date")


def test_a_birth_year_before_1900_is_refused() -> None:
    # Given a number of someone born in 1899, with a correct check character
    # When validated
    # Then the date check fails
    body = "11010518991231123"
    _assert_refused_without_echo(body + check_character(body), "before 1900")


@pytest.mark.parametrize("number", ["11010519491231002", "11010519491231002X1", "", "X"])
def test_a_wrong_length_is_refused_without_quoting_the_number(number: str) -> None:
    # Given a number that is not 18 characters long
    # When it is validated
    # Then the length check fails and says how long it was, not what it was
    with pytest.raises(InvalidIdNumber) as refused:
        validate_id_number(number)
    assert "18 characters" in refused.value.message
    if number:
        assert number not in refused.value.message


def test_letters_in_the_body_are_refused() -> None:
    # Given a letter among the first 17 characters
    # When validated
    # Then the digit check fails
    _assert_refused_without_echo("1101051949123100AX", "must be digits")


def test_a_last_character_other_than_a_digit_or_x_is_refused() -> None:
    # Given a number ending in Y
    # When validated
    # Then the check-character check fails
    _assert_refused_without_echo("11010519491231002Y", "digit or X")


def test_an_unknown_province_is_refused() -> None:
    # Given a number from province code 99, which does not exist, with a correct check character
    body = "99010519491231002"
    # When it is validated
    # Then the region check fails
    _assert_refused_without_echo(body + check_character(body), "province code")


def test_non_text_is_refused() -> None:
    # Given an ID number passed as an integer
    # When validated
    # Then it is refused by type, without quoting it
    with pytest.raises(InvalidIdNumber, match="is a string"):
        validate_id_number(110105194912310020)


def test_birth_date_and_age_come_from_the_number() -> None:
    # Given the specimen (born 31 Dec 1949)
    # When its birth date and ages are read
    # Then the age turns on the birthday itself
    assert birth_date(SPECIMEN) == date(1949, 12, 31)
    assert age_on(SPECIMEN, date(2025, 12, 30)) == 75
    assert age_on(SPECIMEN, date(2025, 12, 31)) == 76


def test_someone_born_on_29_february_comes_of_age_on_1_march_in_common_years() -> None:
    # Given a number of someone born on 29 Feb 2008
    number = make_id_number("440305", date(2008, 2, 29), 7)
    # When the age is asked on 28 Feb and 1 Mar 2026
    # Then they are 17 on the 28th and 18 on 1 March
    assert age_on(number, date(2026, 2, 28)) == 17
    assert age_on(number, date(2026, 3, 1)) == 18


def test_an_age_before_birth_is_refused() -> None:
    # Given the specimen (born 31 Dec 1949)
    # When its age is asked on the day before
    # Then it is refused
    with pytest.raises(InvalidIdNumber, match="after the day"):
        age_on(SPECIMEN, date(1949, 12, 30))


def test_make_id_number_reproduces_the_specimen() -> None:
    # Given the specimen's parts
    # When a number is generated from them
    # Then it is the specimen
    assert make_id_number("110105", date(1949, 12, 31), 2) == SPECIMEN


@pytest.mark.parametrize(
    ("region", "born", "sequence", "words"),
    [
        ("1101", date(1990, 1, 1), 1, "6 digits"),
        ("990105", date(1990, 1, 1), 1, "province"),
        ("110105", date(1990, 1, 1), 1000, "0–999"),
        ("110105", date(1899, 1, 1), 1, "1900"),
    ],
)
def test_make_id_number_refuses_impossible_parts(region: str, born: date, sequence: int, words: str) -> None:
    # Given parts no issued number could have
    # When a number is generated from them
    # Then it is refused, naming the part
    with pytest.raises(InvalidIdNumber, match=words):
        make_id_number(region, born, sequence)


regions = st.builds(
    lambda province, rest: province + rest,
    st.sampled_from(sorted(PROVINCE_CODES)),
    st.text(alphabet="0123456789", min_size=4, max_size=4),
)
# Up to a day already past (a number whose holder is not yet born is refused: see test_prc_id_business_date).
births = st.dates(min_value=date(1900, 1, 1), max_value=date(2025, 12, 31))


@given(region=regions, born=births, sequence=st.integers(0, 999))
def test_every_generated_number_validates_and_keeps_its_birth_date(region: str, born: date, sequence: int) -> None:
    # Given any region, birth date and sequence
    # When a number is generated
    number = make_id_number(region, born, sequence)
    # Then it validates, and its birth date is the one put in
    assert validate_id_number(number) == number
    assert birth_date(number) == born


@given(
    region=regions,
    born=births,
    sequence=st.integers(0, 999),
    position=st.integers(0, 17),
    replacement=st.sampled_from("0123456789X"),
)
def test_any_single_changed_character_is_caught(
    region: str, born: date, sequence: int, position: int, replacement: str
) -> None:
    # Given a valid number with one character replaced by another
    number = make_id_number(region, born, sequence)
    if number[position] == replacement:
        return
    changed = number[:position] + replacement + number[position + 1 :]
    # When it is validated
    # Then it is refused (MOD 11-2 detects every single substitution), and the message does not quote it
    with pytest.raises(InvalidIdNumber) as refused:
        validate_id_number(changed)
    assert changed not in str(refused.value)
