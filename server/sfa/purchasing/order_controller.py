"""``/purchase-orders``: drafts, ordering, cancelling, receiving, shortfall proposals.
Admins (back office) write; managers and admins read."""

from __future__ import annotations

import uuid

from litestar import Controller, get, patch, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody

from server.auth.guards import admins_only, managers_only
from server.http.concurrency import IfMatch, expected_version
from server.pagination import Page
from server.sfa.purchasing.order_schemas import (
    PurchaseOrderCreate,
    PurchaseOrderPatch,
    PurchaseOrderRecord,
    PurchaseOrderStatusName,
    ReceiptCreate,
    ReceiptRecord,
    ShortfallRequest,
    ShortfallResult,
)
from server.sfa.purchasing.order_service import PurchaseOrderService
from server.sfa.purchasing.receiving import ReceivingService
from server.sfa.purchasing.shortfall import ShortfallService
from server.sync.registry import Principal


def provide_order_service(
    state: State, principal: NamedDependency[Principal]
) -> PurchaseOrderService:
    """The service for one request, wired from the app state."""
    return PurchaseOrderService(state.db, state.writer, principal, state.settings)


def provide_receiving(state: State, principal: NamedDependency[Principal]) -> ReceivingService:
    """The receiving service for one request."""
    return ReceivingService(state.db, state.writer, principal, state.settings)


def provide_shortfall(state: State, principal: NamedDependency[Principal]) -> ShortfallService:
    """The shortfall service for one request."""
    return ShortfallService(state.db, state.writer, principal, state.settings)


class PurchaseOrderController(Controller):
    """Purchase orders: draft -> ordered -> partially_received -> received, or cancelled."""

    path = "/purchase-orders"
    tags = ["purchasing"]
    guards = [managers_only]
    dependencies = {
        "service": Provide(provide_order_service, sync_to_thread=False),
        "receiving": Provide(provide_receiving, sync_to_thread=False),
        "shortfall": Provide(provide_shortfall, sync_to_thread=False),
    }

    @get("/")
    async def list_orders(
        self,
        service: NamedDependency[PurchaseOrderService],
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
        supplier_id: FromQuery[uuid.UUID | None] = None,
        warehouse_id: FromQuery[uuid.UUID | None] = None,
        status: FromQuery[PurchaseOrderStatusName | None] = None,
    ) -> Page[PurchaseOrderRecord]:
        """Purchase orders, keyset-paginated by id."""
        return await service.list_orders(
            supplier_id, warehouse_id, status, cursor=cursor, limit=limit
        )

    @get("/{order_id:uuid}")
    async def get_order(
        self, service: NamedDependency[PurchaseOrderService], order_id: FromPath[uuid.UUID]
    ) -> PurchaseOrderRecord:
        """One purchase order with its lines."""
        return await service.get_order(order_id)

    @post("/", guards=[admins_only])
    async def create_order(
        self, service: NamedDependency[PurchaseOrderService], data: JSONBody[PurchaseOrderCreate]
    ) -> PurchaseOrderRecord:
        """A draft purchase order."""
        return await service.create_order(data)

    @patch("/{order_id:uuid}", guards=[admins_only])
    async def update_order(
        self,
        service: NamedDependency[PurchaseOrderService],
        order_id: FromPath[uuid.UUID],
        data: JSONBody[PurchaseOrderPatch],
        if_match: IfMatch = None,
    ) -> PurchaseOrderRecord:
        """Change a draft (``lines`` replaces them all)."""
        return await service.update_order(
            order_id, data, expected=expected_version(if_match, data.version)
        )

    @post("/{order_id:uuid}/order", guards=[admins_only], status_code=200)
    async def place_order(
        self,
        service: NamedDependency[PurchaseOrderService],
        order_id: FromPath[uuid.UUID],
        if_match: IfMatch = None,
    ) -> PurchaseOrderRecord:
        """Send a draft to the supplier: draft -> ordered."""
        return await service.transition(order_id, "order", expected=expected_version(if_match))

    @post("/{order_id:uuid}/cancel", guards=[admins_only], status_code=200)
    async def cancel_order(
        self,
        service: NamedDependency[PurchaseOrderService],
        order_id: FromPath[uuid.UUID],
        if_match: IfMatch = None,
    ) -> PurchaseOrderRecord:
        """Cancel a draft or an ordered purchase order with nothing received."""
        return await service.transition(order_id, "cancel", expected=expected_version(if_match))

    @post("/{order_id:uuid}/receipts", guards=[admins_only])
    async def receive(
        self,
        receiving: NamedDependency[ReceivingService],
        order_id: FromPath[uuid.UUID],
        data: JSONBody[ReceiptCreate],
    ) -> ReceiptRecord:
        """Receive goods (whole or partial); posts inbound movements; idempotent on ``id``."""
        return await receiving.receive(order_id, data)

    @get("/{order_id:uuid}/receipts")
    async def list_receipts(
        self,
        receiving: NamedDependency[ReceivingService],
        order_id: FromPath[uuid.UUID],
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
    ) -> Page[ReceiptRecord]:
        """The receipts of an order, keyset-paginated by id."""
        return await receiving.list_receipts(order_id, cursor=cursor, limit=limit)

    @post("/shortfall", guards=[admins_only], status_code=200)
    async def shortfall(
        self, shortfall: NamedDependency[ShortfallService], data: JSONBody[ShortfallRequest]
    ) -> ShortfallResult:
        """Propose (``create``: draft) a purchase order for a warehouse's shortfall."""
        return await shortfall.propose(data)
