"""The base of the REST area services: what each holds, and the page size rule they share."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from server.db import Database
from server.pagination import Page, fetch_page, page_size
from server.settings import Settings
from server.sfa.scopes import Visibility, visibility
from server.sync.registry import Principal
from server.sync.writer import ChangeWriter

T = TypeVar("T")


class AreaService:
    """Holds the database, the change writer, the caller and the settings of one request."""

    def __init__(
        self, db: Database, writer: ChangeWriter, principal: Principal, settings: Settings
    ) -> None:
        self.db = db
        self.writer = writer
        self.principal = principal
        self.settings = settings

    def _limit(self, limit: int | None) -> int:
        """A page size within the configured bounds (out of range is refused)."""
        return page_size(limit, self.settings)

    async def _visible_page(
        self,
        statement_of: Callable[[AsyncSession, Visibility], sa.Select[Any]],
        key: sa.ColumnElement[uuid.UUID],
        record: Callable[[Any], T],
        *,
        cursor: str | None,
        limit: int | None,
    ) -> Page[T]:
        """One page, keyset-paginated by ``key``, of the rows the caller may see:
        ``statement_of`` builds the query from the session and the caller's visibility,
        ``record`` makes each row the API record."""
        size = self._limit(limit)
        async with self.db.reading() as session:
            seen = await visibility(session, self.principal)
            rows, next_cursor = await fetch_page(
                session, statement_of(session, seen), key, cursor=cursor, limit=size
            )
        return Page(items=[record(row) for row in rows], next_cursor=next_cursor)
