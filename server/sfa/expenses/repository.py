"""Queries of expense reports and of the reps a manager decides for (SQLAlchemy Core)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.models import User
from server.sfa.expenses.models import ExpenseReport
from server.sfa.territories.models import TerritoryMember

expense_reports = cast(sa.Table, ExpenseReport.__table__)
_members = cast(sa.Table, TerritoryMember.__table__)
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
