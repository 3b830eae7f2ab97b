"""Scope keysets by hash: a cursor names the keyset it was served with by its hash."""

from __future__ import annotations

import hashlib

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from server.sync.models import sync_keysets
from server.sync.sql import insert_ignore

_CACHE_LIMIT = 10_000
_decoder = msgspec.json.Decoder(list[str])


def keyset_hash(keys: frozenset[str]) -> str:
    """A stable 128-bit hex digest of a set of scope keys."""
    return hashlib.sha256("\x1f".join(sorted(keys)).encode()).hexdigest()[:32]


class KeysetStore:
    """Saves keysets once and reads them back by hash (cached: a keyset never changes)."""

    def __init__(self) -> None:
        self._cache: dict[str, frozenset[str]] = {}
        self._hashes: dict[frozenset[str], str] = {}

    async def save(self, session: AsyncSession, keys: frozenset[str]) -> str:
        """Store ``keys`` if new; returns its hash (no query once this process has saved it)."""
        digest = self._hashes.get(keys)
        if digest is not None:
            return digest
        digest = keyset_hash(keys)
        if digest not in self._cache:
            encoded = msgspec.json.encode(sorted(keys)).decode()
            await insert_ignore(session, sync_keysets, {"hash": digest, "keys": encoded})
            self._remember(digest, keys)
        if len(self._hashes) >= _CACHE_LIMIT:
            self._hashes.clear()
        self._hashes[keys] = digest
        return digest

    def stored(self, keys: frozenset[str]) -> bool:
        """True when ``keys`` is known to be in the database (``save`` would not write)."""
        return keys in self._hashes or keyset_hash(keys) in self._cache

    async def get(self, session: AsyncSession, digest: str) -> frozenset[str] | None:
        """The keyset with this hash, None if unknown."""
        if digest in self._cache:
            return self._cache[digest]
        raw = (
            await session.execute(
                sa.select(sync_keysets.c["keys"]).where(sync_keysets.c.hash == digest)
            )
        ).scalar_one_or_none()
        if raw is None:
            return None
        keys = frozenset(_decoder.decode(raw))
        self._remember(digest, keys)
        return keys

    def _remember(self, digest: str, keys: frozenset[str]) -> None:
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[digest] = keys
