"""Conflict records: the engine's own read-only syncable entity, and their list / resolve API."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from protocol.sync import ConflictRecord, FieldConflict
from server.db import Database, new_id, utcnow
from server.errors import Forbidden, NotFound
from server.pagination import Page, fetch_page, page_size
from server.settings import Settings
from server.sync.models import sync_conflicts
from server.sync.registry import EntitySpec, Principal, SyncRegistry
from server.sync.writer import ChangeWriter

CONFLICT = "conflict"
FIELD, OUT_OF_SCOPE = "field", "out_of_scope"


async def _conflict_scope(_session: AsyncSession, record: Mapping[str, Any]) -> str:
    return str(record["scope_key"])


def register_engine_entities(registry: SyncRegistry) -> None:
    """Register the engine's own entities (``conflict``); safe to call twice."""
    if registry.get(CONFLICT) is None:
        registry.register(
            EntitySpec(
                name=CONFLICT,
                table=sync_conflicts,
                record_type=ConflictRecord,
                scope=_conflict_scope,
                writable=False,
                deletable=False,
            )
        )


async def record_conflict(
    writer: ChangeWriter,
    session: AsyncSession,
    *,
    entity: str,
    record_id: uuid.UUID,
    principal: Principal,
    mid: int,
    kind: str,
    fields: list[FieldConflict],
    scope_key: str,
) -> uuid.UUID:
    """Keep a conflict (through the writer, so it syncs to its scope); returns its id."""
    conflict_id = new_id()
    await writer.create(
        session,
        CONFLICT,
        {
            "id": conflict_id,
            "entity": entity,
            "record_id": record_id,
            "user_id": principal.user_id,
            "device_id": principal.device_id,
            "mid": mid,
            "kind": kind,
            "fields": msgspec.to_builtins(fields),
            "scope_key": scope_key,
        },
        principal=principal,
    )
    return conflict_id


class ConflictService:
    """Lists conflicts a user may see and marks them resolved."""

    def __init__(
        self, db: Database, settings: Settings, registry: SyncRegistry, writer: ChangeWriter
    ) -> None:
        self.db, self.settings, self.registry, self.writer = db, settings, registry, writer

    async def _keys(self, session: AsyncSession, principal: Principal) -> frozenset[str] | None:
        """The caller's scope keys; None for an admin, who sees every conflict whole."""
        if principal.role == "admin":
            return None
        return await self.registry.scope_keys(session, principal)

    @staticmethod
    def _visible(principal: Principal, keys: frozenset[str] | None) -> sa.ColumnElement[bool]:
        t = sync_conflicts.c
        if keys is None:
            return sa.true()
        if principal.role == "manager":
            return t.scope_key.in_(keys)
        return sa.or_(t.user_id == principal.user_id, t.scope_key.in_(keys))

    async def list(
        self,
        principal: Principal,
        *,
        entity: str | None = None,
        record_id: uuid.UUID | None = None,
        resolved: bool | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Page[ConflictRecord]:
        """Conflicts visible to the caller, newest ids last, keyset-paginated."""
        size = page_size(limit, self.settings)
        t = sync_conflicts.c
        async with self.db.reading() as session:
            keys = await self._keys(session, principal)
            statement = sa.select(sync_conflicts).where(self._visible(principal, keys))
            if entity is not None:
                statement = statement.where(t.entity == entity)
            if record_id is not None:
                statement = statement.where(t.record_id == record_id)
            if resolved is not None:
                statement = statement.where(
                    t.resolved_at.is_not(None) if resolved else t.resolved_at.is_(None)
                )
            rows, next_cursor = await fetch_page(
                session, statement, t.id, cursor=cursor, limit=size
            )
        items = [_shown(dict(row._mapping), keys) for row in rows]
        return Page(items=items, next_cursor=next_cursor)

    async def resolve(self, principal: Principal, conflict_id: uuid.UUID) -> ConflictRecord:
        """Mark a conflict resolved (managers, admins, or the user who pushed it)."""
        async with self.db.transaction() as session:
            keys = await self._keys(session, principal)
            row = (
                await session.execute(
                    sa.select(sync_conflicts).where(
                        sync_conflicts.c.id == conflict_id, self._visible(principal, keys)
                    )
                )
            ).first()
            if row is None:
                raise NotFound(f"conflict {conflict_id} not found", field="id")
            if principal.role == "rep" and row._mapping["user_id"] != principal.user_id:
                raise Forbidden("only managers or the pusher resolve a conflict")
            if row._mapping["resolved_at"] is not None:
                return _shown(dict(row._mapping), keys)
            wire = await self.writer.update(
                session,
                CONFLICT,
                conflict_id,
                {"resolved_at": utcnow(), "resolved_by": principal.user_id},
                principal=principal,
            )
        return _shown(wire, keys)


def _shown(values: Mapping[str, Any], keys: frozenset[str] | None) -> ConflictRecord:
    """A conflict as the caller may see it. An out-of-scope conflict keeps the record's values
    at push time (``theirs``) for the record's holders; a caller who does not hold the record's
    key (the pusher it moved away from) gets it without them: they never learn current values
    of a record they no longer hold."""
    record = msgspec.convert(values, ConflictRecord)
    if keys is None or record.kind != OUT_OF_SCOPE or record.scope_key in keys:
        return record
    fields = [msgspec.structs.replace(item, theirs=None) for item in record.fields]
    return msgspec.structs.replace(record, fields=fields)
