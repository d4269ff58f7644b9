"""The daily seal of audit chain heads and the offline check a chain's anchor allows."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lending.anchoring import Anchor, Seal, check, seal_key
from lending.audit import AuditChain, AuditEvent
from lending.merkle import ChainLeaf

MOMENT = datetime(2024, 3, 6, 8, 0, tzinfo=UTC)


def _chain(subject: str, length: int) -> list[AuditEvent]:
    chain = AuditChain()
    for k in range(length):
        chain.append(subject, f"step_{k}", MOMENT + timedelta(minutes=k), {"k": k})
    return list(chain.events)


def _seal(chains: dict[str, list[AuditEvent]]) -> Seal:
    heads = [ChainLeaf(subject, events[-1].index, events[-1].hash) for subject, events in chains.items()]
    return Seal.build(date(2024, 3, 6), "2024-03-06T16:45:00.000000Z", heads)


def test_the_seal_is_one_object_per_day_and_reads_back() -> None:
    assert seal_key(date(2024, 3, 6)) == "anchors/2024-03-06.json"
    chains = {f"app-{k}": _chain(f"app-{k}", k + 1) for k in (3, 1, 2)}
    seal = _seal(chains)
    assert [h.chain for h in seal.heads] == ["app-1", "app-2", "app-3"]
    again = Seal.from_json(json.loads(seal.to_bytes()))
    assert again == seal
    assert _seal(chains).to_bytes() == seal.to_bytes()  # the same heads give the same object, byte for byte


def test_a_seal_whose_leaves_do_not_rebuild_its_root_is_refused() -> None:
    raw = json.loads(_seal({"app-1": _chain("app-1", 2), "app-2": _chain("app-2", 1)}).to_bytes())
    raw["leaves"][0]["index"] = 0
    with pytest.raises(ValueError, match="do not rebuild"):
        Seal.from_json(raw)
    with pytest.raises(ValueError, match="not a seal"):
        Seal.from_json({"version": 1})


@settings(max_examples=25, deadline=None)
@given(lengths=st.lists(st.integers(min_value=1, max_value=4), min_size=1, max_size=9))
def test_every_chains_anchor_checks_against_the_root(lengths: list[int]) -> None:
    chains = {f"app-{k:02d}": _chain(f"app-{k:02d}", n) for k, n in enumerate(lengths)}
    seal = _seal(chains)
    for anchor in seal.anchors():
        assert Anchor.from_json(json.loads(json.dumps(anchor.to_json()))) == anchor
        results = check(chains[anchor.chain], anchor, seal.root)
        assert all(result.ok for result in results), results


def test_a_later_event_keeps_the_sealed_prefix_verifiable() -> None:
    events = _chain("app-1", 3)
    seal = _seal({"app-1": events, "app-2": _chain("app-2", 1)})
    (anchor,) = seal.anchors(["app-1"])
    chain = AuditChain(events)
    chain.append("app-1", "later", MOMENT + timedelta(days=1), {})
    assert all(result.ok for result in check(list(chain.events), anchor, seal.root))


def test_another_root_a_tampered_event_or_a_changed_proof_fails() -> None:
    events = _chain("app-1", 3)
    seal = _seal({"app-1": events, "app-2": _chain("app-2", 2), "app-3": _chain("app-3", 1)})
    (anchor,) = seal.anchors(["app-1"])
    assert not all(r.ok for r in check(events, anchor, "00" * 32))
    assert not all(r.ok for r in check(events, anchor, "not hex"))
    tampered = [events[0], dataclasses.replace(events[1], data={"k": 99}), events[2]]
    failed = [r for r in check(tampered, anchor, seal.root) if not r.ok]
    assert failed
    assert "breaks at event 1" in failed[0].what
    # a rewritten chain (every hash recomputed) no longer holds the sealed head
    assert not all(r.ok for r in check(_chain("app-1", 2), anchor, seal.root))
    other = dataclasses.replace(anchor, proof=anchor.proof[::-1])
    assert not all(r.ok for r in check(events, other, seal.root))
    assert [r.ok for r in check(events, None, seal.root)] == [True, False]


def test_an_anchor_that_is_not_one_is_refused() -> None:
    (anchor,) = _seal({"app-1": _chain("app-1", 1)}).anchors()
    raw = anchor.to_json()
    with pytest.raises(ValueError, match="side"):
        Anchor.from_json({**raw, "proof": [{"hash": "ab", "side": "up"}]})
    with pytest.raises(ValueError, match="integer"):
        Anchor.from_json({**raw, "tree_size": "1"})
    with pytest.raises(ValueError, match="not an anchor"):
        Anchor.from_json({k: v for k, v in raw.items() if k != "head"})
