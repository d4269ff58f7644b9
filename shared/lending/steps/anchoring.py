"""The daily seal (EventBridge schedule): every audit chain's head into one Merkle root, written once outside the
database, and each newly sealed head's anchor kept beside its chain for the audit answer.

What it reads: the AuditChains index (one entry per chain) and one single-item Query per chain for its head, so
its reads grow with the number of chains, never with their events; the day before's seal (one object) tells which
heads are new, and only those get an anchor written (one PutItem each). A rerun for a day already sealed writes no
second seal: it keeps the stored one and writes only the anchors that are missing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from lending.anchoring import Seal
from lending.audit import rfc3339_utc
from lending.calendar import business_date
from lending.merkle import ChainLeaf
from lending.steps.ports import AuditChains, Seals


def seal_date_for(event: Mapping[str, Any]) -> date:
    """The day a seal run covers: ``day`` when given, else the business day before the schedule fired."""
    if event.get("day"):
        return date.fromisoformat(str(event["day"]))
    fired = datetime.fromisoformat(str(event["time"]).replace("Z", "+00:00"))
    return business_date(fired) - timedelta(days=1)


def seal_day(day: date, now: datetime, *, chains: AuditChains, seals: Seals) -> dict[str, Any]:
    """Seal ``day``: the heads of every chain as they are now, one root, written once; the anchors of the heads
    the day before's seal did not hold."""
    heads = []
    for subject in chains.chains():
        head = chains.head(subject)
        if head is not None:
            heads.append(ChainLeaf(subject, head.index, head.hash))
    seal = Seal.build(day, rfc3339_utc(now), heads)
    written = seals.put(seal)
    if not written:
        stored = seals.get(day)
        if stored is None:
            raise RuntimeError(f"the seal of {day.isoformat()} exists yet cannot be read")
        seal = stored
    before = seals.get(day - timedelta(days=1))
    known = set(before.heads) if before is not None else set()
    new = [head.chain for head in seal.heads if head not in known]
    anchored = sum(chains.record_anchor(anchor) for anchor in seal.anchors(new))
    return {
        "day": seal.day,
        "root": seal.root,
        "chains": len(seal.heads),
        "seal_written": written,
        "new_heads": len(new),
        "anchors_written": anchored,
    }
