"""A test-only registry: folders (scope key stored on the row) holding notes (children)."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Mapping
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from server.db import Money, UTCDateTime
from server.errors import Conflict, ValidationFailed
from server.sync.registry import (
    ENGINE_FIELDS,
    ActionContext,
    EntitySpec,
    Policy,
    Principal,
    SyncRegistry,
)

metadata = sa.MetaData()

folders = sa.Table(
    "toy_folders",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("name", sa.String(100), nullable=False, default=""),
    sa.Column("scope_key", sa.String(200), nullable=False),
    sa.Column("version", sa.Integer, nullable=False, default=1),
    sa.Column("updated_at", UTCDateTime),
)

notes = sa.Table(
    "toy_notes",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("folder_id", sa.Uuid, sa.ForeignKey("toy_folders.id"), nullable=False),
    sa.Column("title", sa.String(100), nullable=False, default=""),
    sa.Column("body", sa.Text, nullable=False, default=""),
    sa.Column("status", sa.String(20), nullable=False, default="open"),
    sa.Column("amount", Money, nullable=False, default=decimal.Decimal(0)),
    sa.Column("score", sa.Integer, nullable=False, default=0),
    sa.Column("version", sa.Integer, nullable=False, default=1),
    sa.Column("updated_at", UTCDateTime),
)


class FolderRecord(msgspec.Struct, omit_defaults=False):
    id: uuid.UUID
    name: str
    scope_key: str
    version: int
    updated_at: dt.datetime | None = None


class NoteRecord(msgspec.Struct):
    id: uuid.UUID
    folder_id: uuid.UUID
    title: str
    body: str
    status: str
    amount: decimal.Decimal
    score: int
    version: int
    updated_at: dt.datetime | None = None


async def folder_scope(_session: AsyncSession, record: Mapping[str, Any]) -> str:
    return str(record["scope_key"])


async def note_scope(session: AsyncSession, record: Mapping[str, Any]) -> str:
    key = (
        await session.execute(
            sa.select(folders.c.scope_key).where(
                folders.c.id == uuid.UUID(str(record["folder_id"]))
            )
        )
    ).scalar_one()
    return str(key)


async def validate_note(
    _ctx: ActionContext, record: dict[str, Any], _old: dict[str, Any] | None
) -> None:
    if record["title"] == "forbidden":
        raise ValidationFailed("this title is not allowed", field="title", code="domain_rule")


async def archive(
    ctx: ActionContext, record: dict[str, Any], changes: dict[str, Any]
) -> dict[str, Any]:
    if record["status"] == "archived":
        raise Conflict("already archived", field="status", code="invalid_state")
    return {"status": "archived", "score": record["score"] + 10}


class Scopes:
    """Which keys each user holds; tests change it to move users between scopes."""

    def __init__(self) -> None:
        self.keys: dict[uuid.UUID, set[str]] = {}

    async def __call__(self, _session: AsyncSession, principal: Principal) -> frozenset[str]:
        return frozenset(self.keys.get(principal.user_id, set()))


def build_registry(scopes: Scopes) -> SyncRegistry:
    registry = SyncRegistry()
    registry.register(
        EntitySpec(name="folder", table=folders, record_type=FolderRecord, scope=folder_scope)
    )
    registry.register(
        EntitySpec(
            name="note",
            table=notes,
            record_type=NoteRecord,
            scope=note_scope,
            server_fields=ENGINE_FIELDS | {"score"},
            policies={"body": Policy.APPEND, "status": Policy.SERVER_WINS},
            actions={"archive": archive},
            validate=validate_note,
            parent=("folder", "folder_id"),
            cascade_delete=True,
        )
    )
    registry.set_scope_provider(scopes)
    return registry


async def make_folder(db: Any, writer: Any, key: str, name: str = "folder") -> uuid.UUID:
    """Create a folder under scope ``key`` through the writer."""
    async with db.transaction() as session:
        record = await writer.create(
            session, "folder", {"name": name, "scope_key": key}, principal=None
        )
    return uuid.UUID(record["id"])


async def make_note(db: Any, writer: Any, folder_id: uuid.UUID, **values: Any) -> uuid.UUID:
    """Create a note in ``folder_id`` through the writer."""
    async with db.transaction() as session:
        record = await writer.create(
            session, "note", {"folder_id": folder_id, **values}, principal=None
        )
    return uuid.UUID(record["id"])
