"""Password hashing: argon2id round trips, refuses wrong and malformed input, tracks its cost;
old scrypt hashes still verify and ask to be re-hashed; hashes run in a bounded pool."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest

from server.auth import passwords as passwords_module
from server.auth.passwords import (
    KdfParams,
    Passwords,
    dummy_hash,
    hash_password,
    hash_scrypt,
    needs_rehash,
    verify_password,
)
from server.settings import Settings

CHEAP = KdfParams(memory_kib=8, time_cost=1)


def test_a_hash_verifies_only_its_own_password() -> None:
    encoded = hash_password("s3cret-pass", CHEAP)
    assert verify_password("s3cret-pass", encoded)
    assert not verify_password("s3cret-pasS", encoded)
    assert not verify_password("", encoded)


def test_the_hash_is_argon2id_with_its_cost_and_never_the_password() -> None:
    encoded = hash_password("s3cret-pass", CHEAP)
    assert encoded.startswith("$argon2id$v=19$m=8,t=1,p=1$")
    assert "s3cret-pass" not in encoded


def test_the_default_cost_is_owasps_argon2id_recommendation() -> None:
    assert KdfParams.of(Settings()) == KdfParams(memory_kib=19 * 1024, time_cost=2, parallelism=1)


def test_salts_differ_so_equal_passwords_hash_differently() -> None:
    first, second = hash_password("same", CHEAP), hash_password("same", CHEAP)
    assert first != second
    assert verify_password("same", first) and verify_password("same", second)


@pytest.mark.parametrize(
    "encoded",
    [
        "",
        "garbage",
        "bcrypt$1$2$3$4$5",
        "scrypt$abc$8$1$AAAA$AAAA",
        "scrypt$1024$8$1$!!$!!",
        "scrypt$3$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAA",
        "$argon2id$v=19$m=8,t=1,p=1$!!$!!",
        "$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g",
    ],
)
def test_malformed_hashes_never_verify_and_never_raise(encoded: str) -> None:
    assert verify_password("anything", encoded) is False


def test_needs_rehash_when_the_cost_changes() -> None:
    encoded = hash_password("pw-pw-pw-pw", CHEAP)
    assert not needs_rehash(encoded, CHEAP)
    assert needs_rehash(encoded, KdfParams(memory_kib=16, time_cost=1))
    assert needs_rehash("garbage", CHEAP)


def test_old_scrypt_hashes_verify_and_need_a_rehash() -> None:
    encoded = hash_scrypt("pw-pw-pw-pw", n=2**10)
    assert verify_password("pw-pw-pw-pw", encoded)
    assert not verify_password("pw-pw-pw-pW", encoded)
    assert needs_rehash(encoded, CHEAP)


def test_unicode_passwords_round_trip() -> None:
    encoded = hash_password("pässwörd-密码", CHEAP)
    assert verify_password("pässwörd-密码", encoded)
    assert not verify_password("passwörd-密码", encoded)


def test_the_dummy_hash_has_the_requested_cost_and_matches_nothing_guessable() -> None:
    encoded = dummy_hash(CHEAP)
    assert encoded.startswith("$argon2id$v=19$m=8,t=1,p=1$")
    assert dummy_hash(CHEAP) == encoded  # computed once per cost
    assert not verify_password("", encoded)
    assert not verify_password("password", encoded)


async def test_concurrent_password_hashes_are_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    running, peak, lock = 0, 0, threading.Lock()
    real_hash, real_verify = passwords_module.hash_password, passwords_module.verify_password

    def counted(real: Any) -> Any:
        def run(*args: Any) -> Any:
            nonlocal running, peak
            with lock:
                running += 1
                peak = max(peak, running)
            time.sleep(0.02)
            with lock:
                running -= 1
            return real(*args)

        return run

    monkeypatch.setattr(passwords_module, "hash_password", counted(real_hash))
    monkeypatch.setattr(passwords_module, "verify_password", counted(real_verify))
    passwords = Passwords(
        Settings(password_memory_kib=8, password_time_cost=1, password_hash_concurrency=3)
    )
    stored = hash_password("pw", CHEAP)
    results = await asyncio.gather(
        *(passwords.hash("pw") for _ in range(10)),
        *(passwords.verify("pw", stored) for _ in range(10)),
        *(passwords.verify("pw", None) for _ in range(5)),
    )

    assert len(set(results[:10])) == 10
    assert results[10:20] == [True] * 10 and results[20:] == [False] * 5
    assert peak == 3
