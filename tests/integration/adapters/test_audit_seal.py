"""The daily audit seal against moto: chains listed from the sparse index, heads sealed into the write-once bucket,
anchors kept for new heads only, and a rerun for the same day writing nothing."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from lending.adapters.audit_store import CHAIN_SHARDS, DynamoAuditStore
from lending.adapters.seal_store import S3SealStore
from lending.anchoring import Seal, check, seal_key
from lending.merkle import MerkleTree
from lending.steps.anchoring import seal_date_for, seal_day

AT = datetime(2024, 3, 6, 8, 0, tzinfo=UTC)
DAY = date(2024, 3, 6)
BUCKET = "anchors-test"


@pytest.fixture
def audit(dynamodb: Any, audit_table: str) -> DynamoAuditStore:
    return DynamoAuditStore(audit_table, dynamodb)


@pytest.fixture
def s3(aws: Any) -> Any:
    client = aws.client("s3")
    if BUCKET not in {b["Name"] for b in client.list_buckets()["Buckets"]}:
        client.create_bucket(
            Bucket=BUCKET,
            CreateBucketConfiguration={"LocationConstraint": "ap-east-1"},
            ObjectLockEnabledForBucket=True,
        )
        client.put_object_lock_configuration(
            Bucket=BUCKET,
            ObjectLockConfiguration={
                "ObjectLockEnabled": "Enabled",
                "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 1}},
            },
        )
    return client


@pytest.fixture
def seals(s3: Any) -> S3SealStore:
    return S3SealStore(BUCKET, s3)


def _chains(audit: DynamoAuditStore, count: int, prefix: str) -> dict[str, int]:
    lengths = {}
    for k in range(count):
        subject = f"{prefix}-{k:03d}"
        for n in range(k % 3 + 1):
            audit.append(subject, f"step_{n}", AT + timedelta(minutes=n), {"n": n})
        lengths[subject] = k % 3 + 1
    return lengths


def test_the_index_lists_each_chain_once_and_events_read_back_unchanged(audit: DynamoAuditStore) -> None:
    lengths = _chains(audit, 40, "app-list")
    assert sorted(audit.chains()) == sorted(lengths)
    assert audit.verify("app-list-002") is None
    assert [e.index for e in audit.events("app-list-002")] == [0, 1, 2]
    assert CHAIN_SHARDS == 16


def test_a_day_is_sealed_once_and_new_heads_are_anchored(audit: DynamoAuditStore, seals: S3SealStore, s3: Any) -> None:
    lengths = _chains(audit, 12, "app-seal")
    first = seal_day(DAY, AT + timedelta(hours=9), chains=audit, seals=seals)
    assert first["seal_written"] is True
    assert first["chains"] >= 12
    assert first["anchors_written"] == first["new_heads"] == first["chains"]
    stored = s3.get_object(Bucket=BUCKET, Key=seal_key(DAY))
    assert stored["ObjectLockMode"] == "COMPLIANCE"
    seal = Seal.from_json(json.loads(stored["Body"].read()))
    assert seal.root == first["root"]
    assert MerkleTree.of_heads(seal.heads).root().hex() == seal.root  # rebuildable from the object alone

    # Each chain's anchor checks against the stored root, and covers its head
    for subject, length in lengths.items():
        anchor = audit.anchor(subject)
        assert anchor is not None
        assert anchor.head_index == length - 1
        assert all(result.ok for result in check(audit.events(subject), anchor, seal.root))

    # A rerun for the same day, after a chain grew: no second seal, the stored root kept, nothing new anchored
    audit.append("app-seal-000", "later", AT + timedelta(hours=10), {})
    again = seal_day(DAY, AT + timedelta(hours=11), chains=audit, seals=seals)
    assert again["seal_written"] is False
    assert again["root"] == first["root"]
    assert again["anchors_written"] == 0
    versions = s3.list_object_versions(Bucket=BUCKET, Prefix=seal_key(DAY))["Versions"]
    assert len(versions) == 1

    # The next day seals the grown chain's new head and anchors that one alone
    nxt = seal_day(DAY + timedelta(days=1), AT + timedelta(days=1, hours=9), chains=audit, seals=seals)
    assert nxt["new_heads"] == nxt["anchors_written"] == 1
    grown = audit.anchor("app-seal-000")
    assert grown is not None
    assert (grown.head_index, grown.day) == (1, "2024-03-07")
    assert all(result.ok for result in check(audit.events("app-seal-000"), grown, nxt["root"]))
    assert audit.anchor("app-seal-001") is not None
    assert audit.anchor("app-seal-001").day == "2024-03-06"  # type: ignore[union-attr]


def test_a_locked_seal_cannot_be_deleted(seals: S3SealStore, s3: Any, audit: DynamoAuditStore) -> None:
    _chains(audit, 2, "app-lock")
    seal_day(DAY + timedelta(days=5), AT, chains=audit, seals=seals)
    key = seal_key(DAY + timedelta(days=5))
    version = s3.head_object(Bucket=BUCKET, Key=key)["VersionId"]
    with pytest.raises(s3.exceptions.ClientError, match="AccessDenied"):
        s3.delete_object(Bucket=BUCKET, Key=key, VersionId=version, BypassGovernanceRetention=True)


def test_the_sealed_day_is_the_business_day_before_the_schedule_fired() -> None:
    assert seal_date_for({"time": "2024-03-06T16:45:00Z"}) == date(2024, 3, 6)
    assert seal_date_for({"day": "2024-03-01", "time": "2024-03-06T16:45:00Z"}) == date(2024, 3, 1)
