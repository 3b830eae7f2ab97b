"""The order desk: managers (in their subtree) and admins list orders and decide on them.

Every decision locks the order, refuses an action its status does not allow (409
``invalid_state`` naming the status), checks ``If-Match``, writes the order through the change
writer (so it syncs to the rep's device) and appends the transition to the audit, all in one
transaction. See docs/orders.md, "The order desk".
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from protocol.entities.documents import OrderRecord
from server.db import utcnow
from server.errors import Conflict, NotFound, ValidationFailed
from server.notifications.sync_push import request_sync
from server.pagination import Page, fetch_page
from server.sfa.area_service import AreaService
from server.sfa.calendar.wire import require_text
from server.sfa.orders.decision import OrderActor
from server.sfa.orders.repository import OrderFilters, OrderRepository, orders, transitions
from server.sfa.orders.rules import (
    BLACKLISTED,
    CONFIRMED,
    REJECTED,
    RELEASABLE,
    released_reasons,
)
from server.sfa.orders.schemas import TransitionRecord
from server.sfa.scopes import visibility
from server.sfa.stock.entries import InsufficientStock
from server.sync.writer import row_to_wire

# (the actor, the order as a wire dict) -> the order fields the decision writes
Step = Callable[[OrderActor, dict[str, Any]], Awaitable[dict[str, Any]]]
CLOSED_HOLD: dict[str, Any] = {"hold_reasons": [], "hold_reason": None}


class OrderDeskService(AreaService):
    """Orders as the desk sees them, and the decisions it takes on them."""

    async def list_orders(
        self, filters: OrderFilters, *, cursor: str | None, limit: int | None
    ) -> Page[OrderRecord]:
        """One page of the visible orders matching ``filters``, by id (creation order)."""
        size = self._limit(limit)
        if filters.since and filters.until and filters.since >= filters.until:
            raise ValidationFailed("since must be before until", field="until")
        spec = self.writer.spec("order")
        async with self.db.reading() as session:
            seen = await visibility(session, self.principal)
            statement = OrderRepository(session).orders_statement(filters, seen)
            rows, next_cursor = await fetch_page(
                session, statement, orders.c.id, cursor=cursor, limit=size
            )
        items = [msgspec.convert(row_to_wire(spec, row), OrderRecord) for row in rows]
        return Page(items=items, next_cursor=next_cursor)

    async def get_order(self, order_id: uuid.UUID) -> OrderRecord:
        """One visible order; ``not_found`` when it is missing or outside the caller's scope."""
        async with self.db.reading() as session:
            await self._visible(session, order_id)
            record = await self.writer.load(session, "order", order_id)
        return msgspec.convert(record, OrderRecord)

    async def transitions(
        self, order_id: uuid.UUID, *, cursor: str | None, limit: int | None
    ) -> Page[TransitionRecord]:
        """One page of a visible order's transitions, oldest first."""
        size = self._limit(limit)
        async with self.db.reading() as session:
            await self._visible(session, order_id)
            statement = OrderRepository(session).transitions_statement(order_id)
            rows, next_cursor = await fetch_page(
                session, statement, transitions.c.id, cursor=cursor, limit=size
            )
        items = [msgspec.convert(dict(row._mapping), TransitionRecord) for row in rows]
        return Page(items=items, next_cursor=next_cursor)

    async def release(
        self, order_id: uuid.UUID, note: str, *, expected: frozenset[int] | None
    ) -> OrderRecord:
        """Release a hold: the customer reasons it holds are overridden from now on, every
        other check runs again (stock is reserved, or the order stays held for it)."""
        require_text(note, "note")

        async def step(actor: OrderActor, current: dict[str, Any]) -> dict[str, Any]:
            held = current.get("hold_reasons") or [current.get("hold_reason")]
            overrides = released_reasons(held, current.get("hold_overrides") or [])
            return (await actor.decide(current, overrides=overrides)).changes

        return await self._act(order_id, "release", note, expected, step)

    async def confirm(
        self, order_id: uuid.UUID, note: str, *, expected: frozenset[int] | None
    ) -> OrderRecord:
        """Confirm over the customer's standing: it must get its stock (409
        ``insufficient_stock`` otherwise) and the customer must not be blacklisted."""

        async def step(actor: OrderActor, current: dict[str, Any]) -> dict[str, Any]:
            overrides = released_reasons(RELEASABLE, current.get("hold_overrides") or [])
            decision = await actor.decide(current, overrides=sorted(overrides))
            if decision.outcome.status == REJECTED:
                raise Conflict("the customer is blacklisted", field="account_id", code=BLACKLISTED)
            if decision.outcome.status != CONFIRMED:
                raise InsufficientStock(
                    "the warehouse cannot cover the order",
                    field="lines",
                    data={
                        "short": [
                            {
                                "product_id": str(line.product_id),
                                "requested": str(line.requested),
                                "available": str(line.available),
                            }
                            for line in decision.short
                        ]
                    },
                )
            return decision.changes

        return await self._act(order_id, "confirm", note, expected, step)

    async def reject(
        self, order_id: uuid.UUID, reason: str, note: str, *, expected: frozenset[int] | None
    ) -> OrderRecord:
        """Reject a submitted or held order with a reason code."""

        async def step(actor: OrderActor, current: dict[str, Any]) -> dict[str, Any]:
            return {"status": REJECTED, "reject_reason": reason, **CLOSED_HOLD}

        return await self._act(order_id, "reject", note, expected, step)

    async def fulfil(
        self, order_id: uuid.UUID, note: str, *, expected: frozenset[int] | None
    ) -> OrderRecord:
        """Mark a confirmed order fulfilled: its reservation becomes the outbound movements."""

        async def step(actor: OrderActor, current: dict[str, Any]) -> dict[str, Any]:
            await actor.consume_stock(uuid.UUID(str(current["id"])), note or "order fulfilled")
            return {"status": "fulfilled", "fulfilled_at": utcnow()}

        return await self._act(order_id, "fulfil", note, expected, step)

    async def cancel(
        self, order_id: uuid.UUID, note: str, *, expected: frozenset[int] | None
    ) -> OrderRecord:
        """Cancel an open order: what it holds in stock is given back."""

        async def step(actor: OrderActor, current: dict[str, Any]) -> dict[str, Any]:
            await actor.release_stock(uuid.UUID(str(current["id"])))
            return {"status": "cancelled", **CLOSED_HOLD}

        return await self._act(order_id, "cancel", note, expected, step)

    async def _act(
        self,
        order_id: uuid.UUID,
        action: str,
        note: str,
        expected: frozenset[int] | None,
        step: Step,
    ) -> OrderRecord:
        async with self.db.transaction() as session:
            await self._visible(session, order_id)
            await self.writer.check_version(session, "order", order_id, expected)
            actor = OrderActor(session, self.writer, self.principal)
            status = await actor.lock(order_id, action)
            current = await self.writer.load(session, "order", order_id)
            changes = {**await step(actor, current), "desk_note": note}
            record = await self.writer.update(
                session, "order", order_id, changes, principal=self.principal
            )
            await actor.audit(order_id, action, status, changes, note)
            await request_sync(session, [uuid.UUID(str(record["owner_id"]))])  # rep: sync now
        return msgspec.convert(record, OrderRecord)

    async def _visible(self, session: Any, order_id: uuid.UUID) -> None:
        seen = await visibility(session, self.principal)
        if not await OrderRepository(session).visible_order_ids([order_id], seen):
            raise NotFound(f"order {order_id} not found", field="id")
