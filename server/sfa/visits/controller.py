"""``/visits``: read-only visit lists for managers (visit compliance); reps sync instead."""

from __future__ import annotations

import datetime as dt
import uuid

from litestar import Controller, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody

from server.auth.guards import managers_only
from server.pagination import Page
from server.sfa.visits.models import Approval, VisitStatus
from server.sfa.visits.repository import VisitFilters
from server.sfa.visits.route import DayRoute
from server.sfa.visits.service import Decision, OverdueAccount, VisitService
from server.sfa.visits.sync import VisitRecord
from server.sync.registry import Principal


def provide_visit_service(state: State, principal: NamedDependency[Principal]) -> VisitService:
    """The service for one request, wired from the app state."""
    return VisitService(state.db, state.writer, principal, state.settings)


class VisitController(Controller):
    """Visits of the accounts the caller may see."""

    path = "/visits"
    tags = ["visits"]
    guards = [managers_only]
    dependencies = {"service": Provide(provide_visit_service, sync_to_thread=False)}

    @get("/")
    async def list_visits(
        self,
        service: NamedDependency[VisitService],
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
        rep_id: FromQuery[uuid.UUID | None] = None,
        account_id: FromQuery[uuid.UUID | None] = None,
        status: FromQuery[VisitStatus | None] = None,
        flagged: FromQuery[bool | None] = None,
        approval: FromQuery[Approval | None] = None,
        planned_from: FromQuery[dt.datetime | None] = None,
        planned_to: FromQuery[dt.datetime | None] = None,
    ) -> Page[VisitRecord]:
        """Visible visits, keyset-paginated by id; ``flagged`` finds check-ins not certainly
        inside the radius, ``approval=pending`` the make-up check-ins waiting for a decision."""
        filters = VisitFilters(
            rep_id=rep_id,
            account_id=account_id,
            status=status,
            flagged=flagged,
            approval=approval,
            planned_from=planned_from,
            planned_to=planned_to,
        )
        return await service.list_visits(filters, cursor=cursor, limit=limit)

    @get("/route")
    async def day_route(
        self,
        service: NamedDependency[VisitService],
        rep_id: FromQuery[uuid.UUID],
        date: FromQuery[dt.date],
        start_latitude: FromQuery[float | None] = None,
        start_longitude: FromQuery[float | None] = None,
    ) -> DayRoute:
        """The rep's planned visits of the day ``date`` (their time zone) in the suggested
        order, each with the distance from the previous point; reps compute it with the SDK."""
        return await service.day_route(rep_id, date, (start_latitude, start_longitude))

    @get("/overdue")
    async def overdue_accounts(
        self,
        service: NamedDependency[VisitService],
        rep_id: FromQuery[uuid.UUID | None] = None,
        today: FromQuery[dt.date | None] = None,
        limit: FromQuery[int | None] = None,
    ) -> list[OverdueAccount]:
        """Accounts past due for a visit by their value tier's rhythm, most overdue first."""
        return await service.overdue_accounts(rep_id, today, limit)

    @get("/{visit_id:uuid}")
    async def get_visit(
        self, service: NamedDependency[VisitService], visit_id: FromPath[uuid.UUID]
    ) -> VisitRecord:
        """One visit."""
        return await service.get_visit(visit_id)

    @post("/{visit_id:uuid}/approve", status_code=200)
    async def approve_makeup(
        self,
        service: NamedDependency[VisitService],
        visit_id: FromPath[uuid.UUID],
        data: JSONBody[Decision],
    ) -> VisitRecord:
        """Approve a pending make-up check-in: the visit counts from now on."""
        return await service.decide(visit_id, True, data)

    @post("/{visit_id:uuid}/refuse", status_code=200)
    async def refuse_makeup(
        self,
        service: NamedDependency[VisitService],
        visit_id: FromPath[uuid.UUID],
        data: JSONBody[Decision],
    ) -> VisitRecord:
        """Refuse a pending make-up check-in: the visit does not count."""
        return await service.decide(visit_id, False, data)
