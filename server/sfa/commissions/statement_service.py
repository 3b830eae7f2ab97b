"""Commission statements over REST and the CLI: computed from the central records, recomputed
while open, closed (locked) at the end of the period, approved by the rep's manager or an admin.
Reps see their own; managers their team's (``managed_users``); admins everyone's."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from protocol.errors import INVALID_STATE
from rules.commission_plans import period_bounds
from server.db import Database, utcnow
from server.errors import Conflict, Forbidden, NotFound, ValidationFailed
from server.pagination import Page, fetch_page
from server.settings import Settings
from server.sfa.area_service import AreaService
from server.sfa.commissions.compute import OPEN, StatementComputer
from server.sfa.commissions.events import clock_for, period_in, reader_for
from server.sfa.commissions.repository import CommissionRepository, statements
from server.sfa.commissions.schemas import StatementRecord
from server.sfa.scopes import managed_users

Progress = Callable[[str], None]


def statement_record(row: Any) -> StatementRecord:
    """A stored statement as its API record."""
    return msgspec.convert(row._mapping, StatementRecord, from_attributes=True, strict=False)


def check_period(period: str, length: str) -> str:
    """``period`` when it names one of the configured length (``2026-11`` or ``2026-Q4``)."""
    quarter = length == "quarter"
    try:
        period_bounds(period)
        ok = len(period) == 7 and (period[5] == "Q") == quarter
    except ValueError:
        ok = False
    if not ok:
        example = "2026-Q4" if quarter else "2026-11"
        raise ValidationFailed(f"period must look like {example}", field="period")
    return period


class StatementService(AreaService):
    """Reads, computation, closing and approval of statements."""

    async def _seen(self, session: AsyncSession) -> frozenset[uuid.UUID] | None:
        return await managed_users(session, self.principal)

    async def refresh(self, period: str, rep_ids: list[uuid.UUID] | None) -> int:
        """``refresh_statements`` of this request's database and settings."""
        return await refresh_statements(self.db, self.settings, period, rep_ids)

    async def compute(self, period: str, rep_id: uuid.UUID | None) -> Page[StatementRecord]:
        """``POST /commissions/statements/compute``: refresh the caller's scope's statements of
        a period (one rep's when given) and return them (the first page)."""
        check_period(period, self.settings.commission_period)
        async with self.db.reading() as session:
            seen = await self._seen(session)
        if rep_id is not None and seen is not None and rep_id not in seen:
            raise NotFound(f"rep {rep_id} not found", field="rep_id")
        targets = [rep_id] if rep_id is not None else (sorted(seen) if seen is not None else None)
        await self.refresh(period, targets)
        return await self.list_statements(rep_id, period, cursor=None, limit=None)

    async def list_statements(
        self,
        rep_id: uuid.UUID | None,
        period: str | None,
        *,
        cursor: str | None,
        limit: int | None,
    ) -> Page[StatementRecord]:
        """One page of the stored statements the caller may see, ordered by id; the open ones
        of the page are recomputed first."""
        size = self._limit(limit)
        async with self.db.reading() as session:
            seen = await self._seen(session)
            statement = CommissionRepository(session).statements_statement(seen, rep_id, period)
            rows, nxt = await fetch_page(
                session, statement, statements.c.id, cursor=cursor, limit=size
            )
        stale: dict[str, list[uuid.UUID]] = {}
        for row in rows:
            if row.status == OPEN:
                stale.setdefault(row.period, []).append(row.rep_id)
        if not stale:
            return Page(items=[statement_record(r) for r in rows], next_cursor=nxt)
        for stale_period, reps in stale.items():
            await self.refresh(stale_period, reps)
        async with self.db.reading() as session:
            repo = CommissionRepository(session)
            fresh = [await repo.statement_row(row.id) for row in rows]
        return Page(items=[statement_record(r) for r in fresh if r is not None], next_cursor=nxt)

    async def get_statement(self, statement_id: uuid.UUID) -> StatementRecord:
        """One statement (recomputed when open); 404 when it is not the caller's to see."""
        async with self.db.reading() as session:
            row = await self._visible(session, statement_id)
        if row.status == OPEN:
            await self.refresh(row.period, [row.rep_id])
            async with self.db.reading() as session:
                row = await CommissionRepository(session).statement_row(statement_id)
        return statement_record(row)

    async def _visible(
        self, session: AsyncSession, statement_id: uuid.UUID, *, lock: bool = False
    ) -> Any:
        row = await CommissionRepository(session).statement_row(statement_id, lock=lock)
        seen = await self._seen(session) if row is not None else None
        if row is None or (seen is not None and row.rep_id not in seen):
            raise NotFound(f"statement {statement_id} not found", field="id")
        return row

    async def approve(self, statement_id: uuid.UUID) -> StatementRecord:
        """A closed statement approved by the rep's manager (or an admin); never one's own."""
        async with self.db.transaction() as session:
            row = await self._visible(session, statement_id, lock=True)
            if row.rep_id == self.principal.user_id:
                raise Forbidden("a statement is approved by someone else", field="id")
            if row.status != "closed":
                raise Conflict(
                    "only a closed statement is approved",
                    field="status",
                    code=INVALID_STATE,
                    data={"status": row.status},
                )
            repo = CommissionRepository(session)
            await repo.update_statement(
                statement_id,
                {
                    "status": "approved",
                    "approved_by": self.principal.user_id,
                    "approved_at": utcnow(),
                },
            )
            return statement_record(await repo.statement_row(statement_id))


async def refresh_statements(
    db: Database, settings: Settings, period: str, rep_ids: list[uuid.UUID] | None
) -> int:
    """Compute and store the open statements of ``period`` (for these reps, or all with a
    plan); closed ones are left as they are. Returns how many were written."""
    async with db.transaction() as session:
        repo = CommissionRepository(session)
        computer = StatementComputer(repo, reader_for(repo, settings))
        computed = await computer.compute(period, rep_ids)
        return await computer.store(period, computed)


def previous_period(settings: Settings, now: dt.datetime) -> str:
    """The period before the one ``now`` falls in (company time zone)."""
    length = settings.commission_period
    first, _ = period_bounds(period_in(clock_for(settings).day_of(now), length))
    return period_in(first - dt.timedelta(days=1), length)


async def close_period(
    db: Database,
    settings: Settings,
    period: str,
    now: dt.datetime,
    progress: Progress | None = None,
) -> int:
    """Compute every statement of an ended period and close them. Idempotent: a period that
    already has closed statements is not computed again (late records never enter it), and a
    closed statement stays as it is. Returns how many were closed now."""
    check_period(period, settings.commission_period)
    _, after = period_bounds(period)
    if now < clock_for(settings).start_of(after):
        raise Conflict(f"the period {period} has not ended", field="period", code=INVALID_STATE)
    say = progress or (lambda _: None)
    async with db.reading() as session:
        stored = await CommissionRepository(session).statements_of(period)
    if any(row.status != OPEN for row in stored):
        say(f"{period} is already closed")
    else:
        say(f"computing the statements of {period}")
        written = await refresh_statements(db, settings, period, None)
        say(f"{written} statements computed or refreshed")
    async with db.transaction() as session:
        repo = CommissionRepository(session)
        rows = [row for row in await repo.statements_of(period, lock=True) if row.status == OPEN]
        closed_at = utcnow()
        for index, row in enumerate(rows, 1):
            await repo.update_statement(row.id, {"status": "closed", "closed_at": closed_at})
            if index % 100 == 0:
                say(f"closed {index}/{len(rows)}")
    say(f"{len(rows)} statements of {period} closed")
    return len(rows)
