"""The person a vendor is asked about: the identifying elements every vendor request carries.

Vendors match requests on these elements (name, resident ID number, phone), the way a bank's "four elements"
check matches an account to its holder. All three are personal data: the repr hides them, and nothing logs them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Applicant:
    """Name, 18-character PRC resident ID number and phone of the applicant (personal data: never logged)."""

    name: str = field(repr=False)
    id_number: str = field(repr=False)
    phone: str = field(repr=False)

    def __post_init__(self) -> None:
        for label, value in (("name", self.name), ("id_number", self.id_number), ("phone", self.phone)):
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"an applicant's {label} is required")

    def to_json(self) -> dict[str, Any]:
        """The wire form: ``{"name", "id_number", "phone"}``."""
        return {"name": self.name, "id_number": self.id_number, "phone": self.phone}
