"""The groups a signed-in user may belong to (the identity provider's groups, as template.yaml creates them)."""

from __future__ import annotations

#: Underwriters decide referred applications and may read any loan's audit trail.
UNDERWRITERS = "underwriters"
#: Finance operations watch the book and may read any loan's audit trail.
OPERATIONS = "operations"
