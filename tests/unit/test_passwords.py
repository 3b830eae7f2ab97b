"""Password hashing: scrypt round trips, refuses wrong and malformed input, tracks its cost."""

from __future__ import annotations

import pytest

from server.auth.passwords import dummy_hash, hash_password, needs_rehash, verify_password

N = 2**10


def test_a_hash_verifies_only_its_own_password() -> None:
    encoded = hash_password("s3cret-pass", n=N)
    assert verify_password("s3cret-pass", encoded)
    assert not verify_password("s3cret-pasS", encoded)
    assert not verify_password("", encoded)


def test_the_hash_records_scheme_and_cost_and_never_the_password() -> None:
    encoded = hash_password("s3cret-pass", n=N)
    scheme, n, r, p, _salt, _digest = encoded.split("$")
    assert (scheme, n, r, p) == ("scrypt", str(N), "8", "1")
    assert "s3cret-pass" not in encoded


def test_salts_differ_so_equal_passwords_hash_differently() -> None:
    first, second = hash_password("same", n=N), hash_password("same", n=N)
    assert first != second
    assert verify_password("same", first) and verify_password("same", second)


@pytest.mark.parametrize(
    "encoded",
    ["", "garbage", "bcrypt$1$2$3$4$5", "scrypt$abc$8$1$AAAA$AAAA", "scrypt$1024$8$1$!!$!!",
     "scrypt$3$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAA"],
)
def test_malformed_hashes_never_verify_and_never_raise(encoded: str) -> None:
    assert verify_password("anything", encoded) is False


def test_needs_rehash_when_the_cost_changes() -> None:
    encoded = hash_password("pw-pw-pw-pw", n=N)
    assert not needs_rehash(encoded, n=N)
    assert needs_rehash(encoded, n=N * 2)
    assert needs_rehash("garbage", n=N)


def test_unicode_passwords_round_trip() -> None:
    encoded = hash_password("pässwörd-密码", n=N)
    assert verify_password("pässwörd-密码", encoded)
    assert not verify_password("passwörd-密码", encoded)


def test_the_dummy_hash_has_the_requested_cost_and_matches_nothing_guessable() -> None:
    encoded = dummy_hash(N)
    assert encoded.split("$")[1] == str(N)
    assert dummy_hash(N) == encoded  # computed once per cost
    assert not verify_password("", encoded)
    assert not verify_password("password", encoded)
