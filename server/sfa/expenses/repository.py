"""Queries of expense reports and of the reps a manager decides for (SQLAlchemy Core)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.models import User
from server.sfa.expenses.models import ExpenseReceipt, ExpenseReport

expense_reports = cast(sa.Table, ExpenseReport.__table__)
expense_receipts = cast(sa.Table, ExpenseReceipt.__table__)
_users = cast(sa.Table, User.__table__)


class ExpenseRepository:
    """Named queries over expense reports."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def owner_of(self, report_id: uuid.UUID) -> uuid.UUID | None:
        """The rep a report belongs to, or None when there is no such report."""
        statement = sa.select(expense_reports.c.owner_id).where(expense_reports.c.id == report_id)
        return cast(uuid.UUID | None, (await self.session.execute(statement)).scalar())

    async def user_exists(self, user_id: uuid.UUID) -> bool:
        """Is there such a user?"""
        statement = sa.select(_users.c.id).where(_users.c.id == user_id)
        return (await self.session.execute(statement)).first() is not None

    def _where(
        self, owners: frozenset[uuid.UUID] | None, owner_id: uuid.UUID | None, status: str | None
    ) -> list[sa.ColumnElement[bool]]:
        clauses: list[sa.ColumnElement[bool]] = []
        if owners is not None:
            clauses.append(expense_reports.c.owner_id.in_(owners))
        if owner_id is not None:
            clauses.append(expense_reports.c.owner_id == owner_id)
        if status is not None:
            clauses.append(expense_reports.c.status == status)
        return clauses

    def reports_statement(
        self, owners: frozenset[uuid.UUID] | None, owner_id: uuid.UUID | None, status: str | None
    ) -> sa.Select[Any]:
        """Reports of ``owners`` (None: everyone's), filtered by owner and status."""
        return sa.select(expense_reports).where(*self._where(owners, owner_id, status))

    def approved_owners_statement(
        self, owners: frozenset[uuid.UUID] | None, owner_id: uuid.UUID | None
    ) -> sa.Select[Any]:
        """The distinct owners of approved reports (the totals page over them)."""
        return (
            sa.select(expense_reports.c.owner_id)
            .where(*self._where(owners, owner_id, "approved"))
            .group_by(expense_reports.c.owner_id)
        )

    async def approved_lines(self, owner_ids: Iterable[uuid.UUID]) -> list[Any]:
        """(owner, lines) of every approved report of these owners."""
        ids = list(owner_ids)
        if not ids:
            return []
        statement = sa.select(expense_reports.c.owner_id, expense_reports.c.lines).where(
            expense_reports.c.owner_id.in_(ids), expense_reports.c.status == "approved"
        )
        return list((await self.session.execute(statement)).all())


class ReceiptRepository:
    """Named queries over expense receipts (the files of expense lines)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def insert(self, values: dict[str, Any]) -> Any:
        """Record a receipt; returns its row."""
        result = await self.session.execute(
            sa.insert(expense_receipts).values(**values).returning(expense_receipts)
        )
        return result.one()

    def live_statement(self, owners: frozenset[uuid.UUID] | None) -> sa.Select[Any]:
        """Receipts not deleted, of ``owners`` (None: everyone's)."""
        statement = sa.select(expense_receipts).where(expense_receipts.c.deleted_at.is_(None))
        if owners is not None:
            statement = statement.where(expense_receipts.c.owner_id.in_(owners))
        return statement

    async def get(self, receipt_id: uuid.UUID, *, lock: bool = False) -> Any:
        """One receipt not deleted (None otherwise); ``lock``: FOR UPDATE."""
        statement = self.live_statement(None).where(expense_receipts.c.id == receipt_id)
        if lock:
            statement = statement.with_for_update()
        return (await self.session.execute(statement)).first()

    async def exists(self, receipt_id: uuid.UUID) -> bool:
        """Is there a receipt with this id, deleted or not (an id is never used twice)?"""
        statement = sa.select(expense_receipts.c.id).where(expense_receipts.c.id == receipt_id)
        return (await self.session.execute(statement)).first() is not None

    async def owners_of(self, receipt_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
        """The owner of each of these receipts that is not deleted, read FOR SHARE on
        PostgreSQL: a deletion waits for the transaction linking it, and one that committed
        first is seen (the row no longer matches)."""
        ids = list(receipt_ids)
        if not ids:
            return {}
        statement = sa.select(expense_receipts.c.id, expense_receipts.c.owner_id).where(
            expense_receipts.c.id.in_(ids), expense_receipts.c.deleted_at.is_(None)
        )
        if self.session.get_bind().dialect.name == "postgresql":
            statement = statement.with_for_update(read=True)
        return {row.id: row.owner_id for row in await self.session.execute(statement)}

    async def mark_deleted(self, receipt_id: uuid.UUID, values: dict[str, Any]) -> None:
        """Mark a receipt deleted (``values``: who and when)."""
        await self.session.execute(
            sa.update(expense_receipts).where(expense_receipts.c.id == receipt_id).values(**values)
        )

    async def reports_of(self, owner_id: uuid.UUID) -> list[Any]:
        """(id, status, lines) of every report of one owner (the only ones that may link the
        owner's receipts)."""
        statement = sa.select(
            expense_reports.c.id, expense_reports.c.status, expense_reports.c.lines
        ).where(expense_reports.c.owner_id == owner_id)
        return list((await self.session.execute(statement)).all())
