"""Account use cases for managers and admins: list, read, create, change, delete."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from server.errors import Conflict, Forbidden, NotFound, ValidationFailed
from server.pagination import Page, fetch_page, page_size
from server.sfa.accounts.inputs import check_decimal, record_of, sent_fields
from server.sfa.accounts.repository import AccountRepository, accounts
from server.sfa.accounts.schemas import (
    AccountCreate,
    AccountFilters,
    AccountPatch,
    AccountRecord,
)
from server.sfa.area_service import AreaService
from server.sfa.scopes import Visibility, visibility

OWNER_ROLES = frozenset({"rep", "manager"})


def account_record(row: Any) -> AccountRecord:
    """An account row (or the writer's wire dict) as the API record."""
    return record_of(AccountRecord, row)


class AccountService(AreaService):
    """Accounts as a manager (their subtree, their reports, unassigned) or an admin sees them."""

    async def list_accounts(
        self, filters: AccountFilters, *, cursor: str | None, limit: int | None
    ) -> Page[AccountRecord]:
        """One page of the visible accounts matching ``filters``."""
        size = page_size(limit, self.settings)
        async with self.db.reading() as session:
            seen = await visibility(session, self.principal)
            statement = AccountRepository(session).accounts_statement(filters, seen)
            rows, next_cursor = await fetch_page(
                session, statement, accounts.c.id, cursor=cursor, limit=size
            )
        return Page(items=[account_record(row) for row in rows], next_cursor=next_cursor)

    async def get_account(self, account_id: uuid.UUID) -> AccountRecord:
        """One visible account; ``not_found`` when it is missing or outside the caller's scope."""
        async with self.db.reading() as session:
            row = await self._visible_row(
                session, await visibility(session, self.principal), account_id
            )
        return account_record(row)

    async def create_account(self, data: AccountCreate) -> AccountRecord:
        """Create an account inside the caller's scope."""
        values = sent_fields(data)
        async with self.db.transaction() as session:
            seen = await visibility(session, self.principal)
            await self._check(session, seen, values, values)
            record = await self.writer.create(session, "account", values, principal=self.principal)
        return account_record(record)

    async def update_account(
        self, account_id: uuid.UUID, data: AccountPatch, *, expected: frozenset[int] | None = None
    ) -> AccountRecord:
        """Change the fields sent; the account must stay inside the caller's scope."""
        changes = sent_fields(data)
        async with self.db.transaction() as session:
            seen = await visibility(session, self.principal)
            row = await self._visible_row(session, seen, account_id)
            await self.writer.check_version(session, "account", account_id, expected)
            current = dict(row._mapping)
            changes = {k: v for k, v in changes.items() if current[k] != v}
            if not changes:
                return account_record(row)
            await self._check(session, seen, {**current, **changes}, changes)
            record = await self.writer.update(
                session, "account", account_id, changes, principal=self.principal
            )
        return account_record(record)

    async def delete_account(
        self, account_id: uuid.UUID, *, expected: frozenset[int] | None = None
    ) -> None:
        """Delete an account; the writer deletes what lives under it (contacts, its own price
        lists) and leaves tombstones for devices."""
        try:
            async with self.db.transaction() as session:
                await self._visible_row(
                    session, await visibility(session, self.principal), account_id
                )
                await self.writer.check_version(session, "account", account_id, expected)
                await self.writer.delete(session, "account", account_id, principal=self.principal)
        except sa.exc.IntegrityError as exc:
            raise Conflict(
                "account is still referenced by other records", field="id", code="in_use"
            ) from exc

    async def _visible_row(
        self, session: AsyncSession, seen: Visibility, account_id: uuid.UUID
    ) -> sa.Row[Any]:
        row = await AccountRepository(session).get_account(account_id)
        # Outside the caller's scope answers like a missing id: existence is not disclosed.
        if row is None or not seen.allows(row.territory_id, row.owner_id):
            raise NotFound(f"account {account_id} not found", field="id")
        return row

    async def _check(
        self,
        session: AsyncSession,
        seen: Visibility,
        state: dict[str, Any],
        changed: dict[str, Any],
    ) -> None:
        """Validate the account as it would be after the write (only re-checking what changed)."""
        check_decimal(changed.get("credit_limit"), "credit_limit", ge=0)
        check_decimal(changed.get("arrears"), "arrears", ge=0)
        repo = AccountRepository(session)
        owner_id = changed.get("owner_id")
        if owner_id is not None:
            role = await repo.user_role(owner_id)
            if role is None or role[0] not in OWNER_ROLES or not role[1]:
                raise ValidationFailed("owner must be an active rep or manager", field="owner_id")
        territory_id = changed.get("territory_id")
        if territory_id is not None and not await repo.territory_exists(territory_id):
            raise ValidationFailed(f"territory {territory_id} does not exist", field="territory_id")
        if not seen.allows(state.get("territory_id"), state.get("owner_id")):
            field = "territory_id" if state.get("territory_id") is not None else "owner_id"
            raise Forbidden("the account would leave your scope", field=field)
