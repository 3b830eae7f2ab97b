"""Visit plans by value tier: ``outpost plan-visits`` plans the coming period's visits of every
rep's accounts (``rules.rhythm``), through the change writer so devices receive them."""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from collections.abc import Callable

import msgspec

from protocol.entities.visits import VisitStatus
from rules.rhythm import latest, plan_dates, rhythm_of
from server.db import Database, new_id, utcnow
from server.errors import ValidationFailed
from server.settings import Settings
from server.sfa.visits.plan_repository import accounts_to_plan, active_reps, lock_rep
from server.sync.writer import ChangeWriter

MAX_PLAN_DAYS = 366


class PlanReport(msgspec.Struct, kw_only=True):
    """What a planning run did."""

    reps: int = 0
    accounts: int = 0
    planned: int = 0


def local_day(moment: dt.datetime | None, zone: zoneinfo.ZoneInfo) -> dt.date | None:
    """The calendar day of ``moment`` in ``zone``."""
    return moment.astimezone(zone).date() if moment is not None else None


class VisitPlanner:
    """Plans visits by the rhythm of each account's value tier, never twice."""

    def __init__(self, db: Database, writer: ChangeWriter, settings: Settings) -> None:
        self.db, self.writer, self.settings = db, writer, settings

    async def plan(
        self,
        days: int,
        start: dt.date | None = None,
        progress: Callable[[uuid.UUID, int], None] | None = None,
    ) -> PlanReport:
        """Plan ``days`` days from ``start`` (default: each rep's today) for every active rep,
        one transaction per rep; running it again plans nothing new."""
        if not 1 <= days <= MAX_PLAN_DAYS:
            raise ValidationFailed(f"days must be 1..{MAX_PLAN_DAYS}", field="days")
        if not 0 <= self.settings.visit_plan_hour <= 23:
            raise ValidationFailed("the plan hour must be 0..23", field="visit_plan_hour")
        report = PlanReport()
        async with self.db.reading() as session:
            reps = (await session.execute(active_reps())).all()
        for rep in reps:
            planned, accounts = await self._plan_rep(rep.id, rep.timezone, days, start)
            report.reps += 1
            report.accounts += accounts
            report.planned += planned
            if progress is not None:
                progress(rep.id, planned)
        return report

    async def _plan_rep(
        self, rep_id: uuid.UUID, timezone: str, days: int, start: dt.date | None
    ) -> tuple[int, int]:
        zone = zoneinfo.ZoneInfo(timezone)
        first = start or utcnow().astimezone(zone).date()
        last = first + dt.timedelta(days=days - 1)
        at = dt.time(self.settings.visit_plan_hour)
        rhythms = self.settings.visit_rhythms
        planned = 0
        async with self.db.transaction() as session:
            await session.execute(lock_rep(rep_id))
            rows = (await session.execute(accounts_to_plan(rep_id))).all()
            for row in rows:
                anchor = latest(
                    local_day(row.last_visit_at, zone), local_day(row.last_planned_at, zone)
                )
                for day in plan_dates(anchor, rhythm_of(str(row.value_tier), rhythms), first, last):
                    values = {
                        "id": new_id(),
                        "account_id": row.id,
                        "rep_id": rep_id,
                        "status": VisitStatus.PLANNED,
                        "planned_at": dt.datetime.combine(day, at, tzinfo=zone).astimezone(dt.UTC),
                    }
                    await self.writer.create(session, "visit", values, principal=None)
                    planned += 1
        return planned, len(rows)
