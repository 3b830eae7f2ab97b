"""Keyset pagination shared by every list endpoint: ordered by id, opaque cursors, bounded pages."""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Sequence
from typing import Any, Generic, TypeVar

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from server.errors import ValidationFailed
from server.settings import Settings

T = TypeVar("T")


class Page(msgspec.Struct, Generic[T]):
    """One page of a list; pass ``next_cursor`` back as ``cursor`` for the next one."""

    items: list[T]
    next_cursor: str | None = None


def encode_cursor(last_id: uuid.UUID) -> str:
    """The opaque cursor pointing after ``last_id``."""
    return base64.urlsafe_b64encode(last_id.bytes).decode().rstrip("=")


def decode_cursor(cursor: str) -> uuid.UUID:
    """The id a cursor points after; ``invalid_cursor`` (400) when it is garbage."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        return uuid.UUID(bytes=raw)
    except (ValueError, binascii.Error) as exc:
        raise ValidationFailed(
            "cursor is not valid", field="cursor", code="invalid_cursor"
        ) from exc


def clamp_limit(limit: int | None, default: int, maximum: int) -> int:
    """A page size within ``1..maximum``; out-of-range values are refused, not silently fixed."""
    if limit is None:
        return default
    if limit < 1 or limit > maximum:
        raise ValidationFailed(f"limit must be between 1 and {maximum}", field="limit")
    return limit


def page_size(limit: int | None, settings: Settings) -> int:
    """The page size of a list request under the configured default and maximum."""
    return clamp_limit(limit, settings.page_size_default, settings.page_size_max)


async def fetch_page(
    session: AsyncSession,
    statement: sa.Select[Any],
    id_column: sa.ColumnElement[uuid.UUID],
    *,
    cursor: str | None,
    limit: int,
) -> tuple[Sequence[Any], str | None]:
    """Rows of ``statement`` after ``cursor`` ordered by ``id_column``, and the next cursor."""
    if cursor:
        statement = statement.where(id_column > decode_cursor(cursor))
    rows = (await session.execute(statement.order_by(id_column).limit(limit + 1))).all()
    if len(rows) > limit:
        rows = rows[:limit]
        return rows, encode_cursor(_row_id(rows[-1], id_column.key or "id"))
    return rows, None


def _row_id(row: Any, key: str) -> uuid.UUID:
    mapping = row._mapping
    if key in mapping:
        return mapping[key]  # type: ignore[no-any-return]
    return row[0].id  # type: ignore[no-any-return]  # an ORM entity row
