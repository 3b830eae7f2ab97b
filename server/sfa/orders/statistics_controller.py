"""``GET /orders/statistics``: grouped order figures for managers (their subtree) and admins."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, get
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromQuery, QueryParameter

from protocol.entities.documents import OrderStatus
from server.auth.guards import managers_only
from server.sfa.orders.statistics_repository import GroupBy, Interval
from server.sfa.orders.statistics_service import OrderStatisticsService, StatsPage, StatsRequest
from server.sync.registry import Principal


def provide_statistics_service(
    state: State, principal: NamedDependency[Principal]
) -> OrderStatisticsService:
    """The service for one request, wired from the app state."""
    return OrderStatisticsService(state.db, state.writer, principal, state.settings)


# ``from`` is a Python keyword: the day parameters are read as text and parsed by the service,
# so an error names them as the client wrote them
_DAY = "a local day of the company's time zone, YYYY-MM-DD (inclusive)"


class OrderStatisticsController(Controller):
    """Order statistics (reps: 403; they see their own orders on their device)."""

    path = "/orders/statistics"
    tags = ["orders"]
    guards = [managers_only]
    dependencies = {"service": Provide(provide_statistics_service, sync_to_thread=False)}

    @get("/")
    async def statistics(
        self,
        service: NamedDependency[OrderStatisticsService],
        interval: FromQuery[Interval] = Interval.MONTH,
        group_by: FromQuery[GroupBy | None] = None,
        day_from: Annotated[str | None, QueryParameter(name="from", description=_DAY)] = None,
        day_to: Annotated[str | None, QueryParameter(name="to", description=_DAY)] = None,
        status: FromQuery[list[OrderStatus] | None] = None,
        rep_id: FromQuery[uuid.UUID | None] = None,
        territory_id: FromQuery[uuid.UUID | None] = None,
        account_id: FromQuery[uuid.UUID | None] = None,
        product_id: FromQuery[uuid.UUID | None] = None,
        category_id: FromQuery[uuid.UUID | None] = None,
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
    ) -> StatsPage:
        """Counts, quantities and amounts per day, week or month (company time zone, ``from``
        and ``to`` inclusive local days) and per ``group_by``, of the orders in ``status``
        (default: confirmed and fulfilled), one row per currency; paginated."""
        request = StatsRequest(
            interval=interval,
            group_by=group_by,
            day_from=day_from,
            day_to=day_to,
            statuses=status,
            rep_id=rep_id,
            territory_id=territory_id,
            account_id=account_id,
            product_id=product_id,
            category_id=category_id,
        )
        return await service.statistics(request, cursor=cursor, limit=limit)
