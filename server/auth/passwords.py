"""Password hashing: argon2id (``argon2-cffi``), with old scrypt hashes still verified.

New hashes are argon2id in the PHC string format (``$argon2id$v=19$m=...,t=...,p=...$...``).
Hashes made before argon2 (``scrypt$n$r$p$salt$digest``) still verify, and ``needs_rehash``
says so, so the login re-hashes them with argon2id.

Every hash holds ``memory_kib`` while it runs, so ``Passwords`` runs them in a small thread
pool of its own: at most ``password_hash_concurrency`` hashes at once in the process, the
others wait in its queue (holding no hash memory). See docs/security.md for the figures.
"""

from __future__ import annotations

import asyncio
import base64
import ctypes
import ctypes.util
import functools
import hashlib
import hmac
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from server.settings import Settings

_R, _P = 8, 1
_MAXMEM = 256 * 1024 * 1024
_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter (malloc.h)


@dataclass(frozen=True)
class KdfParams:
    """argon2id cost: memory in KiB, passes, lanes."""

    memory_kib: int = 19 * 1024
    time_cost: int = 2
    parallelism: int = 1

    @classmethod
    def of(cls, settings: Settings) -> KdfParams:
        """The cost the settings ask for."""
        return cls(
            settings.password_memory_kib, settings.password_time_cost, settings.password_parallelism
        )


@functools.lru_cache(maxsize=16)
def _hasher(params: KdfParams) -> PasswordHasher:
    return PasswordHasher(
        time_cost=params.time_cost,
        memory_cost=params.memory_kib,
        parallelism=params.parallelism,
        hash_len=32,
        salt_len=16,
        type=Type.ID,
    )


def hash_password(password: str, params: KdfParams = KdfParams()) -> str:  # noqa: B008
    """Hash a password with argon2id (PHC string: scheme, cost and salt included)."""
    return _hasher(params).hash(password)


def hash_scrypt(password: str, *, n: int = 2**14) -> str:
    """A legacy ``scrypt$n$r$p$salt$digest`` hash (only to test the upgrade path)."""
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=_R, p=_P, dklen=32, maxmem=_MAXMEM)
    return "$".join(
        [
            "scrypt",
            str(n),
            str(_R),
            str(_P),
            base64.b64encode(salt).decode(),
            base64.b64encode(digest).decode(),
        ]
    )


def _verify_scrypt(password: str, encoded: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = encoded.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
            maxmem=_MAXMEM,
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def verify_password(password: str, encoded: str) -> bool:
    """True when ``password`` matches the stored hash; False for any malformed hash."""
    if encoded.startswith("scrypt$"):
        return _verify_scrypt(password, encoded)
    if not encoded.startswith("$argon2id$"):
        return False
    try:
        return _hasher(KdfParams()).verify(encoded, password)  # the cost is read from the hash
    except (VerificationError, InvalidHashError, ValueError):
        return False


def needs_rehash(encoded: str, params: KdfParams) -> bool:
    """True when a stored hash is not argon2id at exactly the current cost."""
    if not encoded.startswith("$argon2id$"):
        return True
    try:
        return _hasher(params).check_needs_rehash(encoded)
    except (InvalidHashError, ValueError):
        return True


@functools.lru_cache(maxsize=8)
def dummy_hash(params: KdfParams) -> str:
    """A hash of a random password at ``params``: verified against when the email is unknown,
    so a login costs the same KDF time whether or not the account exists."""
    return hash_password(base64.b64encode(os.urandom(24)).decode(), params)


def _check(password: str, encoded: str | None, params: KdfParams) -> bool:
    if encoded is None:
        verify_password(password, dummy_hash(params))
        return False
    return verify_password(password, encoded)


@functools.lru_cache(maxsize=1)
def give_kdf_memory_back() -> bool:
    """Make each hash's buffer go back to the OS when it ends (glibc; once per process).

    glibc raises its mmap threshold to the largest block freed so far (up to 32 MiB), so after
    the first hash every 19 MiB argon2 buffer is carved out of a thread's arena and kept by the
    process after it is freed: a burst of logins left the server ~40 MiB larger for good. A
    fixed threshold (1 MiB) keeps such buffers in their own mappings, unmapped when freed.
    Returns False where the C library is not glibc.
    """
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        mallopt = getattr(libc, "mallopt", None)
    except OSError:
        return False
    return bool(mallopt is not None and mallopt(_M_MMAP_THRESHOLD, 1 << 20))


@functools.lru_cache(maxsize=4)
def _pool(size: int) -> ThreadPoolExecutor:
    # One pool per size for the whole process: the bound is on the process's memory, however
    # many apps, services or event loops share it.
    return ThreadPoolExecutor(max_workers=max(1, size), thread_name_prefix="outpost-kdf")


class Passwords:
    """Hash and verify off the event loop, at most ``password_hash_concurrency`` at once."""

    def __init__(self, settings: Settings) -> None:
        self.params = KdfParams.of(settings)
        self._executor = _pool(settings.password_hash_concurrency)

    async def hash(self, password: str) -> str:
        """An argon2id hash at the configured cost."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, hash_password, password, self.params)

    async def verify(self, password: str, encoded: str | None) -> bool:
        """Check ``password``; against a dummy hash (same cost, always False) when ``None``."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, _check, password, encoded, self.params)

    def needs_rehash(self, encoded: str) -> bool:
        """True when ``encoded`` should be replaced by a hash at the configured cost."""
        return needs_rehash(encoded, self.params)
