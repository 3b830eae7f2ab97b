"""Is the database at the migrations' head? The server refuses to start when it is not."""

from __future__ import annotations

from server.db import Database


async def ensure_migrated(db: Database) -> None:
    """Raise ``SchemaNotReady`` with a clear message unless the database is at head. STUB."""
