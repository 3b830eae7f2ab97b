"""Queries of the territory tree and its members (SQLAlchemy Core)."""

from __future__ import annotations

import uuid
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.models import User
from server.sfa.accounts.models import Account
from server.sfa.territories.models import Territory, TerritoryLevel, TerritoryMember

territories = cast(sa.Table, Territory.__table__)
members = cast(sa.Table, TerritoryMember.__table__)
_users = cast(sa.Table, User.__table__)
_accounts = cast(sa.Table, Account.__table__)


class TerritoryRepository:
    """Named queries over territory nodes and memberships."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_territory(self, territory_id: uuid.UUID) -> sa.Row[Any] | None:
        """One territory row, or None."""
        statement = sa.select(territories).where(territories.c.id == territory_id)
        return (await self.session.execute(statement)).first()

    def territories_statement(
        self, level: TerritoryLevel | None, parent_id: uuid.UUID | None, q: str | None
    ) -> sa.Select[Any]:
        """Territory nodes matching the filters."""
        statement = sa.select(territories)
        if level is not None:
            statement = statement.where(territories.c.level == level)
        if parent_id is not None:
            statement = statement.where(territories.c.parent_id == parent_id)
        if q:
            statement = statement.where(territories.c.name.icontains(q, autoescape=True))
        return statement

    async def in_use(self, territory_id: uuid.UUID) -> str | None:
        """What still hangs on a node (child nodes or accounts), or None."""
        child = sa.exists().where(territories.c.parent_id == territory_id)
        account = sa.exists().where(_accounts.c.territory_id == territory_id)
        has_child, has_account = (await self.session.execute(sa.select(child, account))).one()
        if has_child:
            return "child nodes"
        return "accounts" if has_account else None

    def members_statement(self, territory_id: uuid.UUID) -> sa.Select[Any]:
        """Members of a node with their user's name, email, role and status."""
        return (
            sa.select(
                members.c.territory_id,
                members.c.user_id,
                members.c.created_at,
                _users.c.name,
                _users.c.email,
                _users.c.role,
                _users.c.active,
            )
            .join(_users, _users.c.id == members.c.user_id)
            .where(members.c.territory_id == territory_id)
        )

    async def get_member(self, territory_id: uuid.UUID, user_id: uuid.UUID) -> sa.Row[Any] | None:
        """One membership with its user's details, or None."""
        statement = self.members_statement(territory_id).where(members.c.user_id == user_id)
        row: sa.Row[Any] | None = (await self.session.execute(statement)).first()
        return row

    async def add_member(self, territory_id: uuid.UUID, user_id: uuid.UUID, now: Any) -> None:
        """Attach a user to a node."""
        await self.session.execute(
            sa.insert(members).values(territory_id=territory_id, user_id=user_id, created_at=now)
        )

    async def remove_member(self, territory_id: uuid.UUID, user_id: uuid.UUID) -> bool:
        """Detach a user from a node; False when they were not attached."""
        result = await self.session.execute(
            sa.delete(members).where(
                members.c.territory_id == territory_id, members.c.user_id == user_id
            )
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def user_status(self, user_id: uuid.UUID) -> tuple[str, bool] | None:
        """(role, active) of a user, or None."""
        statement = sa.select(_users.c.role, _users.c.active).where(_users.c.id == user_id)
        row = (await self.session.execute(statement)).first()
        return None if row is None else (str(row.role.value), bool(row.active))
