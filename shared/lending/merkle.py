"""A Merkle tree over the heads of the audit chains (RFC 6962's, as Certificate Transparency uses it).

- A leaf is one chain's head: ``canonical JSON of {"chain", "index", "hash"}`` (the chain's subject, the head's
  index and hash); leaves are sorted by chain id, one per chain.
- Hashing is domain-separated: ``leaf = SHA-256(0x00 || leaf data)``, ``node = SHA-256(0x01 || left || right)``, so
  no leaf can pass for an inner node (the second-preimage attack on untagged trees).
- Odd nodes are never duplicated: a tree of ``n`` leaves splits at ``k``, the largest power of two below ``n``,
  into a full left subtree of ``k`` leaves and a right subtree of the rest (RFC 6962 section 2.1). A node without a
  sibling at some level is carried up unchanged, so no two different leaf lists give the same root (duplicating
  the last node, as Bitcoin does, gives ``[a, b, c]`` and ``[a, b, c, c]`` one root). The empty tree's root is
  ``SHA-256()`` of nothing.
- An inclusion proof is the audit path from a leaf to the root: each step's sibling hash and the side it is on
  (``left``: the sibling comes first). :func:`verify_inclusion` recomputes the root from the leaf and the path; the
  sides follow from the leaf's index and the tree's size, and a path whose sides or length do not is refused.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Literal

from lending.audit import canonical_json

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
Side = Literal["left", "right"]


@dataclass(frozen=True, slots=True, order=True)
class ChainLeaf:
    """One leaf: a chain's head as it was sealed (ordered by chain id, as the leaves are)."""

    chain: str
    index: int
    hash: str

    def data(self) -> bytes:
        return canonical_json({"chain": self.chain, "index": self.index, "hash": self.hash})

    def digest(self) -> bytes:
        return leaf_hash(self.data())


@dataclass(frozen=True, slots=True)
class ProofStep:
    """One step of an audit path: the sibling's hash (hex) and which side of the running hash it is on."""

    hash: str
    side: Side


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def _split(size: int) -> int:
    """The largest power of two smaller than ``size`` (``size`` > 1)."""
    return 1 << ((size - 1).bit_length() - 1)


class MerkleTree:
    """The tree over ``leaves`` (digests, in order); each subtree's hash is computed once, so the root and every
    leaf's proof together cost O(n) hashes, and one proof O(log n) once the tree is built."""

    def __init__(self, leaves: Sequence[bytes]) -> None:
        self._leaves = list(leaves)
        self._memo: dict[tuple[int, int], bytes] = {}

    @classmethod
    def of_heads(cls, heads: Sequence[ChainLeaf]) -> MerkleTree:
        """The tree over chain heads, which must be sorted by chain id with one head per chain."""
        chains = [head.chain for head in heads]
        if any(a >= b for a, b in pairwise(chains)):
            raise ValueError("chain heads must be sorted by chain id, one per chain")
        return cls([head.digest() for head in heads])

    @property
    def size(self) -> int:
        return len(self._leaves)

    def root(self) -> bytes:
        if not self._leaves:
            return hashlib.sha256(b"").digest()
        return self._hash(0, len(self._leaves))

    def _hash(self, start: int, end: int) -> bytes:
        if end - start == 1:
            return self._leaves[start]
        found = self._memo.get((start, end))
        if found is None:
            middle = start + _split(end - start)
            found = node_hash(self._hash(start, middle), self._hash(middle, end))
            self._memo[(start, end)] = found
        return found

    def proof(self, index: int) -> list[ProofStep]:
        """The audit path of leaf ``index``, from the leaf up to the root."""
        if not 0 <= index < len(self._leaves):
            raise IndexError(f"no leaf {index} in a tree of {len(self._leaves)}")
        steps: list[ProofStep] = []
        start, end = 0, len(self._leaves)
        while end - start > 1:
            middle = start + _split(end - start)
            if index < middle:
                steps.append(ProofStep(self._hash(middle, end).hex(), "right"))
                end = middle
            else:
                steps.append(ProofStep(self._hash(start, middle).hex(), "left"))
                start = middle
        steps.reverse()
        return steps


def path_sides(index: int, size: int) -> list[Side]:
    """The side of each sibling on leaf ``index``'s path in a tree of ``size`` leaves, leaf first."""
    if not 0 <= index < size:
        raise IndexError(f"no leaf {index} in a tree of {size}")
    sides: list[Side] = []
    start, end = 0, size
    while end - start > 1:
        middle = start + _split(end - start)
        if index < middle:
            sides.append("right")
            end = middle
        else:
            sides.append("left")
            start = middle
    sides.reverse()
    return sides


def root_from_path(leaf: bytes, proof: Sequence[ProofStep]) -> bytes:
    """The root ``proof`` leads to from ``leaf``."""
    running = leaf
    for step in proof:
        sibling = bytes.fromhex(step.hash)
        if len(sibling) != hashlib.sha256().digest_size:
            raise ValueError("a proof step's hash is not a SHA-256 digest")
        running = node_hash(sibling, running) if step.side == "left" else node_hash(running, sibling)
    return running


def verify_inclusion(leaf: bytes, proof: Sequence[ProofStep], root: bytes, *, index: int, size: int) -> bool:
    """Whether ``proof`` shows ``leaf`` at ``index`` of the tree of ``size`` leaves whose root is ``root``."""
    try:
        if [step.side for step in proof] != path_sides(index, size):
            return False
        return root_from_path(leaf, proof) == root
    except (IndexError, ValueError):
        return False
