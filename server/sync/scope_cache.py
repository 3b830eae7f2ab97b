"""Users' scope keys kept per process, valid while the ``scope`` cache epoch stands.

Computing a user's keys walks the territory tree (one recursive query); on a pull with nothing
new it was most of the database work. Every write that can change a user's keys (the territory
tree, memberships, a user's role or manager) bumps the ``scope`` epoch in its transaction
(``server.cache_epochs``), so a process answers from here only keys computed after the last such
change it has read; it reads the epochs at most every ``cache_epoch_interval_seconds``.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from server.cache_epochs import SCOPE, EpochClock
from server.sync.registry import Principal, SyncRegistry


class ScopeCache:
    """(user, role, active) -> scope keys, tagged with the epoch read before computing them."""

    def __init__(self, epochs: EpochClock, size: int) -> None:
        self.epochs, self.size = epochs, size
        self._entries: dict[tuple[uuid.UUID, str, bool], tuple[int, frozenset[str]]] = {}

    async def epoch(self) -> int:
        """The scope epoch to tag keys computed from now on with. Read it before opening the
        session the keys are computed in: the read may need a pooled connection of its own."""
        return (await self.epochs.current()).get(SCOPE, 0)

    async def keys(
        self,
        principal: Principal,
        epoch: int,
        compute: Callable[[], Awaitable[frozenset[str]]],
    ) -> frozenset[str]:
        """The principal's keys: cached under ``epoch``, or ``compute()``d and remembered."""
        key = (principal.user_id, principal.role, principal.active)
        found = self._entries.get(key)
        if found is not None and found[0] == epoch:
            return found[1]
        keys = await compute()
        if self.size > 0:
            self._entries.pop(key, None)
            while len(self._entries) >= self.size:
                del self._entries[next(iter(self._entries))]
            self._entries[key] = (epoch, keys)
        return keys


class ScopeKeys:
    """A user's scope keys as pull and push read them: from the registry's provider, through
    the process's ``ScopeCache`` when there is one and the provider is cacheable."""

    def __init__(self, registry: SyncRegistry, cache: ScopeCache | None) -> None:
        self.registry, self.cache = registry, cache

    async def epoch(self) -> int | None:
        """The epoch to pass to ``keys`` (None: nothing is cached). Read it before opening the
        session the keys are computed in (see ``ScopeCache.epoch``)."""
        if self.cache is None or not self.registry.scope_cacheable:
            return None
        return await self.cache.epoch()

    async def keys(
        self, session: AsyncSession, principal: Principal, epoch: int | None
    ) -> frozenset[str]:
        """The principal's keys, cached under ``epoch`` when it is not None."""

        def compute() -> Awaitable[frozenset[str]]:
            return self.registry.scope_keys(session, principal)

        if self.cache is None or epoch is None:
            return await compute()
        return await self.cache.keys(principal, epoch, compute)
