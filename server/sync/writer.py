"""The one path by which a syncable record is written, from REST services and from pushes.

Every write bumps the record's version and (once the change log lands) records the change in
the same transaction. STUB: the change log and field clocks are filled in by the sync issue;
the signatures below are the contract domain services code against.
"""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from server.db import utcnow
from server.errors import NotFound
from server.sync.registry import EntitySpec, Principal, SyncRegistry


def row_to_wire(spec: EntitySpec, row: Any) -> dict[str, Any]:
    """A table row as the record's wire dict (JSON-ready builtins)."""
    mapping = row._mapping if hasattr(row, "_mapping") else row
    record = msgspec.convert(
        {k: mapping[k] for k in spec.record_type.__struct_fields__ if k in mapping},
        spec.record_type,
        from_attributes=False,
    )
    return msgspec.to_builtins(record)  # type: ignore[no-any-return]


class ChangeWriter:
    """Create, update and delete syncable records, keeping versions (and the change log)."""

    def __init__(self, registry: SyncRegistry) -> None:
        self.registry = registry

    def spec(self, entity: str) -> EntitySpec:
        spec = self.registry.get(entity)
        if spec is None:
            raise KeyError(entity)
        return spec

    async def create(
        self,
        session: AsyncSession,
        entity: str,
        values: dict[str, Any],
        *,
        principal: Principal | None,
        hlc: str | None = None,
    ) -> dict[str, Any]:
        """Insert a record (``values`` in Python types, ``id`` optional); returns its wire dict."""
        spec = self.spec(entity)
        now = utcnow()
        row = {"id": values.get("id") or uuid.uuid4(), **values}
        row.setdefault("version", 1)
        if "created_at" in spec.table.c:
            row.setdefault("created_at", now)
        if "updated_at" in spec.table.c:
            row["updated_at"] = now
        await session.execute(sa.insert(spec.table).values(**row))
        return await self.load(session, entity, row["id"])

    async def create_many(
        self,
        session: AsyncSession,
        entity: str,
        rows: list[dict[str, Any]],
        *,
        principal: Principal | None,
    ) -> int:
        """Insert many records at once (seeding, imports); returns how many. Ids required."""
        for values in rows:
            await self.create(session, entity, values, principal=principal)
        return len(rows)

    async def update(
        self,
        session: AsyncSession,
        entity: str,
        record_id: uuid.UUID,
        changes: dict[str, Any],
        *,
        principal: Principal | None,
        hlc: str | None = None,
    ) -> dict[str, Any]:
        """Change some fields of a record; returns its wire dict. NotFound if it is missing."""
        spec = self.spec(entity)
        values = dict(changes)
        if "updated_at" in spec.table.c:
            values["updated_at"] = utcnow()
        result = await session.execute(
            sa.update(spec.table)
            .where(spec.table.c.id == record_id)
            .values(**values, version=spec.table.c.version + 1)
        )
        if result.rowcount == 0:  # type: ignore[attr-defined]
            raise NotFound(f"{entity} {record_id} not found", field="id")
        return await self.load(session, entity, record_id)

    async def delete(
        self,
        session: AsyncSession,
        entity: str,
        record_id: uuid.UUID,
        *,
        principal: Principal | None,
        hlc: str | None = None,
    ) -> None:
        """Delete a record (a tombstone is kept in the change log for devices)."""
        spec = self.spec(entity)
        result = await session.execute(sa.delete(spec.table).where(spec.table.c.id == record_id))
        if result.rowcount == 0:  # type: ignore[attr-defined]
            raise NotFound(f"{entity} {record_id} not found", field="id")

    async def load(self, session: AsyncSession, entity: str, record_id: uuid.UUID) -> dict[str, Any]:
        """The current wire dict of a record."""
        spec = self.spec(entity)
        row = (
            await session.execute(sa.select(spec.table).where(spec.table.c.id == record_id))
        ).first()
        if row is None:
            raise NotFound(f"{entity} {record_id} not found", field="id")
        return row_to_wire(spec, row)
