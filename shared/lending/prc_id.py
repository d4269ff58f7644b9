"""The 18-character PRC resident identity number (GB 11643-1999): checksum, birth date, region, age.

Layout: 6 digits of region (GB/T 2260, the first two name the province), 8 digits of birth date (YYYYMMDD), a
3-digit sequence (odd for men, even for women) and a check character from ISO 7064 MOD 11-2, where 10 is written
``X``. An ID number is personal data: no error raised here ever quotes it, only which check it failed.
"""

from __future__ import annotations

from datetime import date

from lending import calendar
from lending.errors import InvalidIdNumber

ID_LENGTH = 18

#: ISO 7064 MOD 11-2 weights of positions 1–17: 2^(17 − i) mod 11.
_WEIGHTS = tuple(pow(2, 17 - position, 11) for position in range(17))
_CHECK_CHARACTERS = "0123456789X"

#: Province-level codes of GB/T 2260, plus 81/82/83 used on residence permits of Hong Kong, Macao and Taiwan
#: residents; a number from any other first two digits cannot have been issued.
PROVINCE_CODES = frozenset(
    {
        "11", "12", "13", "14", "15",
        "21", "22", "23",
        "31", "32", "33", "34", "35", "36", "37",
        "41", "42", "43", "44", "45", "46",
        "50", "51", "52", "53", "54",
        "61", "62", "63", "64", "65",
        "71", "81", "82", "83",
    }
)  # fmt: skip

#: Resident identity cards with 18 characters were first issued in 1999; nobody holding one was born before 1900.
_EARLIEST_BIRTH_YEAR = 1900


def check_character(first_17: str) -> str:
    """The ISO 7064 MOD 11-2 check character of the first 17 digits ('X' stands for 10)."""
    if len(first_17) != ID_LENGTH - 1 or not first_17.isascii() or not first_17.isdigit():
        raise InvalidIdNumber("the check character is computed from exactly 17 digits")
    weighted = sum(int(digit) * weight for digit, weight in zip(first_17, _WEIGHTS, strict=True))
    return _CHECK_CHARACTERS[(12 - weighted % 11) % 11]


def _check_birth_date(born: date, what: str) -> None:
    """Refuse a birth date nobody holding a card can have: before 1900, or after today's business date."""
    if born.year < _EARLIEST_BIRTH_YEAR:
        raise InvalidIdNumber(f"{what} is before {_EARLIEST_BIRTH_YEAR}")
    # "Today" is the platform's business date (the one clock, which the local test clock moves), never the system's.
    if born > calendar.business_date():
        raise InvalidIdNumber(f"{what} is in the future")


def _parse_birth_date(digits: str) -> date:
    try:
        born = date(int(digits[0:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        raise InvalidIdNumber("characters 7–14 of the ID number are not a calendar date") from None
    _check_birth_date(born, "the birth date in the ID number")
    return born


def validate_id_number(value: object) -> str:
    """The ID number in canonical form (upper-case 'X') if every check passes; else InvalidIdNumber.

    The birth date must be a calendar date from 1900 up to the platform's business date: a number whose holder is
    not yet born cannot have been issued.
    """
    if not isinstance(value, str):
        raise InvalidIdNumber(f"an ID number is a string, not {type(value).__name__}")
    number = value.strip().upper()
    if len(number) != ID_LENGTH:
        raise InvalidIdNumber(f"an ID number has {ID_LENGTH} characters; this one has {len(number)}")
    body, check = number[:17], number[17]
    if not body.isascii() or not body.isdigit():
        raise InvalidIdNumber("the first 17 characters of an ID number must be digits")
    if check not in _CHECK_CHARACTERS:
        raise InvalidIdNumber("the last character of an ID number must be a digit or X")
    if body[:2] not in PROVINCE_CODES:
        raise InvalidIdNumber("the first two digits of the ID number are not a province code")
    _parse_birth_date(body[6:14])
    if check_character(body) != check:
        raise InvalidIdNumber("the check character of the ID number does not match its digits")
    return number


def birth_date(id_number: str) -> date:
    """The holder's date of birth, from a valid ID number."""
    return _parse_birth_date(validate_id_number(id_number)[6:14])


def age_on(id_number: str, day: date) -> int:
    """Completed years of age on ``day``; someone born on 29 February comes of age on 1 March in common years."""
    born = birth_date(id_number)
    if day < born:
        raise InvalidIdNumber("the birth date in the ID number is after the day the age is asked for")
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def make_id_number(region: str, born: date, sequence: int) -> str:
    """A valid ID number for tests and the sandbox: region (6 digits), birth date and sequence (0–999)."""
    if len(region) != 6 or not region.isascii() or not region.isdigit() or region[:2] not in PROVINCE_CODES:
        raise InvalidIdNumber("the region must be 6 digits starting with a province code")
    if not 0 <= sequence <= 999:
        raise InvalidIdNumber("the sequence must be 0–999")
    _check_birth_date(born, "the birth date")
    body = f"{region}{born:%Y%m%d}{sequence:03d}"
    return body + check_character(body)
