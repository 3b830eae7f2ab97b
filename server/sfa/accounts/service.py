"""Account use cases for managers and admins: list, read, create, change, delete."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from protocol.errors import SERVER_OWNED_FIELD
from rules.territory_rules import RULE_FIELDS, AssignmentCause
from server.db import utcnow
from server.errors import Conflict, Forbidden, NotFound, ValidationFailed
from server.pagination import Page, fetch_page, page_size
from server.sfa.accounts.assignment import (
    AssignmentRepository,
    RuleVerdict,
    apply_verdict,
    assignments,
    rule_verdict,
)
from server.sfa.accounts.repository import AccountRepository, accounts
from server.sfa.accounts.schemas import (
    AccountCreate,
    AccountFilters,
    AccountPatch,
    AccountRecord,
    OwnershipRecord,
)
from server.sfa.area_service import AreaService
from server.sfa.inputs import check_decimal, record_of, sent_fields
from server.sfa.scopes import Visibility, visibility

OWNER_ROLES = frozenset({"rep", "manager"})


def _refuse_arrears(sent: bool) -> None:
    """``arrears`` is derived from the account's overdue instalments (docs/finance.md)."""
    if sent:
        raise ValidationFailed(
            "arrears is derived from overdue instalments and cannot be written",
            field="arrears",
            code=SERVER_OWNED_FIELD,
        )


def account_record(row: Any) -> AccountRecord:
    """An account row (or the writer's wire dict) as the API record."""
    return record_of(AccountRecord, row)


class AccountService(AreaService):
    """Accounts as a manager (their subtree, their reports, unassigned) or an admin sees them."""

    async def list_accounts(
        self, filters: AccountFilters, *, cursor: str | None, limit: int | None
    ) -> Page[AccountRecord]:
        """One page of the visible accounts matching ``filters``."""
        return await self._visible_page(
            lambda session, seen: AccountRepository(session).accounts_statement(filters, seen),
            accounts.c.id,
            account_record,
            cursor=cursor,
            limit=limit,
        )

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
        _refuse_arrears(values.pop("arrears", 0) != 0)
        async with self.db.transaction() as session:
            seen = await visibility(session, self.principal)
            # a territory or owner given by the manager is a manual assignment; else the rules
            manual = values.get("territory_id") is not None or values.get("owner_id") is not None
            verdict = None if manual else await rule_verdict(session, values, seen)
            if verdict is not None:
                values.update(apply_verdict(verdict, values))
            await self._check(session, seen, values, values)
            record = await self.writer.create(session, "account", values, principal=self.principal)
            await self._record_assignment(session, record, manual, verdict)
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
            _refuse_arrears("arrears" in changes)
            manual = "territory_id" in changes or "owner_id" in changes
            verdict = None
            repo = AssignmentRepository(session)
            if not manual and not RULE_FIELDS.isdisjoint(changes):
                if not await repo.is_manual(account_id):
                    verdict = await rule_verdict(session, {**current, **changes}, seen)
                if verdict is not None:
                    changes.update(apply_verdict(verdict, {**current, **changes}))
            await self._check(session, seen, {**current, **changes}, changes)
            record = await self.writer.update(
                session, "account", account_id, changes, principal=self.principal
            )
            if "territory_id" in changes or "owner_id" in changes:
                await self._record_assignment(session, record, manual, verdict)
        return account_record(record)

    async def ownership(
        self, account_id: uuid.UUID, *, cursor: str | None, limit: int | None
    ) -> Page[OwnershipRecord]:
        """One page of a visible account's ownership history, oldest first."""
        size = page_size(limit, self.settings)
        async with self.db.reading() as session:
            seen = await visibility(session, self.principal)
            await self._visible_row(session, seen, account_id)
            statement = AssignmentRepository(session).history_statement(account_id)
            rows, next_cursor = await fetch_page(
                session, statement, assignments.c.id, cursor=cursor, limit=size
            )
        return Page(
            items=[record_of(OwnershipRecord, row) for row in rows], next_cursor=next_cursor
        )

    async def _record_assignment(
        self,
        session: AsyncSession,
        record: dict[str, Any],
        manual: bool,
        verdict: RuleVerdict | None,
    ) -> None:
        if manual:
            cause = AssignmentCause.MANUAL
        elif verdict is not None:
            cause = AssignmentCause.RULE
        else:
            cause = AssignmentCause.DEFAULT
        await AssignmentRepository(session).record(
            uuid.UUID(str(record["id"])),
            record.get("territory_id"),
            record.get("owner_id"),
            cause=cause,
            rule_id=verdict.rule_id if verdict is not None and not manual else None,
            by=self.principal.user_id,
            now=utcnow(),
        )

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
