"""Quotes as the desk reads them: managers (their subtree) and admins list and read quotes,
each as it reads today (``expired`` once its validity ended, as a pull serves it)."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

import msgspec

from protocol.entities.documents import QuoteRecord
from rules.quotes import company_today
from server.db import utcnow
from server.errors import NotFound
from server.pagination import Page
from server.sfa.area_service import AreaService
from server.sfa.quotes.repository import QuoteFilters, QuoteRepository, quotes
from server.sfa.quotes.sync import read_now
from server.sfa.scopes import visibility
from server.sync.writer import row_to_wire


class QuoteService(AreaService):
    """``GET /quotes`` and ``GET /quotes/{id}``."""

    async def list_quotes(
        self, filters: QuoteFilters, *, cursor: str | None, limit: int | None
    ) -> Page[QuoteRecord]:
        """One page of the visible quotes matching ``filters``, by id (creation order)."""
        today = company_today(utcnow(), self.settings.company_timezone)
        dated = dataclasses.replace(filters, today=today)
        return await self._visible_page(
            lambda _session, seen: QuoteRepository().quotes_statement(dated, seen),
            quotes.c.id,
            self._record,
            cursor=cursor,
            limit=limit,
        )

    async def get_quote(self, quote_id: uuid.UUID) -> QuoteRecord:
        """One visible quote; ``not_found`` when it is missing or outside the caller's scope."""
        async with self.db.reading() as session:
            seen = await visibility(session, self.principal)
            statement = QuoteRepository().quote_statement(quote_id, seen)
            row = (await session.execute(statement)).first()
        if row is None:
            raise NotFound(f"quote {quote_id} not found", field="id")
        return self._record(row)

    def _record(self, row: Any) -> QuoteRecord:
        wire = read_now(
            row_to_wire(self.writer.spec("quote"), row), zone=self.settings.company_timezone
        )
        return msgspec.convert(wire, QuoteRecord)
