"""What a source of evidence notices about a business: findings, and how much each weighs.

The business assessment collects them and the decision policy's referral rules read them, so both import this module
and neither imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    """How much a finding weighs, from a note to a reason to stop and look."""

    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def rank(self) -> int:
        """Position on the scale: info 0 … high 3."""
        return list(Severity).index(self)


@dataclass(frozen=True, slots=True)
class Finding:
    """Something a source noticed: a stable code, its weight, words for a person, and the source's name."""

    code: str
    severity: Severity
    message: str
    source: str

    def to_json_dict(self) -> dict[str, str]:
        """The finding as JSON-ready values."""
        return {"code": self.code, "severity": self.severity.value, "message": self.message, "source": self.source}
