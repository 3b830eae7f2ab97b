"""The per-process caches: bounded in size and age, valid only under the epoch they were read."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from server.auth import token_cache
from server.auth.token_cache import CachedToken, TokenCache
from server.sync.registry import Principal
from server.sync.scope_cache import ScopeCache


def entry(epoch: int = 1) -> CachedToken:
    row = ("hash", None, dt.datetime.now(dt.UTC), uuid.uuid4(), "rep", True, uuid.uuid4(), True,
           None)
    return CachedToken.of(row, epoch)


def test_a_token_entry_is_used_only_under_its_epoch() -> None:
    cache = TokenCache(size=10, max_age=60)
    token_id = uuid.uuid4()
    cache.put(token_id, entry(epoch=3))
    assert cache.get(token_id, 3) is not None
    assert cache.get(token_id, 4) is None
    assert cache.get(token_id, 3) is None  # dropped when seen stale


def test_the_token_cache_is_bounded_in_size_and_age(monkeypatch: pytest.MonkeyPatch) -> None:
    cache = TokenCache(size=2, max_age=60)
    ids = [uuid.uuid4() for _ in range(3)]
    for token_id in ids:
        cache.put(token_id, entry())
    assert len(cache) == 2 and cache.get(ids[0], 1) is None  # the oldest went first
    later = token_cache.time.monotonic() + 61
    monkeypatch.setattr(token_cache.time, "monotonic", lambda: later)
    assert cache.get(ids[2], 1) is None


class Epochs:
    def __init__(self) -> None:
        self.value = 1

    async def current(self) -> dict[str, int]:
        return {"scope": self.value}


async def test_scope_keys_are_computed_once_per_epoch() -> None:
    epochs = Epochs()
    cache = ScopeCache(epochs, size=10)  # type: ignore[arg-type]
    principal = Principal(user_id=uuid.uuid4(), role="rep")
    calls: list[int] = []

    async def compute() -> frozenset[str]:
        calls.append(epochs.value)
        return frozenset({f"t:{epochs.value}"})

    async def keys() -> Any:
        return await cache.keys(principal, await cache.epoch(), compute)

    assert await keys() == {"t:1"} and await keys() == {"t:1"}
    epochs.value = 2
    assert await keys() == {"t:2"}
    assert calls == [1, 2]
    other_role = Principal(user_id=principal.user_id, role="manager")
    await cache.keys(other_role, 2, compute)
    assert calls == [1, 2, 2]  # another role is another entry
