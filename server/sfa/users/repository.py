"""Queries on users and the management hierarchy."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.models import User
from server.pagination import fetch_page
from server.sfa.users.schemas import UserFilter


def team_ids(manager_id: uuid.UUID) -> sa.Select[tuple[uuid.UUID]]:
    """Ids of a manager and everyone reporting to them, directly or indirectly."""
    base = sa.select(User.id).where(User.id == manager_id).cte("team", recursive=True)
    # UNION (not UNION ALL) ends the recursion even if a cycle ever slipped into the data.
    team = base.union(sa.select(User.id).where(User.manager_id == base.c.id))
    return sa.select(team.c.id)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class UserRepository:
    """Named queries on users, inside the caller's session."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, user_id: uuid.UUID, *, for_update: bool = False) -> User | None:
        """The user with this id."""
        statement = sa.select(User).where(User.id == user_id)
        if for_update:
            statement = statement.with_for_update()
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def email_taken(self, email: str) -> bool:
        """True when a user already has this (normalized) email."""
        found = await self.session.execute(sa.select(User.id).where(User.email == email))
        return found.first() is not None

    async def add(self, user: User) -> User:
        """Insert a user (flushed, so a duplicate email fails here)."""
        self.session.add(user)
        await self.session.flush()
        return user

    async def in_team(self, manager_id: uuid.UUID, user_id: uuid.UUID) -> bool:
        """True when ``user_id`` is the manager or reports to them, directly or not."""
        found = await self.session.execute(
            sa.select(sa.literal(1)).where(User.id == user_id, User.id.in_(team_ids(manager_id)))
        )
        return found.first() is not None

    async def has_reports(self, user_id: uuid.UUID) -> bool:
        """True when someone has this user as their manager."""
        found = await self.session.execute(
            sa.select(User.id).where(User.manager_id == user_id).limit(1)
        )
        return found.first() is not None

    async def page(
        self, filters: UserFilter, *, visible_to: uuid.UUID | None, limit: int
    ) -> tuple[Sequence[User], str | None]:
        """One page of users by filters; ``visible_to`` restricts to that manager's team."""
        statement = sa.select(User)
        if visible_to is not None:
            statement = statement.where(User.id.in_(team_ids(visible_to)))
        if filters.role is not None:
            statement = statement.where(User.role == filters.role)
        if filters.manager_id is not None:
            statement = statement.where(User.manager_id == filters.manager_id)
        if filters.active is not None:
            statement = statement.where(User.active == filters.active)
        if filters.q:
            pattern = f"%{_escape_like(filters.q.lower())}%"
            statement = statement.where(
                sa.or_(
                    sa.func.lower(User.name).like(pattern, escape="\\"),
                    User.email.like(pattern, escape="\\"),
                )
            )
        rows, next_cursor = await fetch_page(
            self.session,
            statement,
            User.id,  # type: ignore[arg-type]
            cursor=filters.cursor,
            limit=limit,
        )
        return [row[0] for row in rows], next_cursor
