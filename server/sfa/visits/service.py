"""Read-only visit queries for managers; devices write visits through sync."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec

from server.db import Database
from server.errors import NotFound, ValidationFailed
from server.pagination import Page, fetch_page, page_size
from server.settings import Settings
from server.sfa.scopes import visibility
from server.sfa.visits.repository import VisitFilters, filtered_visits, visible_visits, visits
from server.sfa.visits.sync import VisitRecord
from server.sync.registry import Principal


def visit_record(row: Any) -> VisitRecord:
    """A visits row as its wire Struct."""
    mapping = row._mapping
    return msgspec.convert(
        {name: mapping[name] for name in VisitRecord.__struct_fields__}, VisitRecord
    )


class VisitService:
    """Lists and reads the visits a manager may see."""

    def __init__(self, db: Database, principal: Principal, settings: Settings) -> None:
        self.db, self.principal, self.settings = db, principal, settings

    async def list_visits(
        self, filters: VisitFilters, *, cursor: str | None, limit: int | None
    ) -> Page[VisitRecord]:
        """One page of the visible visits matching ``filters``, ordered by id."""
        if (
            filters.planned_from is not None
            and filters.planned_to is not None
            and filters.planned_to <= filters.planned_from
        ):
            raise ValidationFailed("planned_to must be after planned_from", field="planned_to")
        for name in ("planned_from", "planned_to"):
            value = getattr(filters, name)
            if value is not None and value.tzinfo is None:
                raise ValidationFailed(f"{name} needs a UTC offset", field=name)
        size = page_size(limit, self.settings)
        async with self.db.reading() as session:
            seen = await visibility(session, self.principal)
            rows, next_cursor = await fetch_page(
                session, filtered_visits(seen, filters), visits.c.id, cursor=cursor, limit=size
            )
        return Page(items=[visit_record(row) for row in rows], next_cursor=next_cursor)

    async def get_visit(self, visit_id: uuid.UUID) -> VisitRecord:
        """One visible visit; ``not_found`` when missing or outside the caller's scope."""
        async with self.db.reading() as session:
            seen = await visibility(session, self.principal)
            row = (
                await session.execute(visible_visits(seen).where(visits.c.id == visit_id))
            ).first()
        if row is None:
            raise NotFound(f"visit {visit_id} not found", field="visit_id")
        return visit_record(row)
