"""The audit chain anchored outside the database, over HTTP: a disbursed loan's chain has no anchor until the day
is sealed; after the test clock passes a day, the audit answer carries the sealed head and its proof, the proof
leads to the root in the write-once bucket, and `lending audit verify` passes with that root and fails with
another root or a tampered event."""

from __future__ import annotations

import json
import urllib.request
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from infra.console import main
from infra.local.platform import LocalPlatform
from lending.anchoring import Anchor, Seal, seal_key
from lending.merkle import MerkleTree, verify_inclusion

if TYPE_CHECKING:
    from conftest import Client


def _control(platform: LocalPlatform, path: str, body: Any = None) -> Any:
    request = urllib.request.Request(
        platform.control_url + path,
        method="GET" if body is None else "POST",
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    # A clock advance runs every nightly job for each day passed: the bound is for a control port that never answers.
    with urllib.request.urlopen(request, timeout=600) as response:
        return json.loads(response.read())


def _audit(client: Client, loan_id: str, token: str = "borrower") -> dict[str, Any]:
    status, answer = client.call("GET", f"/v1/loans/{loan_id}/audit", token=token)
    assert status == 200, answer
    return dict(answer)


@pytest.fixture(scope="module")
def sealed(client: Client) -> dict[str, Any]:
    """A disbursed loan, its audit answer before the seal, then after the test clock passed a day."""
    view = client.open("0001", key="audit-anchor-loan", amount="60000.00", term_months=12)
    assert view["status"] == "DISBURSED", view
    loan_id = str(view["loan_id"])
    before = _audit(client, loan_id)
    today = date.fromisoformat(_control(client.platform, "/clock")["date"])
    moved = _control(client.platform, "/clock", {"advance_to": (today + timedelta(days=1)).isoformat()})
    seals = [job for job in moved["ran"] if job["job"] == "SealAuditChains"]
    assert [job["date"] for job in seals] == [today.isoformat()], moved
    return {"loan_id": loan_id, "before": before, "after": _audit(client, loan_id), "day": today, "seal": seals[0]}


def _stored_seal(platform: LocalPlatform, day: str) -> tuple[Seal, dict[str, Any]]:
    s3 = boto3.client("s3", region_name=platform.stack.region)
    stored = s3.get_object(Bucket=platform.stack.outputs["AuditAnchorBucketName"], Key=f"anchors/{day}.json")
    return Seal.from_json(json.loads(stored["Body"].read())), stored


def test_no_anchor_before_the_first_seal(sealed: dict[str, Any]) -> None:
    assert sealed["before"]["anchor"] is None
    assert sealed["before"]["verified"] is True


def test_the_sealed_head_and_its_proof_lead_to_the_root_in_the_bucket(client: Client, sealed: dict[str, Any]) -> None:
    after = sealed["after"]
    anchor = Anchor.from_json(after["anchor"])
    assert after["verified"] is True
    assert anchor.day == sealed["day"].isoformat()
    assert anchor.root == sealed["seal"]["result"]["root"]
    # the sealed head is the chain's head at the seal: the last event then
    assert (anchor.head_index, anchor.head_hash) == (len(after["events"]) - 1, after["events"][-1]["hash"])

    seal, stored = _stored_seal(client.platform, anchor.day)
    assert seal_key(sealed["day"]) == f"anchors/{anchor.day}.json"
    assert stored["ObjectLockMode"] == "COMPLIANCE"
    assert seal.root == anchor.root
    assert MerkleTree.of_heads(seal.heads).root().hex() == seal.root
    assert anchor.leaf() in seal.heads
    assert verify_inclusion(
        anchor.leaf().digest(),
        anchor.proof,
        bytes.fromhex(seal.root),
        index=anchor.leaf_index,
        size=anchor.tree_size,
    )
    # an underwriter reads the same anchor
    assert _audit(client, sealed["loan_id"], token="underwriter")["anchor"] == after["anchor"]


def test_a_second_run_for_the_same_day_writes_nothing(client: Client, sealed: dict[str, Any]) -> None:
    again = _control(client.platform, "/schedules/SealAuditChains", {"date": sealed["day"].isoformat()})
    assert again["seal_written"] is False
    assert again["root"] == sealed["seal"]["result"]["root"]
    assert again["anchors_written"] == 0
    s3 = boto3.client("s3", region_name=client.platform.stack.region)
    versions = s3.list_object_versions(
        Bucket=client.platform.stack.outputs["AuditAnchorBucketName"], Prefix=seal_key(sealed["day"])
    )["Versions"]
    assert len(versions) == 1


def test_lending_audit_verify_passes_with_the_root_and_fails_otherwise(
    client: Client, sealed: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    loan_id, root = sealed["loan_id"], sealed["seal"]["result"]["root"]
    fetch = ["--api-url", client.platform.api_url, "--token", client.platform.tokens["borrower"]]
    assert main(["audit", "verify", "--loan", loan_id, "--root", root, *fetch]) == 0
    assert "verified: the chain and its sealed head match the published root" in capsys.readouterr().out

    other = ("0" if root[0] != "0" else "1") + root[1:]
    assert main(["audit", "verify", "--loan", loan_id, "--root", other, *fetch]) == 1
    assert "NOT verified" in capsys.readouterr().out

    tampered = json.loads(json.dumps(sealed["after"]))
    tampered["events"][0]["data"]["tampered"] = True
    path = tmp_path / "audit.json"
    path.write_text(json.dumps(tampered))
    assert main(["audit", "verify", "--loan", loan_id, "--root", root, "--file", str(path)]) == 1
    assert "FAIL  the chain breaks at event 0" in capsys.readouterr().out


def test_the_bucket_is_write_once_as_the_template_declares(platform: LocalPlatform) -> None:
    s3 = boto3.client("s3", region_name=platform.stack.region)
    bucket = platform.stack.outputs["AuditAnchorBucketName"]
    lock = s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"]
    retention = lock["Rule"]["DefaultRetention"]
    assert (lock["ObjectLockEnabled"], retention["Mode"]) == ("Enabled", "COMPLIANCE")
    assert retention["Days"] == int(platform.stack.parameters["AnchorRetentionDays"])
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    assert all(s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"].values())
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
