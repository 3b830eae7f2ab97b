"""Queries of accounts and contacts (SQLAlchemy Core on the tables)."""

from __future__ import annotations

import uuid
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.models import User
from server.sfa.accounts.models import Account, Contact
from server.sfa.accounts.schemas import AccountFilters, ContactFilters
from server.sfa.scopes import Visibility
from server.sfa.territories.models import Territory

accounts = cast(sa.Table, Account.__table__)
contacts = cast(sa.Table, Contact.__table__)
_users = cast(sa.Table, User.__table__)
_territories = cast(sa.Table, Territory.__table__)


class AccountRepository:
    """Named queries over accounts and their contacts."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_account(self, account_id: uuid.UUID) -> sa.Row[Any] | None:
        """One account row, or None."""
        statement = sa.select(accounts).where(accounts.c.id == account_id)
        return (await self.session.execute(statement)).first()

    def accounts_statement(self, filters: AccountFilters, seen: Visibility) -> sa.Select[Any]:
        """The visible accounts matching ``filters`` (unordered; the pager orders by id)."""
        c = accounts.c
        statement = sa.select(accounts).where(seen.account_filter(c.territory_id, c.owner_id))
        exact = {
            "segment": filters.segment,
            "value_tier": filters.value_tier,
            "lifecycle_stage": filters.lifecycle_stage,
            "territory_id": filters.territory_id,
            "owner_id": filters.owner_id,
            "city": filters.city,
            "blacklisted": filters.blacklisted,
        }
        for name, value in exact.items():
            if value is not None:
                statement = statement.where(c[name] == value)
        if filters.postal_code:
            statement = statement.where(
                c.postal_code.startswith(filters.postal_code, autoescape=True)
            )
        if filters.q:
            statement = statement.where(c.name.icontains(filters.q, autoescape=True))
        return statement

    async def user_role(self, user_id: uuid.UUID) -> tuple[str, bool] | None:
        """(role, active) of a user, or None when there is no such user."""
        row = (
            await self.session.execute(
                sa.select(_users.c.role, _users.c.active).where(_users.c.id == user_id)
            )
        ).first()
        return None if row is None else (str(row.role.value), bool(row.active))

    async def territory_exists(self, territory_id: uuid.UUID) -> bool:
        """Is there a territory node with this id?"""
        statement = sa.select(_territories.c.id).where(_territories.c.id == territory_id)
        return (await self.session.execute(statement)).first() is not None

    async def get_contact(self, contact_id: uuid.UUID) -> sa.Row[Any] | None:
        """One contact with its account's territory and owner (for the scope check), or None."""
        statement = (
            sa.select(contacts, accounts.c.territory_id, accounts.c.owner_id)
            .join(accounts, accounts.c.id == contacts.c.account_id)
            .where(contacts.c.id == contact_id)
        )
        return (await self.session.execute(statement)).first()

    def contacts_statement(self, filters: ContactFilters, seen: Visibility) -> sa.Select[Any]:
        """The contacts of visible accounts matching ``filters``."""
        c = contacts.c
        statement = sa.select(contacts)
        if not seen.everything:
            statement = statement.join(accounts, accounts.c.id == c.account_id).where(
                seen.account_filter(accounts.c.territory_id, accounts.c.owner_id)
            )
        if filters.account_id is not None:
            statement = statement.where(c.account_id == filters.account_id)
        if filters.role is not None:
            statement = statement.where(c.role == filters.role)
        if filters.email:
            statement = statement.where(sa.func.lower(c.email) == filters.email.lower())
        if filters.q:
            statement = statement.where(c.name.icontains(filters.q, autoescape=True))
        return statement
