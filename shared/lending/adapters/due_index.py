"""The DueLoans index of LoansTable: ``due_shard`` (partition) and ``next_due_on`` (sort), both present only while
something will fall due on the loan. Shards spread the index's writes; the daily close queries each shard for
``next_due_on <= day``, so it reads the loans due or overdue and never the rest of the portfolio.
"""

from __future__ import annotations

import hashlib

#: How many partitions the index spreads loans over (the close queries each one).
DUE_SHARDS = 8
DUE_INDEX = "DueLoans"


def due_shard(loan_id: str) -> str:
    """The loan's partition of the index (stable: derived from the id)."""
    return f"due#{int(hashlib.sha256(loan_id.encode()).hexdigest()[:8], 16) % DUE_SHARDS}"
