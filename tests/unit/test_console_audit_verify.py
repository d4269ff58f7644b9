"""`lending audit verify`: the chain and its anchor checked offline against a published root; non-zero on any
mismatch."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from infra.console import main
from lending.anchoring import Seal
from lending.audit import AuditChain
from lending.merkle import ChainLeaf
from lending.steps.views import audit_view

AT = datetime(2024, 3, 6, 8, 0, tzinfo=UTC)


def _answer(length: int = 3, *, sealed: bool = True) -> tuple[dict[str, Any], str]:
    chains = {}
    for subject, n in (("app-1", length), ("app-2", 2), ("app-3", 1)):
        chain = AuditChain()
        for k in range(n):
            chain.append(subject, f"step_{k}", AT + timedelta(minutes=k), {"amount": "120000.00", "k": k})
        chains[subject] = chain.events
    seal = Seal.build(
        date(2024, 3, 6),
        "2024-03-06T16:45:00.000000Z",
        [ChainLeaf(s, events[-1].index, events[-1].hash) for s, events in chains.items()],
    )
    (anchor,) = seal.anchors(["app-1"])
    view = audit_view("L-1", list(chains["app-1"]), anchor if sealed else None)
    return view.model_dump(mode="json"), seal.root


def _run(tmp_path: Path, answer: dict[str, Any], root: str, loan: str = "L-1") -> int:
    path = tmp_path / "audit.json"
    path.write_text(json.dumps(answer))
    return main(["audit", "verify", "--loan", loan, "--root", root, "--file", str(path)])


def test_an_intact_chain_with_its_published_root_verifies(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    answer, root = _answer()
    assert _run(tmp_path, answer, root) == 0
    out = capsys.readouterr().out
    assert "FAIL" not in out
    assert "sealed on 2024-03-06" in out
    assert "verified: the chain and its sealed head match the published root" in out


def test_another_root_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    answer, _ = _answer()
    assert _run(tmp_path, answer, "ab" * 32) == 1
    out = capsys.readouterr().out
    assert "FAIL  the head's proof" in out
    assert "NOT verified" in out


def test_a_tampered_event_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    answer, root = _answer()
    answer["events"][1]["data"]["amount"] = "1.00"
    assert _run(tmp_path, answer, root) == 1
    assert "FAIL  the chain breaks at event 1" in capsys.readouterr().out


def test_a_tampered_proof_or_sealed_head_fails(tmp_path: Path) -> None:
    answer, root = _answer()
    answer["anchor"]["proof"][0]["hash"] = "00" * 32
    assert _run(tmp_path, answer, root) == 1
    answer, root = _answer()
    answer["anchor"]["head"]["index"] = 1
    assert _run(tmp_path, answer, root) == 1


def test_a_chain_not_yet_sealed_does_not_verify(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    answer, root = _answer(sealed=False)
    assert _run(tmp_path, answer, root) == 1
    assert "no sealed head yet" in capsys.readouterr().out


def test_another_loans_answer_or_no_source_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    answer, root = _answer()
    assert _run(tmp_path, answer, root, loan="L-2") == 1
    assert "not 'L-2'" in capsys.readouterr().err
    assert main(["audit", "verify", "--loan", "L-1", "--root", root]) == 1
    assert "--file" in capsys.readouterr().err
