"""The territory tree and its members: admins write, managers read."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from server.db import utcnow
from server.errors import Conflict, NotFound, ValidationFailed
from server.pagination import Page, fetch_page
from server.sfa.area_service import AreaService
from server.sfa.inputs import plain, record_of, sent_fields
from server.sfa.territories.models import TerritoryLevel
from server.sfa.territories.repository import TerritoryRepository, members, territories
from server.sfa.territories.rules import hierarchy_problem
from server.sfa.territories.schemas import (
    MemberRecord,
    TerritoryCreate,
    TerritoryPatch,
    TerritoryRecord,
)

MEMBER_ROLES = frozenset({"rep", "manager"})


class TerritoryService(AreaService):
    """Regions, areas and territories, and who is attached to each node."""

    async def list_territories(
        self,
        level: TerritoryLevel | None,
        parent_id: uuid.UUID | None,
        q: str | None,
        *,
        cursor: str | None,
        limit: int | None,
    ) -> Page[TerritoryRecord]:
        """One page of nodes (flat; ``parent_id`` links them into the tree)."""
        size = self._limit(limit)
        async with self.db.reading() as session:
            statement = TerritoryRepository(session).territories_statement(level, parent_id, q)
            rows, nxt = await fetch_page(
                session, statement, territories.c.id, cursor=cursor, limit=size
            )
        return Page(items=[record_of(TerritoryRecord, r) for r in rows], next_cursor=nxt)

    async def get_territory(self, territory_id: uuid.UUID) -> TerritoryRecord:
        """One node."""
        async with self.db.reading() as session:
            row = await self._row(session, territory_id)
        return record_of(TerritoryRecord, row)

    async def create_territory(self, data: TerritoryCreate) -> TerritoryRecord:
        """Add a node at the right place of the hierarchy."""
        async with self.db.transaction() as session:
            await self._check_parent(session, plain(data.level), data.parent_id)
            record = await self.writer.create(
                session, "territory", sent_fields(data), principal=self.principal
            )
        return record_of(TerritoryRecord, record)

    async def update_territory(
        self,
        territory_id: uuid.UUID,
        data: TerritoryPatch,
        *,
        expected: frozenset[int] | None = None,
    ) -> TerritoryRecord:
        """Rename a node or move it under another parent of the level above."""
        changes = sent_fields(data)
        async with self.db.transaction() as session:
            row = await self._row(session, territory_id)
            await self.writer.check_version(session, "territory", territory_id, expected)
            if "parent_id" in changes:
                await self._check_parent(session, plain(row.level), changes["parent_id"])
            if changes:
                record = await self.writer.update(
                    session, "territory", territory_id, changes, principal=self.principal
                )
            else:
                record = await self.writer.load(session, "territory", territory_id)
        return record_of(TerritoryRecord, record)

    async def delete_territory(
        self, territory_id: uuid.UUID, *, expected: frozenset[int] | None = None
    ) -> None:
        """Delete a node with no child nodes and no accounts (its memberships go with it)."""
        try:
            async with self.db.transaction() as session:
                await self._row(session, territory_id)
                await self.writer.check_version(session, "territory", territory_id, expected)
                blocker = await TerritoryRepository(session).in_use(territory_id)
                if blocker is not None:
                    raise Conflict(f"territory still has {blocker}", field="id", code="in_use")
                await self.writer.delete(
                    session, "territory", territory_id, principal=self.principal
                )
        except sa.exc.IntegrityError as exc:
            raise Conflict("territory is still referenced", field="id", code="in_use") from exc

    async def list_members(
        self, territory_id: uuid.UUID, *, cursor: str | None, limit: int | None
    ) -> Page[MemberRecord]:
        """One page of a node's members, ordered by user id."""
        size = self._limit(limit)
        async with self.db.reading() as session:
            await self._row(session, territory_id)
            statement = TerritoryRepository(session).members_statement(territory_id)
            rows, nxt = await fetch_page(
                session, statement, members.c.user_id, cursor=cursor, limit=size
            )
        return Page(items=[record_of(MemberRecord, r) for r in rows], next_cursor=nxt)

    async def add_member(self, territory_id: uuid.UUID, user_id: uuid.UUID) -> MemberRecord:
        """Attach an active rep or manager to a node (idempotent)."""
        async with self.db.transaction() as session:
            repo = TerritoryRepository(session)
            await self._row(session, territory_id)
            status = await repo.user_status(user_id)
            if status is None:
                raise NotFound(f"user {user_id} not found", field="user_id")
            if status[0] not in MEMBER_ROLES or not status[1]:
                raise ValidationFailed("members must be active reps or managers", field="user_id")
            member = await repo.get_member(territory_id, user_id)
            if member is None:
                await repo.add_member(territory_id, user_id, utcnow())
                member = await repo.get_member(territory_id, user_id)
        return record_of(MemberRecord, member)

    async def remove_member(self, territory_id: uuid.UUID, user_id: uuid.UUID) -> None:
        """Detach a user from a node."""
        async with self.db.transaction() as session:
            await self._row(session, territory_id)
            if not await TerritoryRepository(session).remove_member(territory_id, user_id):
                raise NotFound(f"user {user_id} is not a member of this territory", field="user_id")

    async def _row(self, session: AsyncSession, territory_id: uuid.UUID) -> sa.Row[Any]:
        row = await TerritoryRepository(session).get_territory(territory_id)
        if row is None:
            raise NotFound(f"territory {territory_id} not found", field="id")
        return row

    async def _check_parent(
        self, session: AsyncSession, level: str, parent_id: uuid.UUID | None
    ) -> None:
        parent_level = None
        if parent_id is not None:
            parent = await TerritoryRepository(session).get_territory(parent_id)
            if parent is None:
                raise ValidationFailed(f"territory {parent_id} does not exist", field="parent_id")
            parent_level = str(plain(parent.level))
        problem = hierarchy_problem(level, parent_level)
        if problem is not None:
            raise ValidationFailed(problem, field="parent_id")
