"""Personal data encrypted field by field with the PII KMS key before it is stored.

Each field is its own ciphertext, bound by the encryption context to the application and the field's name, so a
ciphertext copied to another record or field does not decrypt. Plain values never reach logs or tables.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from lending.adapters.aws import client

PII_FIELDS = ("name", "id_number", "phone", "bank_account")


def _context(record_id: str, field: str) -> dict[str, str]:
    return {"record_id": record_id, "field": field}


def encrypt_fields(key_id: str, record_id: str, values: Mapping[str, str]) -> dict[str, bytes]:
    """One KMS ciphertext per field."""
    kms = client("kms")
    return {
        field: kms.encrypt(KeyId=key_id, Plaintext=value.encode(), EncryptionContext=_context(record_id, field))[
            "CiphertextBlob"
        ]
        for field, value in values.items()
    }


def decrypt_fields(record_id: str, ciphertexts: Mapping[str, bytes], fields: Iterable[str]) -> dict[str, str]:
    """The plain values of the named fields (only those a step needs)."""
    kms = client("kms")
    return {
        field: kms.decrypt(CiphertextBlob=bytes(ciphertexts[field]), EncryptionContext=_context(record_id, field))[
            "Plaintext"
        ].decode()
        for field in fields
    }
