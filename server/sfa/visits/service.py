"""Read-only visit queries for managers; devices write visits through sync."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import msgspec

from protocol import errors as codes
from protocol.entities.fields import AwareDateTime, Reason
from protocol.entities.visits import Approval
from rules.geo import is_valid_position
from rules.rhythm import days_overdue, due_on, rhythm_of
from rules.routes import plan_day
from server.db import utcnow
from server.errors import Conflict, NotFound, ValidationFailed
from server.notifications.sync_push import request_sync
from server.pagination import Page
from server.sfa.area_service import AreaService
from server.sfa.scopes import visibility
from server.sfa.visits.plan_repository import visible_accounts_with_last_visit
from server.sfa.visits.repository import (
    VisitFilters,
    day_bounds,
    filtered_visits,
    planned_visits_of_day,
    rep_timezone,
    visible_visits,
    visits,
)
from server.sfa.visits.route import DayRoute, RouteStop
from server.sfa.visits.sync import VisitRecord


def visit_record(row: Any) -> VisitRecord:
    """A visits row as its wire Struct."""
    mapping = row._mapping
    return msgspec.convert(
        {name: mapping[name] for name in VisitRecord.__struct_fields__}, VisitRecord
    )


class OverdueAccount(msgspec.Struct, kw_only=True):
    """An account past due for a visit by its tier's rhythm (``rules.rhythm``)."""

    account_id: uuid.UUID
    name: str
    value_tier: str
    owner_id: uuid.UUID
    last_visit_at: AwareDateTime | None
    due_on: dt.date
    days_overdue: int


class Decision(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A manager's approval or refusal of a make-up check-in, with an optional note."""

    note: Reason = ""


class VisitService(AreaService):
    """Lists and reads the visits a manager may see; decides make-up check-ins."""

    async def list_visits(
        self, filters: VisitFilters, *, cursor: str | None, limit: int | None
    ) -> Page[VisitRecord]:
        """One page of the visible visits matching ``filters``, ordered by id."""
        if (
            filters.planned_from is not None
            and filters.planned_to is not None
            and filters.planned_to <= filters.planned_from
        ):
            raise ValidationFailed("planned_to must be after planned_from", field="planned_to")
        for name in ("planned_from", "planned_to"):
            value = getattr(filters, name)
            if value is not None and value.tzinfo is None:
                raise ValidationFailed(f"{name} needs a UTC offset", field=name)
        return await self._visible_page(
            lambda _, seen: filtered_visits(seen, filters),
            visits.c.id,
            visit_record,
            cursor=cursor,
            limit=limit,
        )

    async def get_visit(self, visit_id: uuid.UUID) -> VisitRecord:
        """One visible visit; ``not_found`` when missing or outside the caller's scope."""
        async with self.db.reading() as session:
            seen = await visibility(session, self.principal)
            row = (
                await session.execute(visible_visits(seen).where(visits.c.id == visit_id))
            ).first()
        if row is None:
            raise NotFound(f"visit {visit_id} not found", field="visit_id")
        return visit_record(row)

    async def day_route(
        self, rep_id: uuid.UUID, day: dt.date, start: tuple[float | None, float | None]
    ) -> DayRoute:
        """The rep's planned visits of the day (in the rep's time zone) in the suggested order
        (``rules.routes``), from ``start`` or, without one, the first planned visit's account."""
        latitude, longitude = start
        if (latitude is None) != (longitude is None):
            missing = "start_longitude" if longitude is None else "start_latitude"
            raise ValidationFailed("give both start_latitude and start_longitude", field=missing)
        position = None
        if latitude is not None and longitude is not None:
            if not is_valid_position(latitude, longitude):
                field = "start_latitude" if not -90 <= latitude <= 90 else "start_longitude"
                raise ValidationFailed("the start is not a position on Earth", field=field)
            position = (latitude, longitude)
        async with self.db.reading() as session:
            seen = await visibility(session, self.principal)
            zone = (await session.execute(rep_timezone(rep_id))).scalar_one_or_none()
            if zone is None:
                raise NotFound(f"user {rep_id} not found", field="rep_id")
            start_at, end_at = day_bounds(day, zone)
            statement = planned_visits_of_day(seen, rep_id, start_at, end_at)
            rows = (await session.execute(statement)).all()
        located = {
            str(row.id): (row.latitude, row.longitude)
            for row in rows
            if row.latitude is not None and row.longitude is not None
        }
        plan = plan_day(position, [(str(row.id), located.get(str(row.id))) for row in rows])
        by_id = {str(row.id): row for row in rows}

        def stop(key: str, distance: float | None) -> RouteStop:
            row = by_id[key]
            return RouteStop(
                visit_id=row.id,
                account_id=row.account_id,
                account_name=row.account_name,
                planned_at=row.planned_at,
                latitude=row.latitude,
                longitude=row.longitude,
                distance_m=distance,
            )

        stops = [stop(leg.key, leg.distance_m) for leg in plan.route.legs]
        stops += [stop(key, None) for key in plan.unlocated]
        return DayRoute(
            rep_id=rep_id,
            date=day,
            start_latitude=plan.start[0] if plan.start else None,
            start_longitude=plan.start[1] if plan.start else None,
            total_m=plan.route.total_m,
            stops=stops,
        )

    async def decide(self, visit_id: uuid.UUID, approve: bool, decision: Decision) -> VisitRecord:
        """Approve or refuse a pending make-up check-in (``invalid_state`` when none is pending);
        the decision is a change of the visit, so it syncs back to the rep's devices."""
        async with self.db.transaction() as session:
            seen = await visibility(session, self.principal)
            statement = visible_visits(seen).where(visits.c.id == visit_id)
            row = (await session.execute(statement.with_for_update(of=visits))).first()
            if row is None:
                raise NotFound(f"visit {visit_id} not found", field="visit_id")
            if row.approval != Approval.PENDING:
                raise Conflict(
                    f"the visit has no make-up check-in waiting for a decision ({row.approval})",
                    field="approval",
                    code=codes.INVALID_STATE,
                    data={"approval": str(row.approval)},
                )
            changes = {
                "approval": Approval.APPROVED if approve else Approval.REFUSED,
                "approval_note": decision.note,
                "decided_by": self.principal.user_id,
                "decided_at": utcnow(),
            }
            record = await self.writer.update(
                session, "visit", visit_id, changes, principal=self.principal
            )
            await request_sync(session, [row.rep_id])  # the rep's phones: sync now (silent)
        return msgspec.convert(record, VisitRecord)

    async def overdue_accounts(
        self, rep_id: uuid.UUID | None, today: dt.date | None, limit: int | None
    ) -> list[OverdueAccount]:
        """Visible owned accounts past due for a visit on ``today`` (default: today, UTC), the
        most overdue first (never visited ones first of all); at most ``limit``."""
        size = self._limit(limit)
        day = today or utcnow().date()
        rhythms = self.settings.visit_rhythms
        async with self.db.reading() as session:
            seen = await visibility(session, self.principal)
            rows = (await session.execute(visible_accounts_with_last_visit(seen, rep_id))).all()
        found: list[tuple[int, OverdueAccount]] = []
        for row in rows:
            last = row.last_visit_at.date() if row.last_visit_at is not None else None
            rhythm = rhythm_of(str(row.value_tier), rhythms)
            late = days_overdue(last, rhythm, day)
            due = due_on(last, rhythm, day)
            if late is None or due is None:
                continue
            rank = -1 if last is None else late  # never visited: first
            found.append(
                (
                    rank,
                    OverdueAccount(
                        account_id=row.id,
                        name=row.name,
                        value_tier=str(row.value_tier),
                        owner_id=row.owner_id,
                        last_visit_at=row.last_visit_at,
                        due_on=due,
                        days_overdue=late,
                    ),
                )
            )
        found.sort(key=lambda pair: (pair[0] != -1, -pair[0], str(pair[1].account_id)))
        return [account for _rank, account in found[:size]]
