"""Pieces of a push computed in memory before they are written: the session given to domain
code (flushing queued writes before it reads), a new record's wire dict, and what a validator
filled in."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from server.sync import patches
from server.sync.registry import ENGINE_FIELDS, EntitySpec

Record = dict[str, Any]


class FlushingSession:
    """The session given to validators and actions: the push's queued writes are flushed before
    their first query, so a validator reading the database sees every earlier mutation."""

    def __init__(self, session: AsyncSession, flush: Callable[[], Awaitable[None]]) -> None:
        self._session, self._flush = session, flush

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)

    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        """Flush, then run a statement."""
        await self._flush()
        return await self._session.execute(*args, **kwargs)

    async def scalar(self, *args: Any, **kwargs: Any) -> Any:
        """Flush, then run a statement for one value."""
        await self._flush()
        return await self._session.scalar(*args, **kwargs)

    async def scalars(self, *args: Any, **kwargs: Any) -> Any:
        """Flush, then run a statement for its first column."""
        await self._flush()
        return await self._session.scalars(*args, **kwargs)

    async def get(self, *args: Any, **kwargs: Any) -> Any:
        """Flush, then load an ORM object by primary key."""
        await self._flush()
        return await self._session.get(*args, **kwargs)


def new_record(spec: EntitySpec, record_id: uuid.UUID, values: dict[str, Any]) -> Record:
    """The wire dict of a record about to be created: the device's values over the record
    type's defaults (the device's values alone when the type cannot be built from them)."""
    raw = msgspec.to_builtins({**values, "id": record_id})
    try:
        return msgspec.to_builtins(msgspec.convert(raw, spec.record_type, strict=False))  # type: ignore[no-any-return]
    except (msgspec.ValidationError, ValueError, TypeError):
        return raw  # type: ignore[no-any-return]


def filled_in(spec: EntitySpec, record: Record, before: Record) -> dict[str, Any]:
    """Fields the validator set or changed (server-owned ones included), as Python values."""
    missing = object()
    filled = {
        name: value
        for name, value in record.items()
        if name not in ENGINE_FIELDS and before.get(name, missing) != value
    }
    return patches.to_python(spec, filled) if filled else {}


def server_values(spec: EntitySpec, record: Record, values: dict[str, Any]) -> dict[str, Any]:
    """Server-owned fields of a new record the record type computes (totals, a default status),
    so the table holds what the wire shows."""
    computed = {
        name: record[name]
        for name in spec.server_fields - ENGINE_FIELDS
        if name not in values and record.get(name) is not None and name in spec.table.c
    }
    return patches.to_python(spec, computed) if computed else {}


def as_uuid(value: Any) -> uuid.UUID | None:
    if value is None or isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None
