"""Bearer token strings: format, parsing of anything a client may send, keyed hashing."""

from __future__ import annotations

import uuid

import pytest

from server.auth.tokens import format_token, hash_secret, new_secret, parse_token


def test_a_formatted_token_parses_back() -> None:
    token_id, secret = uuid.uuid4(), new_secret()
    assert parse_token(format_token(token_id, secret)) == (token_id, secret)


def test_secrets_are_long_random_and_url_safe() -> None:
    secrets = {new_secret() for _ in range(200)}
    assert len(secrets) == 200
    for secret in secrets:
        assert len(secret) >= 40
        assert "." not in secret and " " not in secret


@pytest.mark.parametrize(
    "token",
    ["", "abc", ".", "a.b", f"{uuid.uuid4().hex}.", f".{new_secret()}",
     f"{uuid.uuid4().hex[:-1]}.secret", f"{'z' * 32}.secret", f"{uuid.uuid4()}.secret"],
    # fixed ids: the random tokens must not name the tests (parallel workers collect alike)
    ids=["empty", "no-dot", "dot", "short", "no-secret", "no-id", "id-31-hex", "id-not-hex",
         "id-dashed"],
)
def test_malformed_tokens_parse_to_none(token: str) -> None:
    assert parse_token(token) is None


def test_the_hash_is_keyed_deterministic_and_hides_the_secret() -> None:
    secret = new_secret()
    digest = hash_secret(secret, "key-one")
    assert digest == hash_secret(secret, "key-one")
    assert digest != hash_secret(secret, "key-two")
    assert digest != hash_secret(secret + "x", "key-one")
    assert secret not in digest
    assert len(digest) == 64
