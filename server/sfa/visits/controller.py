"""``/visits``: read-only visit lists for managers (visit compliance); reps sync instead."""

from __future__ import annotations

import datetime as dt
import uuid

from litestar import Controller, get
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery

from server.auth.guards import managers_only
from server.pagination import Page
from server.sfa.visits.models import VisitStatus
from server.sfa.visits.repository import VisitFilters
from server.sfa.visits.route import DayRoute
from server.sfa.visits.service import VisitService
from server.sfa.visits.sync import VisitRecord
from server.sync.registry import Principal


def provide_visit_service(state: State, principal: NamedDependency[Principal]) -> VisitService:
    """The service for one request, wired from the app state."""
    return VisitService(state.db, principal, state.settings)


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
        planned_from: FromQuery[dt.datetime | None] = None,
        planned_to: FromQuery[dt.datetime | None] = None,
    ) -> Page[VisitRecord]:
        """Visible visits, keyset-paginated by id; ``flagged`` finds far check-ins."""
        filters = VisitFilters(
            rep_id=rep_id,
            account_id=account_id,
            status=status,
            flagged=flagged,
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

    @get("/{visit_id:uuid}")
    async def get_visit(
        self, service: NamedDependency[VisitService], visit_id: FromPath[uuid.UUID]
    ) -> VisitRecord:
        """One visit."""
        return await service.get_visit(visit_id)
