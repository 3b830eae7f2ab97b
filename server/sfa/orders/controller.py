"""``/orders``: the order desk (managers in their subtree, admins everywhere; reps sync).

Lists and reads orders and their transitions, creates, changes and submits draft orders
(priced by the server like a sync write), and takes the desk's decisions: release a hold,
confirm, reject, mark fulfilled, cancel. The discount approval routes
(``/orders/{id}/approve|refuse``) live with pricing (``server.sfa.pricing.controller``).
"""

from __future__ import annotations

import datetime as dt
import uuid

from litestar import Controller, get, patch, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody

from protocol.entities.documents import OrderRecord, OrderStatus
from server.auth.guards import managers_only
from server.http.concurrency import IfMatch, expected_version
from server.pagination import Page
from server.sfa.orders.desk_service import OrderDeskService
from server.sfa.orders.draft_service import OrderDraftService
from server.sfa.orders.repository import OrderFilters
from server.sfa.orders.schemas import (
    DeskNote,
    DeskReject,
    DeskRelease,
    HoldReasonName,
    OrderDraft,
    OrderDraftPatch,
    TransitionRecord,
)
from server.sync.registry import Principal


def provide_desk_service(state: State, principal: NamedDependency[Principal]) -> OrderDeskService:
    """The service for one request, wired from the app state."""
    return OrderDeskService(state.db, state.writer, principal, state.settings)


def provide_draft_service(state: State, principal: NamedDependency[Principal]) -> OrderDraftService:
    """The draft-order service for one request."""
    return OrderDraftService(state.db, state.writer, principal, state.settings)


class OrderDeskController(Controller):
    """The order desk."""

    path = "/orders"
    tags = ["orders"]
    guards = [managers_only]
    dependencies = {
        "service": Provide(provide_desk_service, sync_to_thread=False),
        "drafts": Provide(provide_draft_service, sync_to_thread=False),
    }

    @post("/", status_code=201)
    async def create_order(
        self, drafts: NamedDependency[OrderDraftService], data: JSONBody[OrderDraft]
    ) -> OrderRecord:
        """A draft order for a customer in the caller's scope, priced by the server."""
        return await drafts.create(data)

    @patch("/{order_id:uuid}")
    async def update_order(
        self,
        drafts: NamedDependency[OrderDraftService],
        order_id: FromPath[uuid.UUID],
        data: JSONBody[OrderDraftPatch],
        if_match: IfMatch = None,
    ) -> OrderRecord:
        """Change a draft order (the lines sent replace its lines; priced again)."""
        return await drafts.update(order_id, data, expected=expected_version(if_match))

    @post("/{order_id:uuid}/submit", status_code=200)
    async def submit_order(
        self,
        drafts: NamedDependency[OrderDraftService],
        order_id: FromPath[uuid.UUID],
        if_match: IfMatch = None,
    ) -> OrderRecord:
        """Submit a draft like ``order.submit``: above the caller's discount authority it
        waits for approval, otherwise the checks decide (stock reserved when confirmed)."""
        return await drafts.submit(order_id, expected=expected_version(if_match))

    @get("/")
    async def list_orders(
        self,
        service: NamedDependency[OrderDeskService],
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
        status: FromQuery[OrderStatus | None] = None,
        hold_reason: FromQuery[HoldReasonName | None] = None,
        rep_id: FromQuery[uuid.UUID | None] = None,
        territory_id: FromQuery[uuid.UUID | None] = None,
        account_id: FromQuery[uuid.UUID | None] = None,
        since: FromQuery[dt.datetime | None] = None,
        until: FromQuery[dt.datetime | None] = None,
    ) -> Page[OrderRecord]:
        """Orders in the caller's scope, keyset-paginated by id; ``since``/``until`` bound the
        submission time, ``territory_id`` takes the territory and everything under it."""
        filters = OrderFilters(
            status=status.value if status is not None else None,
            hold_reason=hold_reason,
            rep_id=rep_id,
            territory_id=territory_id,
            account_id=account_id,
            since=since,
            until=until,
        )
        return await service.list_orders(filters, cursor=cursor, limit=limit)

    @get("/{order_id:uuid}")
    async def get_order(
        self, service: NamedDependency[OrderDeskService], order_id: FromPath[uuid.UUID]
    ) -> OrderRecord:
        """One order."""
        return await service.get_order(order_id)

    @get("/{order_id:uuid}/transitions")
    async def list_transitions(
        self,
        service: NamedDependency[OrderDeskService],
        order_id: FromPath[uuid.UUID],
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
    ) -> Page[TransitionRecord]:
        """The order's audited transitions, oldest first."""
        return await service.transitions(order_id, cursor=cursor, limit=limit)

    @post("/{order_id:uuid}/release", status_code=200)
    async def release(
        self,
        service: NamedDependency[OrderDeskService],
        order_id: FromPath[uuid.UUID],
        data: JSONBody[DeskRelease],
        if_match: IfMatch = None,
    ) -> OrderRecord:
        """Release a hold: its customer reasons are overridden, the other checks run again."""
        return await service.release(order_id, data.note, expected=expected_version(if_match))

    @post("/{order_id:uuid}/confirm", status_code=200)
    async def confirm(
        self,
        service: NamedDependency[OrderDeskService],
        order_id: FromPath[uuid.UUID],
        data: JSONBody[DeskNote],
        if_match: IfMatch = None,
    ) -> OrderRecord:
        """Confirm a submitted or held order over the customer's standing (stock reserved)."""
        return await service.confirm(order_id, data.note, expected=expected_version(if_match))

    @post("/{order_id:uuid}/reject", status_code=200)
    async def reject(
        self,
        service: NamedDependency[OrderDeskService],
        order_id: FromPath[uuid.UUID],
        data: JSONBody[DeskReject],
        if_match: IfMatch = None,
    ) -> OrderRecord:
        """Reject a submitted or held order with a reason code."""
        return await service.reject(
            order_id, data.reason, data.note, expected=expected_version(if_match)
        )

    @post("/{order_id:uuid}/fulfil", status_code=200)
    async def fulfil(
        self,
        service: NamedDependency[OrderDeskService],
        order_id: FromPath[uuid.UUID],
        data: JSONBody[DeskNote],
        if_match: IfMatch = None,
    ) -> OrderRecord:
        """Mark a confirmed order fulfilled: its reservation ships as outbound movements."""
        return await service.fulfil(order_id, data.note, expected=expected_version(if_match))

    @post("/{order_id:uuid}/cancel", status_code=200)
    async def cancel(
        self,
        service: NamedDependency[OrderDeskService],
        order_id: FromPath[uuid.UUID],
        data: JSONBody[DeskNote],
        if_match: IfMatch = None,
    ) -> OrderRecord:
        """Cancel an open order: its reserved stock is given back."""
        return await service.cancel(order_id, data.note, expected=expected_version(if_match))
