"""Verified tokens kept per process, so most authenticated requests read nothing.

An entry holds what the token query returned (the secret's keyed hash, expiry, the user's and
device's state). It is used only while the ``auth`` cache epoch is the one read before the query
(``server.cache_epochs``): revoking a token, deactivating a device or a user and changing a
password all bump it in their transaction, so every process stops honouring the token within
``cache_epoch_interval_seconds``. Entries also age out after ``token_cache_seconds`` and the
cache holds at most ``token_cache_size`` of them (the oldest go first).
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from dataclasses import dataclass
from typing import Any


@dataclass(slots=True)
class CachedToken:
    """A token row as the auth middleware reads it, with the epoch it was read under."""

    secret_hash: str
    revoked: bool
    expires_at: dt.datetime
    user_id: uuid.UUID
    role: str
    user_active: bool
    device_id: uuid.UUID
    device_active: bool
    last_seen_at: dt.datetime | None
    epoch: int
    stored_at: float

    @classmethod
    def of(cls, row: Any, epoch: int) -> CachedToken:
        """From the token query's row (see ``server.auth.middleware``)."""
        (
            secret_hash,
            revoked_at,
            expires_at,
            user_id,
            role,
            user_active,
            device_id,
            device_active,
            last_seen_at,
        ) = row
        return cls(
            secret_hash,
            revoked_at is not None,
            expires_at,
            user_id,
            str(getattr(role, "value", role)),
            bool(user_active),
            device_id,
            bool(device_active),
            last_seen_at,
            epoch,
            time.monotonic(),
        )


class TokenCache:
    """Token id -> ``CachedToken``, bounded in size and age."""

    def __init__(self, size: int, max_age: float) -> None:
        self.size, self.max_age = size, max_age
        self._entries: dict[uuid.UUID, CachedToken] = {}

    def get(self, token_id: uuid.UUID, epoch: int) -> CachedToken | None:
        """The entry, if it was read under ``epoch`` and is young enough."""
        entry = self._entries.get(token_id)
        if entry is None:
            return None
        if entry.epoch != epoch or time.monotonic() - entry.stored_at > self.max_age:
            del self._entries[token_id]
            return None
        return entry

    def put(self, token_id: uuid.UUID, entry: CachedToken) -> None:
        """Remember a token (evicting the oldest entry when full)."""
        if self.size <= 0:
            return
        self._entries.pop(token_id, None)
        while len(self._entries) >= self.size:
            del self._entries[next(iter(self._entries))]
        self._entries[token_id] = entry

    def clear(self) -> None:
        """Forget every entry."""
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
