"""Sealing the audit chains' heads outside the database: the daily seal, each chain's anchor, the offline check.

A **seal** is one day's Merkle root over the head of every audit chain (:mod:`lending.merkle`), written once to a
write-once (Object Lock) bucket as ``anchors/<day>.json`` with every leaf, so any chain's proof can be rebuilt from
that object alone. An **anchor** is what a chain's audit answer carries: the seal's root and time, the sealed head
(the prefix of the chain the root covers) and the head's inclusion proof. :func:`check` is the offline verification
``lending audit verify`` runs: the chain's links, the sealed head in it, and the proof against a published root.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from lending.audit import AuditEvent, verify
from lending.merkle import ChainLeaf, MerkleTree, ProofStep, verify_inclusion

SEAL_VERSION = 1
SEAL_PREFIX = "anchors/"
#: Said in every seal, so a reader needs nothing else to rebuild the root from its leaves.
HASHING = (
    "RFC 6962 (leaves sorted by chain): leaf = SHA-256(0x00 || canonical JSON {chain, hash, index}), "
    "node = SHA-256(0x01 || left || right), split at the largest power of two below n, no duplication"
)


def seal_key(day: date) -> str:
    """The object key of a day's seal: one object per sealed day."""
    return f"{SEAL_PREFIX}{day.isoformat()}.json"


@dataclass(frozen=True, slots=True)
class Anchor:
    """A chain's head as one seal covers it, with the proof that the seal's root includes it."""

    chain: str
    day: str
    root: str
    sealed_at: str
    head_index: int
    head_hash: str
    leaf_index: int
    tree_size: int
    proof: tuple[ProofStep, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "chain": self.chain,
            "day": self.day,
            "root": self.root,
            "sealed_at": self.sealed_at,
            "head": {"index": self.head_index, "hash": self.head_hash},
            "leaf_index": self.leaf_index,
            "tree_size": self.tree_size,
            "proof": [{"hash": step.hash, "side": step.side} for step in self.proof],
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Anchor:
        """An anchor as :meth:`to_json` wrote it; anything else is a ValueError."""
        try:
            steps = []
            for step in raw["proof"]:
                if step["side"] not in ("left", "right") or not isinstance(step["hash"], str):
                    raise ValueError("a proof step needs a hash and a side (left or right)")
                steps.append(ProofStep(step["hash"], step["side"]))
            anchor = cls(
                chain=raw["chain"],
                day=raw["day"],
                root=raw["root"],
                sealed_at=raw["sealed_at"],
                head_index=raw["head"]["index"],
                head_hash=raw["head"]["hash"],
                leaf_index=raw["leaf_index"],
                tree_size=raw["tree_size"],
                proof=tuple(steps),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not an anchor: {exc!r}") from exc
        for name in ("chain", "day", "root", "sealed_at", "head_hash"):
            if type(getattr(anchor, name)) is not str:
                raise ValueError(f"anchor field {name} is not a string")
        for name in ("head_index", "leaf_index", "tree_size"):
            if type(getattr(anchor, name)) is not int:
                raise ValueError(f"anchor field {name} is not an integer")
        return anchor

    def leaf(self) -> ChainLeaf:
        return ChainLeaf(self.chain, self.head_index, self.head_hash)


@dataclass(frozen=True, slots=True)
class Seal:
    """One day's root over every chain's head, with the leaves (sorted by chain id) it was built from."""

    day: str
    sealed_at: str
    root: str
    heads: tuple[ChainLeaf, ...]

    @classmethod
    def build(cls, day: date, sealed_at: str, heads: Sequence[ChainLeaf]) -> Seal:
        leaves = tuple(sorted(heads))
        return cls(day.isoformat(), sealed_at, MerkleTree.of_heads(leaves).root().hex(), leaves)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": SEAL_VERSION,
            "day": self.day,
            "sealed_at": self.sealed_at,
            "root": self.root,
            "hashing": HASHING,
            "leaves": [{"chain": h.chain, "index": h.index, "hash": h.hash} for h in self.heads],
        }

    def to_bytes(self) -> bytes:
        return json.dumps(self.to_json(), sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Seal:
        """A stored seal, checked: its leaves must rebuild its root (a ValueError otherwise)."""
        try:
            if raw["version"] != SEAL_VERSION:
                raise ValueError(f"seal version {raw['version']!r} is not {SEAL_VERSION}")
            heads = tuple(ChainLeaf(leaf["chain"], leaf["index"], leaf["hash"]) for leaf in raw["leaves"])
            seal = cls(raw["day"], raw["sealed_at"], raw["root"], heads)
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not a seal: {exc!r}") from exc
        if MerkleTree.of_heads(seal.heads).root().hex() != seal.root:
            raise ValueError(f"the seal of {seal.day}: its leaves do not rebuild its root")
        return seal

    def anchors(self, chains: Sequence[str] | None = None) -> list[Anchor]:
        """Each chain's anchor in this seal (every chain's, or those named), proofs from one tree."""
        tree = MerkleTree.of_heads(self.heads)
        wanted = None if chains is None else set(chains)
        return [
            Anchor(
                chain=head.chain,
                day=self.day,
                root=self.root,
                sealed_at=self.sealed_at,
                head_index=head.index,
                head_hash=head.hash,
                leaf_index=position,
                tree_size=len(self.heads),
                proof=tuple(tree.proof(position)),
            )
            for position, head in enumerate(self.heads)
            if wanted is None or head.chain in wanted
        ]


@dataclass(frozen=True, slots=True)
class Check:
    """One thing the offline verification checked, and whether it held."""

    what: str
    ok: bool


def check(events: Sequence[AuditEvent], anchor: Anchor | None, published_root: str) -> list[Check]:
    """Everything ``lending audit verify`` checks of a chain, offline: the links, the sealed head in the chain, the
    anchor's root against the published one, and the head's proof against the published root."""
    broken = verify(events)
    checks = [
        Check(
            f"the chain's {len(events)} links hold" if broken is None else f"the chain breaks at event {broken}",
            broken is None,
        )
    ]
    if anchor is None:
        return [*checks, Check("the chain has no sealed head yet (no anchor)", False)]
    sealed = events[anchor.head_index] if 0 <= anchor.head_index < len(events) else None
    checks.append(
        Check(
            f"the sealed head (event {anchor.head_index}, {anchor.head_hash[:12]}…) is in the chain",
            sealed is not None and sealed.hash == anchor.head_hash and sealed.subject == anchor.chain,
        )
    )
    root = published_root.strip().lower()
    checks.append(
        Check(f"the anchor's root {anchor.root[:12]}… is the published root {root[:12]}…", anchor.root == root)
    )
    try:
        root_bytes = bytes.fromhex(root)
    except ValueError:
        root_bytes = b""
    included = verify_inclusion(
        anchor.leaf().digest(), anchor.proof, root_bytes, index=anchor.leaf_index, size=anchor.tree_size
    )
    checks.append(
        Check(
            f"the head's proof ({len(anchor.proof)} steps, leaf {anchor.leaf_index} of {anchor.tree_size}) "
            "leads to the published root",
            included,
        )
    )
    return checks
