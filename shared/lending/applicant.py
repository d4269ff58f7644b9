"""The applicant: who they are (the elements a bank or vendor matches a person on) and what they consented to.

One model each, used by the API's request body, the steps and the vendors alike. Every field of an
:class:`Applicant` is personal data: the repr hides them, a validation error never echoes them, nothing logs them.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints, field_validator

from lending.prc_id import validate_id_number

#: An ID number's form (its checksum and birth date are checked beyond what a pattern can say).
ID_NUMBER_TEXT = r"^[0-9]{17}[0-9Xx]$"
PHONE_TEXT = r"^\+?[0-9]{6,20}$"
BANK_ACCOUNT_TEXT = r"^[0-9]{8,30}$"


def exact(pattern: str) -> StringConstraints:
    """A string that must match ``pattern`` as sent: the bodies strip free text, never a coded value, so what the
    document's pattern says is exactly what is accepted."""
    return StringConstraints(strip_whitespace=False, pattern=pattern)


class _Strict(BaseModel):
    # hide_input_in_errors: a validation error must never echo personal data (an ID number, a phone) into logs.
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True, hide_input_in_errors=True)


class Person(_Strict):
    """The elements a bank or vendor matches a person on: name, 18-character PRC resident ID number and phone
    (personal data). What the identity check and the credit bureau are asked about, and all they are given."""

    name: str = Field(min_length=1, max_length=100, repr=False)
    id_number: Annotated[str, exact(ID_NUMBER_TEXT)] = Field(
        repr=False,
        description="18-character PRC resident ID (GB 11643): a province's region code, a birth date from 1900 to "
        "today, and the ISO 7064 MOD 11-2 check character (0-9 or X)",
    )
    phone: Annotated[str, exact(PHONE_TEXT)] = Field(repr=False)

    @field_validator("id_number")
    @classmethod
    def _checksum(cls, value: str) -> str:
        return validate_id_number(value)


class Applicant(Person):
    """Name, 18-character PRC resident ID number, phone and bank account of the applicant (personal data)."""

    bank_account: Annotated[str, exact(BANK_ACCOUNT_TEXT)] = Field(repr=False)


#: The fields of a person, as stored (each encrypted on its own) with the application: a step that needs no bank
#: account decrypts only these.
PERSON_FIELDS = tuple(Person.model_fields)
#: The fields of an applicant, as stored (each encrypted on its own) with the application.
APPLICANT_FIELDS = tuple(Applicant.model_fields)


class Consent(_Strict):
    """The applicant's consents; only a real ``true`` counts, never a truthy string."""

    credit_report: StrictBool
    data_processing: StrictBool
