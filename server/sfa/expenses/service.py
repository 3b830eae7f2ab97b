"""Expense reports over REST: reps read their own, managers those of the reps of their
territory subtree (and their direct reports), admins all; managers and admins approve or
refuse a submitted report with a note, written through the change writer so it syncs back."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from protocol.entities.expenses import ExpenseStatus
from protocol.errors import INVALID_STATE
from server.db import utcnow
from server.errors import Conflict, NotFound, ValidationFailed
from server.pagination import Page, fetch_page
from server.sfa.area_service import AreaService
from server.sfa.expenses.repository import ExpenseRepository, expense_reports
from server.sfa.expenses.schemas import CurrencyTotal, ExpenseDecision, ExpenseRecord, RepTotals
from server.sfa.scopes import people_seen_by

ENTITY = "expense"


def expense_record(row: Any) -> ExpenseRecord:
    """A stored report (row or wire dict) as its record."""
    mapping = row._mapping if hasattr(row, "_mapping") else row
    values = {k: mapping[k] for k in ExpenseRecord.__struct_fields__}
    return msgspec.convert(values, ExpenseRecord, strict=False)


class ExpenseService(AreaService):
    """Reads, decisions and approved totals of expense reports."""

    async def list_reports(
        self,
        owner_id: uuid.UUID | None,
        status: str | None,
        *,
        cursor: str | None,
        limit: int | None,
    ) -> Page[ExpenseRecord]:
        """One page of the reports the caller may see, ordered by id."""
        size = self._limit(limit)
        async with self.db.reading() as session:
            owners = await self._owners(session)
            statement = ExpenseRepository(session).reports_statement(owners, owner_id, status)
            rows, nxt = await fetch_page(
                session, statement, expense_reports.c.id, cursor=cursor, limit=size
            )
        return Page(items=[expense_record(r) for r in rows], next_cursor=nxt)

    async def get_report(self, report_id: uuid.UUID) -> ExpenseRecord:
        """One report (404 when it is not the caller's to see)."""
        async with self.db.reading() as session:
            await self._visible(session, report_id)
            return expense_record(await self.writer.load(session, ENTITY, report_id))

    async def decide(
        self,
        report_id: uuid.UUID,
        decision: ExpenseDecision,
        *,
        approve: bool,
        expected: frozenset[int] | None,
    ) -> ExpenseRecord:
        """Approve or refuse a submitted report of a rep the caller manages."""
        async with self.db.transaction() as session:
            await self._visible(session, report_id)
            await self.writer.check_version(session, ENTITY, report_id, expected)
            current = await self.writer.load(session, ENTITY, report_id)
            if current.get("status") != ExpenseStatus.SUBMITTED:
                raise Conflict(
                    "the expense report is not waiting for a decision",
                    field="status",
                    code=INVALID_STATE,
                    data={"status": current.get("status")},
                )
            status = ExpenseStatus.APPROVED if approve else ExpenseStatus.REFUSED
            changes = {
                "status": status.value,
                "decided_by": self.principal.user_id,
                "decided_at": utcnow(),
                "decision_note": decision.note,
            }
            record = await self.writer.update(
                session, ENTITY, report_id, changes, principal=self.principal
            )
        return expense_record(record)

    async def approved_totals(
        self,
        since: dt.date,
        until: dt.date,
        owner_id: uuid.UUID | None,
        *,
        cursor: str | None,
        limit: int | None,
    ) -> Page[RepTotals]:
        """Per rep (paged by rep id), the approved amounts per currency of expenses dated in
        ``since..until``."""
        if since > until:
            raise ValidationFailed("since is after until", field="since")
        size = self._limit(limit)
        async with self.db.reading() as session:
            repo = ExpenseRepository(session)
            owners = await self._owners(session)
            statement = repo.approved_owners_statement(owners, owner_id)
            rows, nxt = await fetch_page(
                session, statement, expense_reports.c.owner_id, cursor=cursor, limit=size
            )
            reports = await repo.approved_lines([row.owner_id for row in rows])
        sums: dict[uuid.UUID, dict[str, list[Any]]] = {row.owner_id: {} for row in rows}
        counted: dict[uuid.UUID, int] = dict.fromkeys(sums, 0)
        for owner, lines in reports:
            inside = [line for line in lines or [] if since <= _date(line["date"]) <= until]
            counted[owner] += bool(inside)
            for line in inside:
                figure = sums[owner].setdefault(line["currency"], [decimal.Decimal(0), 0])
                figure[0] += decimal.Decimal(str(line["amount"]))
                figure[1] += 1
        return Page(
            items=[
                RepTotals(
                    owner_id=owner,
                    reports=counted[owner],
                    totals=[
                        CurrencyTotal(currency=currency, amount=amount, lines=n)
                        for currency, (amount, n) in sorted(by_currency.items())
                    ],
                )
                for owner, by_currency in sums.items()
            ],
            next_cursor=nxt,
        )

    async def _owners(self, session: AsyncSession) -> frozenset[uuid.UUID] | None:
        """The reps whose reports the caller sees (None: everyone's, for admins)."""
        return await people_seen_by(session, self.principal)

    async def _visible(self, session: AsyncSession, report_id: uuid.UUID) -> None:
        owner = await ExpenseRepository(session).owner_of(report_id)
        owners = await self._owners(session) if owner is not None else None
        if owner is None or (owners is not None and owner not in owners):
            raise NotFound(f"expense report {report_id} not found", field="id")


def _date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
