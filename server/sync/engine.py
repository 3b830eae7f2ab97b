"""The sync engine's services, built once by ``create_app`` and kept in ``app.state.sync``."""

from __future__ import annotations

from server.cache_epochs import EpochClock
from server.db import Database
from server.settings import Settings
from server.sync.conflicts import ConflictService
from server.sync.keysets import KeysetStore
from server.sync.pull import PullService
from server.sync.push import PushService
from server.sync.registry import SyncRegistry
from server.sync.scope_cache import ScopeCache
from server.sync.writer import ChangeWriter


class SyncEngine:
    """Pull, push and conflict services sharing one registry, writer and keyset cache."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        registry: SyncRegistry,
        writer: ChangeWriter,
        epochs: EpochClock | None = None,
    ) -> None:
        self.db, self.settings, self.registry, self.writer = db, settings, registry, writer
        self.keysets = KeysetStore()
        # without an epoch clock (an engine built outside create_app) nothing is cached
        scopes = ScopeCache(epochs, settings.scope_cache_size) if epochs is not None else None
        self.pull = PullService(db, settings, registry, self.keysets, scopes)
        self.push = PushService(db, settings, registry, writer, self.keysets, scopes)
        self.conflicts = ConflictService(db, settings, registry, writer)
