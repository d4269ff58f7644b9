"""The daily audit seals in the anchor bucket (S3, Object Lock in compliance mode): ``anchors/<day>.json``.

A seal is written once: ``PutObject`` with ``If-None-Match: *`` fails when the day's object exists, so a rerun
writes nothing and keeps the first seal (the bucket's default retention would keep that version in any case: a
second put would only add a newer version on top of it). Each version is retained for the bucket's default
retention, in compliance mode, from the moment it is written.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from lending.anchoring import Seal, seal_key


class S3SealStore:
    """One bucket's daily seals."""

    def __init__(self, bucket: str, client: Any) -> None:
        self._bucket = bucket
        self._s3 = client

    def get(self, day: date) -> Seal | None:
        """The seal of ``day``, checked against its own leaves, or None when the day was not sealed."""
        try:
            response = self._s3.get_object(Bucket=self._bucket, Key=seal_key(day))
        except self._s3.exceptions.NoSuchKey:
            return None
        return Seal.from_json(json.loads(response["Body"].read()))

    def put(self, seal: Seal) -> bool:
        """Write the day's seal unless one exists: True when this call wrote it."""
        try:
            self._s3.put_object(
                Bucket=self._bucket,
                Key=seal_key(date.fromisoformat(seal.day)),
                Body=seal.to_bytes(),
                ContentType="application/json",
                ChecksumAlgorithm="SHA256",  # Object Lock needs an integrity checksum on every put
                IfNoneMatch="*",
            )
        except self._s3.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("PreconditionFailed", "ConditionalRequestConflict"):
                return False
            raise
        return True
