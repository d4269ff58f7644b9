"""The person a vendor is asked about, on the wire: the identifying elements every vendor request carries.

Vendors match requests on these elements (name, resident ID number, phone), the way a bank's "four elements"
check matches an account to its holder. All three are personal data: nothing logs them.
"""

from __future__ import annotations

from lending.applicant import PERSON_FIELDS, Person


def subject(applicant: Person) -> dict[str, str]:
    """The wire form of the person asked about: ``{"name", "id_number", "phone"}``."""
    return {field: getattr(applicant, field) for field in PERSON_FIELDS}
