"""``/payables``: what is owed to suppliers with ageing, and payments made (admins pay;
managers and admins read)."""

from __future__ import annotations

import datetime as dt
import uuid

from litestar import Controller, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody

from server.auth.guards import admins_only, managers_only
from server.pagination import Page
from server.sfa.purchasing.payable_repository import PayableFilters
from server.sfa.purchasing.payable_schemas import (
    PayablePage,
    PayableRecord,
    PaymentCreate,
    PaymentRecord,
    PaymentResult,
)
from server.sfa.purchasing.payable_service import PayableService
from server.sync.registry import Principal


def provide_payable_service(state: State, principal: NamedDependency[Principal]) -> PayableService:
    """The service for one request, wired from the app state."""
    return PayableService(state.db, state.writer, principal, state.settings)


class PayableController(Controller):
    """Payables from purchase receipts and the payments made against them."""

    path = "/payables"
    tags = ["purchasing"]
    guards = [managers_only]
    dependencies = {"service": Provide(provide_payable_service, sync_to_thread=False)}

    @get("/")
    async def list_payables(
        self,
        service: NamedDependency[PayableService],
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
        supplier_id: FromQuery[uuid.UUID | None] = None,
        due_from: FromQuery[dt.date | None] = None,
        due_until: FromQuery[dt.date | None] = None,
        include_settled: FromQuery[bool] = False,
        as_of: FromQuery[dt.date | None] = None,
        rep_id: FromQuery[uuid.UUID | None] = None,
        territory_id: FromQuery[uuid.UUID | None] = None,
    ) -> PayablePage:
        """Payables (open ones unless ``include_settled``) with ageing totals on ``as_of``;
        ``rep_id`` / ``territory_id``: of the purchase order's warehouse's owner (a van's rep)."""
        filters = PayableFilters(
            supplier_id=supplier_id,
            due_from=due_from,
            due_until=due_until,
            open_only=not include_settled,
            rep_id=rep_id,
            territory_id=territory_id,
        )
        return await service.list_payables(filters, as_of, cursor=cursor, limit=limit)

    @get("/{payable_id:uuid}")
    async def get_payable(
        self, service: NamedDependency[PayableService], payable_id: FromPath[uuid.UUID]
    ) -> PayableRecord:
        """One payable."""
        return await service.get_payable(payable_id)

    @get("/{payable_id:uuid}/payments")
    async def list_payments(
        self,
        service: NamedDependency[PayableService],
        payable_id: FromPath[uuid.UUID],
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
    ) -> Page[PaymentRecord]:
        """The payments of a payable, keyset-paginated by id."""
        return await service.list_payments(payable_id, cursor=cursor, limit=limit)

    @post("/{payable_id:uuid}/payments", guards=[admins_only])
    async def pay(
        self,
        service: NamedDependency[PayableService],
        payable_id: FromPath[uuid.UUID],
        data: JSONBody[PaymentCreate],
    ) -> PaymentResult:
        """Record a payment made (partial allowed, never above outstanding); idempotent."""
        return await service.pay(payable_id, data)
