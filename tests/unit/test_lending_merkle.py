"""The Merkle tree over audit chain heads: RFC 6962 hashing, every leaf's proof verifies, any change fails."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lending.merkle import (
    ChainLeaf,
    MerkleTree,
    ProofStep,
    leaf_hash,
    node_hash,
    path_sides,
    root_from_path,
    verify_inclusion,
)


def _leaves(count: int) -> list[ChainLeaf]:
    return [ChainLeaf(f"app-{k:04d}", k % 7, hashlib.sha256(str(k).encode()).hexdigest()) for k in range(count)]


def _reference_root(digests: list[bytes]) -> bytes:
    """RFC 6962's MTH, straight from its definition."""
    if not digests:
        return hashlib.sha256(b"").digest()
    if len(digests) == 1:
        return digests[0]
    k = 1
    while k * 2 < len(digests):
        k *= 2
    return node_hash(_reference_root(digests[:k]), _reference_root(digests[k:]))


def test_hashing_is_domain_separated() -> None:
    assert leaf_hash(b"x") == hashlib.sha256(b"\x00x").digest()
    assert node_hash(b"a" * 32, b"b" * 32) == hashlib.sha256(b"\x01" + b"a" * 32 + b"b" * 32).digest()
    leaf = ChainLeaf("app-1", 3, "ab" * 32)
    assert leaf.data() == b'{"chain":"app-1","hash":"' + b"ab" * 32 + b'","index":3}'


def test_known_shapes() -> None:
    a, b, c = (leaf.digest() for leaf in _leaves(3))
    assert MerkleTree([]).root() == hashlib.sha256(b"").digest()
    assert MerkleTree([a]).root() == a
    assert MerkleTree([a, b]).root() == node_hash(a, b)
    # three leaves: the odd one is carried up, not duplicated
    assert MerkleTree([a, b, c]).root() == node_hash(node_hash(a, b), c)
    assert MerkleTree([a, b, c]).root() != MerkleTree([a, b, c, c]).root()
    assert MerkleTree([a, b, c]).proof(2) == [ProofStep(node_hash(a, b).hex(), "left")]
    assert path_sides(0, 3) == ["right", "right"]


def test_heads_must_be_sorted_one_per_chain() -> None:
    first, second = _leaves(2)
    with pytest.raises(ValueError, match="sorted"):
        MerkleTree.of_heads([second, first])
    with pytest.raises(ValueError, match="sorted"):
        MerkleTree.of_heads([first, first])


@settings(max_examples=60, deadline=None)
@given(count=st.integers(min_value=1, max_value=70))
def test_every_leafs_proof_verifies(count: int) -> None:
    heads = _leaves(count)
    tree = MerkleTree.of_heads(heads)
    root = tree.root()
    assert root == _reference_root([h.digest() for h in heads])
    for position, head in enumerate(heads):
        proof = tree.proof(position)
        assert len(proof) == len(path_sides(position, count))
        assert verify_inclusion(head.digest(), proof, root, index=position, size=count)


@settings(max_examples=80, deadline=None)
@given(data=st.data(), count=st.integers(min_value=2, max_value=40))
def test_a_changed_leaf_sibling_or_root_fails(data: st.DataObject, count: int) -> None:
    heads = _leaves(count)
    tree = MerkleTree.of_heads(heads)
    root = tree.root()
    position = data.draw(st.integers(min_value=0, max_value=count - 1))
    head = heads[position]
    proof = tree.proof(position)
    # another head index or hash for the same chain
    assert not verify_inclusion(
        ChainLeaf(head.chain, head.index + 1, head.hash).digest(), proof, root, index=position, size=count
    )
    assert not verify_inclusion(
        ChainLeaf(head.chain, head.index, "0" * 64).digest(), proof, root, index=position, size=count
    )
    # a changed sibling
    step = data.draw(st.integers(min_value=0, max_value=len(proof) - 1))
    flipped = bytearray.fromhex(proof[step].hash)
    flipped[data.draw(st.integers(min_value=0, max_value=31))] ^= 1 << data.draw(st.integers(0, 7))
    changed = [*proof[:step], ProofStep(flipped.hex(), proof[step].side), *proof[step + 1 :]]
    assert not verify_inclusion(head.digest(), changed, root, index=position, size=count)
    # a sibling put on the other side, or a step dropped
    other = "left" if proof[step].side == "right" else "right"
    swapped = [*proof[:step], ProofStep(proof[step].hash, other), *proof[step + 1 :]]
    assert not verify_inclusion(head.digest(), swapped, root, index=position, size=count)
    assert not verify_inclusion(head.digest(), proof[:-1], root, index=position, size=count)
    # a changed root
    bad_root = bytearray(root)
    bad_root[data.draw(st.integers(min_value=0, max_value=31))] ^= 1
    assert not verify_inclusion(head.digest(), proof, bytes(bad_root), index=position, size=count)


def test_a_leaf_cannot_pass_for_an_inner_node() -> None:
    a, b, c, d = (leaf.digest() for leaf in _leaves(4))
    tree = MerkleTree([a, b, c, d])
    # the inner node (a, b) offered as a leaf of a two-leaf tree with (c, d) fails: leaves and nodes hash apart
    assert root_from_path(leaf_hash(a + b), [ProofStep(node_hash(c, d).hex(), "right")]) != tree.root()


def test_malformed_proofs_are_refused() -> None:
    heads = _leaves(5)
    tree = MerkleTree.of_heads(heads)
    proof = tree.proof(1)
    assert not verify_inclusion(heads[1].digest(), [ProofStep("zz", "left"), *proof[1:]], tree.root(), index=1, size=5)
    assert not verify_inclusion(heads[1].digest(), proof, tree.root(), index=9, size=5)
    with pytest.raises(IndexError):
        tree.proof(5)
