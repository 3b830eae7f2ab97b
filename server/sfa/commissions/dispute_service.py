"""Disputes of statement lines: the rep opens one per line of a closed statement with a reason
code; the rep's manager (or an admin) accepts it, posting an adjustment line to the rep's
current open period, or refuses it with a reason. Every step is kept on the dispute row."""

from __future__ import annotations

import decimal
import uuid
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from protocol.errors import INVALID_STATE, PERIOD_CLOSED
from server.db import new_id, utcnow
from server.errors import Conflict, Forbidden, NotFound, ValidationFailed
from server.pagination import Page, fetch_page
from server.sfa.area_service import AreaService
from server.sfa.commissions.events import clock_for, period_in
from server.sfa.commissions.repository import CommissionRepository, disputes
from server.sfa.commissions.schemas import (
    DisputeAccept,
    DisputeInput,
    DisputeRecord,
    DisputeRefuse,
)
from server.sfa.inputs import check_decimal
from server.sfa.scopes import managed_users


def dispute_record(row: Any) -> DisputeRecord:
    """A stored dispute as its API record."""
    return msgspec.convert(row._mapping, DisputeRecord, from_attributes=True, strict=False)


class DisputeService(AreaService):
    """Opening, reading and resolving disputes."""

    async def open_dispute(self, statement_id: uuid.UUID, data: DisputeInput) -> DisputeRecord:
        """The statement's rep disputes one of its lines (the statement must be closed)."""
        async with self.db.transaction() as session:
            repo = CommissionRepository(session)
            row = await repo.statement_row(statement_id, lock=True)
            seen = await managed_users(session, self.principal) if row is not None else None
            if row is None or (seen is not None and row.rep_id not in seen):
                raise NotFound(f"statement {statement_id} not found", field="id")
            if row.rep_id != self.principal.user_id:
                raise Forbidden("only the statement's rep disputes its lines", field="id")
            if row.status == "open":
                raise Conflict(
                    "an open statement is still being computed: dispute it once closed",
                    field="status",
                    code=INVALID_STATE,
                    data={"status": row.status},
                )
            if data.line_no > len(row.lines):
                raise ValidationFailed("the statement has no such line", field="line_no")
            if await repo.open_dispute_of(statement_id, data.line_no) is not None:
                raise Conflict("this line already has an open dispute", field="line_no")
            dispute_id = new_id()
            await repo.insert_dispute(
                {
                    "id": dispute_id,
                    "statement_id": statement_id,
                    "line_no": data.line_no,
                    "rep_id": row.rep_id,
                    "reason": data.reason,
                    "note": data.note,
                    "status": "open",
                    "created_at": utcnow(),
                }
            )
            return dispute_record(await repo.dispute_row(dispute_id))

    async def list_disputes(
        self, status: str | None, *, cursor: str | None, limit: int | None
    ) -> Page[DisputeRecord]:
        """One page of the disputes the caller may see, ordered by id."""
        size = self._limit(limit)
        async with self.db.reading() as session:
            seen = await managed_users(session, self.principal)
            statement = CommissionRepository(session).disputes_statement(seen, status)
            rows, nxt = await fetch_page(
                session, statement, disputes.c.id, cursor=cursor, limit=size
            )
        return Page(items=[dispute_record(row) for row in rows], next_cursor=nxt)

    async def get_dispute(self, dispute_id: uuid.UUID) -> DisputeRecord:
        """One dispute (404 when not the caller's to see)."""
        async with self.db.reading() as session:
            return dispute_record(await self._visible(session, dispute_id))

    async def _visible(
        self, session: AsyncSession, dispute_id: uuid.UUID, *, lock: bool = False
    ) -> Any:
        row = await CommissionRepository(session).dispute_row(dispute_id, lock=lock)
        seen = await managed_users(session, self.principal) if row is not None else None
        if row is None or (seen is not None and row.rep_id not in seen):
            raise NotFound(f"dispute {dispute_id} not found", field="id")
        return row

    async def _resolvable(self, session: AsyncSession, dispute_id: uuid.UUID) -> Any:
        row = await self._visible(session, dispute_id, lock=True)
        if row.rep_id == self.principal.user_id:
            raise Forbidden("a dispute is resolved by the rep's manager", field="id")
        if row.status != "open":
            raise Conflict(
                "the dispute is already resolved",
                field="status",
                code=INVALID_STATE,
                data={"status": row.status},
            )
        return row

    async def accept(self, dispute_id: uuid.UUID, data: DisputeAccept) -> DisputeRecord:
        """Accept: an adjustment line of ``data.adjustment`` goes to the rep's current period
        (its open statement shows it on the next computation)."""
        check_decimal(data.adjustment, "adjustment")
        if data.adjustment == 0:
            raise ValidationFailed(
                "an accepted dispute adjusts by a non-zero amount", field="adjustment"
            )
        now = utcnow()
        period = period_in(clock_for(self.settings).day_of(now), self.settings.commission_period)
        async with self.db.transaction() as session:
            repo = CommissionRepository(session)
            row = await self._resolvable(session, dispute_id)
            current = await repo.statements_of(period, [row.rep_id])
            if current and current[0].status != "open":
                raise Conflict(
                    f"the rep's period {period} is closed", field="adjustment", code=PERIOD_CLOSED
                )
            await repo.resolve_dispute(
                dispute_id,
                {
                    "status": "accepted",
                    "adjustment": decimal.Decimal(data.adjustment),
                    "adjustment_period": period,
                    "resolution_note": data.note,
                    "resolved_by": self.principal.user_id,
                    "resolved_at": now,
                },
            )
            return dispute_record(await repo.dispute_row(dispute_id))

    async def refuse(self, dispute_id: uuid.UUID, data: DisputeRefuse) -> DisputeRecord:
        """Refuse, with the reason the rep reads."""
        async with self.db.transaction() as session:
            repo = CommissionRepository(session)
            await self._resolvable(session, dispute_id)
            await repo.resolve_dispute(
                dispute_id,
                {
                    "status": "refused",
                    "resolution_note": data.note,
                    "resolved_by": self.principal.user_id,
                    "resolved_at": utcnow(),
                },
            )
            return dispute_record(await repo.dispute_row(dispute_id))
