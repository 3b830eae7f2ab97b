"""Uploaded files kept in the file store with a row each: contract attachments and expense
receipts share the checks, the unit of row and file, and deletion.

An upload is checked (file name, content type, announced size) before its body is read,
streamed to the store's staging area with its SHA-256 and size counted, then recorded: the row
is inserted and the staged file renamed into place in one unit, and a failure at any point (the
client gone, the body over the limit, the database refusing the row) discards the file.

A deletion marks the row deleted (``deleted_at``, ``deleted_by``: the audit of who removed
what, when) in the caller's transaction, and removes the bytes from the store only after that
transaction commits: a rollback keeps the file its row still names. A process that dies between
the commit and the removal leaves an orphan, which ``sweep_orphans`` (``outpost sweep-files``)
removes later.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Database, UTCDateTime, new_id, utcnow
from server.errors import PayloadTooLarge, ValidationFailed
from server.file_store import FileStore
from server.settings import Settings

FILENAME_MAX = 200
log = logging.getLogger("outpost.files")


class StoredFileColumns:
    """The columns of a row whose bytes live in the file store under ``storage_key``."""

    filename: Mapped[str] = mapped_column(sa.String(200))
    content_type: Mapped[str] = mapped_column(sa.String(100))
    size: Mapped[int] = mapped_column(sa.BigInteger)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    storage_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    uploaded_by: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    deleted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    deleted_by: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))


Check = Callable[[AsyncSession], Awaitable[None]]
Insert = Callable[[AsyncSession, dict[str, Any]], Awaitable[Any]]


async def store_upload(
    db: Database,
    store: FileStore,
    settings: Settings,
    *,
    filename: str,
    content_type: str,
    body: AsyncIterator[bytes],
    announced_size: int | None,
    uploaded_by: uuid.UUID,
    check: Check,
    insert: Insert,
    record_id: uuid.UUID | None = None,
) -> Any:
    """Store one upload and its row; nothing is left behind when it fails.

    ``check`` runs (in a read, then again in the row's transaction) before a byte of the body
    is read: it raises when the caller may not upload there. ``insert`` writes the row from the
    stored file's columns (``id``, ``filename``, ``content_type``, ``size``, ``sha256``,
    ``storage_key``, ``uploaded_by``, ``created_at``) and returns it.
    """
    name = clean_filename(filename)
    media = accepted_type(settings, content_type)
    limit = settings.attachment_max_bytes
    if announced_size is not None and announced_size > limit:
        raise PayloadTooLarge(f"the file is larger than {limit} bytes", field="file")
    async with db.reading() as session:
        await check(session)
    staged = await store.begin(body, max_bytes=limit)
    try:
        if staged.size == 0:
            raise ValidationFailed("the file is empty", field="file", code="empty_file")
        async with db.transaction() as session:
            await check(session)
            row = await insert(
                session,
                {
                    "id": record_id or new_id(),
                    "filename": name,
                    "content_type": media,
                    "size": staged.size,
                    "sha256": staged.sha256,
                    "storage_key": staged.key,
                    "uploaded_by": uploaded_by,
                    "created_at": utcnow(),
                },
            )
            staged.commit()  # renamed into place before the row commits
    except BaseException:
        staged.discard()
        raise
    return row


def accepted_type(settings: Settings, content_type: str) -> str:
    """The media type of ``content_type``; 422 ``unsupported_type`` when it is not accepted."""
    media = content_type.split(";", 1)[0].strip().lower()
    if media not in settings.allowed_content_types:
        raise ValidationFailed(
            f"files of type {media or '(none)'} are not accepted",
            field="content_type",
            code="unsupported_type",
            data={"allowed": sorted(settings.allowed_content_types)},
        )
    return media


def clean_filename(filename: str) -> str:
    """The file's own name (no directories), bounded; refused when nothing is left."""
    name = os.path.basename(filename.replace("\\", "/")).strip()
    if not name or len(name) > FILENAME_MAX or any(ord(c) < 32 for c in name):
        raise ValidationFailed(
            f"filename must be 1 to {FILENAME_MAX} printable characters",
            field="filename",
        )
    return name


def deletion(by: uuid.UUID) -> dict[str, Any]:
    """The values that mark a stored file's row deleted (kept as the audit)."""
    return {"deleted_at": utcnow(), "deleted_by": by}


def remove_stored(store: FileStore, key: str) -> None:
    """Remove a deleted row's bytes, after its transaction committed; a failure is logged and
    left to ``sweep_orphans``."""
    try:
        store.remove(key)
    except OSError:
        log.warning("stored file %s could not be removed; the orphan sweep will", key)


async def sweep_orphans(
    db: Database, store: FileStore, tables: Iterable[sa.Table], *, older_than: dt.timedelta
) -> int:
    """Remove stored (and staged) files older than ``older_than`` that no live row of
    ``tables`` names: left by a process that died between a deletion's commit and the file's
    removal, or mid-upload. Returns how many were removed."""
    cutoff = utcnow() - older_than
    live: set[str] = set()
    async with db.reading() as session:
        for table in tables:
            statement = sa.select(table.c.storage_key).where(table.c.deleted_at.is_(None))
            live.update((await session.execute(statement)).scalars())
    removed = 0
    for key, modified in store.stored_keys():
        if key not in live and modified < cutoff:
            store.remove(key)
            removed += 1
    return removed
