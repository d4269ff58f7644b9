"""Webhook signatures: what a signed request must prove before its body is believed."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lending.errors import LendingError
from lending.webhooks import InvalidSignature, SignatureFailure, sign, verify

SECRET = b"whsec_current_0123456789abcdef"
OLD_SECRET = b"whsec_previous_fedcba9876543210"
NOW = 1_795_000_000
BODY = b'{"event_id":"evt_1","reference":"app-1","result":"passed","face_match":0.97,"liveness":true}'


def _reason(header: str | None, body: bytes = BODY, secrets: tuple[bytes, ...] = (SECRET,), now: int = NOW) -> str:
    with pytest.raises(InvalidSignature) as caught:
        verify(header, body, secrets, now)
    return caught.value.reason


def test_sign_is_hmac_sha256_over_timestamp_dot_body() -> None:
    # Given the scheme in the API contract
    expected = hmac.new(SECRET, f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()

    # When we sign
    header = sign(SECRET, BODY, NOW)

    # Then the header is t=<unix>,v1=<hex>
    assert header == f"t={NOW},v1={expected}"


def test_a_valid_signature_verifies() -> None:
    verify(sign(SECRET, BODY, NOW), BODY, [SECRET], NOW)


def test_a_signature_made_with_another_secret_is_refused() -> None:
    assert _reason(sign(b"someone-else", BODY, NOW)) == SignatureFailure.MISMATCH


def test_the_error_is_a_lending_error_with_the_contract_code() -> None:
    with pytest.raises(LendingError) as caught:
        verify(sign(b"someone-else", BODY, NOW), BODY, [SECRET], NOW)
    assert caught.value.code == "invalid_signature"


def test_a_body_signed_with_either_of_two_rotated_secrets_verifies() -> None:
    # Given a sender mid-rotation sending two v1 values, and a receiver holding the new and the old secret
    old_only = sign(OLD_SECRET, BODY, NOW)
    both = old_only + ",v1=" + sign(SECRET, BODY, NOW).split("v1=")[1]

    # Then either header verifies against the receiver's pair, in either order of secrets
    verify(both, BODY, [SECRET, OLD_SECRET], NOW)
    verify(both, BODY, [OLD_SECRET, SECRET], NOW)
    verify(old_only, BODY, [SECRET, OLD_SECRET], NOW)
    # And a receiver that has dropped the old secret still accepts the header carrying the new one
    verify(both, BODY, [SECRET], NOW)
    assert _reason(old_only, secrets=(SECRET,)) == SignatureFailure.MISMATCH


def test_a_stale_timestamp_is_refused_even_with_a_good_signature() -> None:
    signed_at = NOW - 301
    assert _reason(sign(SECRET, BODY, signed_at)) == SignatureFailure.STALE
    verify(sign(SECRET, BODY, NOW - 300), BODY, [SECRET], NOW)


def test_a_future_timestamp_is_refused_even_with_a_good_signature() -> None:
    assert _reason(sign(SECRET, BODY, NOW + 301)) == SignatureFailure.FUTURE
    verify(sign(SECRET, BODY, NOW + 300), BODY, [SECRET], NOW)


def test_a_replayed_header_with_a_rewritten_timestamp_is_refused() -> None:
    # Given an attacker who keeps the signature but moves t to now
    old = sign(SECRET, BODY, NOW - 3600)
    forged = f"t={NOW}," + old.split(",", 1)[1]

    # Then the signature no longer matches, because t is signed too
    assert _reason(forged) == SignatureFailure.MISMATCH


@pytest.mark.parametrize("header", [None, "", "   "])
def test_a_missing_header_is_refused(header: str | None) -> None:
    assert _reason(header) == SignatureFailure.MISSING


@pytest.mark.parametrize(
    "header",
    [
        "garbage",
        f"v1={'a' * 64}",  # no timestamp
        f"t={NOW}",  # no signature
        f"t={NOW},v0={'a' * 64}",  # only a scheme we do not know
        f"t=soon,v1={'a' * 64}",
        f"t=-5,v1={'a' * 64}",
        f"t={NOW},t={NOW},v1={'a' * 64}",
        f"t={NOW},v1=abc",
        f"t={NOW},v1={'g' * 64}",
        f"t={NOW},=x,v1={'a' * 64}",
        f"t={NOW}," + ",".join([f"v1={'a' * 64}"] * 9),
        f"t={NOW},v1={'a' * 64}," + "x" * 3000,
    ],
)
def test_a_malformed_header_is_refused(header: str) -> None:
    assert _reason(header) == SignatureFailure.MALFORMED


def test_unknown_schemes_beside_v1_are_ignored_and_spaces_tolerated() -> None:
    header = sign(SECRET, BODY, NOW).replace(",", ", v0=deadbeef, ")
    verify(header, BODY, [SECRET], NOW)


def test_an_uppercase_hex_signature_verifies() -> None:
    t, v1 = sign(SECRET, BODY, NOW).split(",")
    verify(f"{t},{v1.upper().replace('V1=', 'v1=')}", BODY, [SECRET], NOW)


def test_no_secrets_or_an_empty_secret_never_verifies() -> None:
    assert _reason(sign(SECRET, BODY, NOW), secrets=()) == SignatureFailure.MISMATCH
    assert _reason(sign(b"\x00", BODY, NOW), secrets=(b"",)) == SignatureFailure.MISMATCH
    with pytest.raises(ValueError, match="empty"):
        sign(b"", BODY, NOW)


def test_the_error_message_never_holds_the_body_or_the_header() -> None:
    body = b'{"id_number":"11010519491231002X"}'
    header = sign(b"wrong", body, NOW)
    with pytest.raises(InvalidSignature) as caught:
        verify(header, body, [SECRET], NOW)
    assert "11010519491231002X" not in str(caught.value)
    assert header.split("v1=")[1] not in str(caught.value)


@given(body=st.binary(min_size=1, max_size=512), data=st.data())
def test_any_single_byte_change_to_the_body_fails_verification(body: bytes, data: st.DataObject) -> None:
    # Given a correctly signed body
    header = sign(SECRET, body, NOW)
    verify(header, body, [SECRET], NOW)

    # When any one byte is changed to any other value
    index = data.draw(st.integers(min_value=0, max_value=len(body) - 1), label="index")
    replacement = data.draw(st.integers(min_value=0, max_value=255).filter(lambda b: b != body[index]), label="byte")
    tampered = body[:index] + bytes([replacement]) + body[index + 1 :]

    # Then the signature no longer verifies
    with pytest.raises(InvalidSignature):
        verify(header, tampered, [SECRET], NOW)
