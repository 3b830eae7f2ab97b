"""Registers every syncable SFA entity, and the scope provider, with the sync engine."""

from __future__ import annotations

from server.sync.registry import SyncRegistry


def register_entities(registry: SyncRegistry) -> None:
    """Called once by ``create_app``; each area adds its entities here."""
