"""``quote.convert``: an accepted quote becomes a submitted order, exactly once.

The device picks the order's id and builds the same order offline (``rules.quotes``); the
server writes it in the mutation's transaction through the engine (``ActionContext.create``,
the ChangeWriter), with the quote's lines and prices as accepted (never repriced), and runs the
order's submission decision (credit, arrears, stock, blacklist) on it. The quote records its
order in ``order_id``; a second conversion is refused ``already_converted``.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from protocol.entities.documents import ConvertParams, OrderRecord
from protocol.errors import RECORD_EXISTS, UNKNOWN_FIELD
from rules.quotes import QuoteRefusal, check_convertible, order_from_quote
from server.errors import Conflict, ValidationFailed
from server.sfa.calendar.wire import typed
from server.sfa.orders.models import Order
from server.sfa.orders.sync import actor_of
from server.sfa.quotes.sync import refusal
from server.sfa.stock.models import Warehouse
from server.sync.registry import ActionContext

_orders: sa.Table = Order.__table__  # type: ignore[assignment]
_warehouses: sa.Table = Warehouse.__table__  # type: ignore[assignment]


async def convert(
    ctx: ActionContext, current: dict[str, Any], params: dict[str, Any]
) -> dict[str, Any]:
    """``quote.convert``: create the order of an accepted quote; the quote records it."""
    for name in sorted(set(params) - set(ConvertParams.__struct_fields__)):
        raise ValidationFailed(f"quote.convert takes no {name}", field=name, code=UNKNOWN_FIELD)
    if params.get("order_id") is None:  # the device picks the order's id
        raise ValidationFailed("order_id is required", field="order_id")
    values = typed(params, ConvertParams)
    try:
        check_convertible(current)
    except QuoteRefusal as exc:
        raise refusal(exc) from exc
    if ctx.create is None:  # only a push runs actions; kept explicit for other callers
        raise Conflict("a quote is converted by a pushed mutation", field="op")
    session = ctx.session
    taken = await session.scalar(sa.select(_orders.c.id).where(_orders.c.id == values.order_id))
    if taken is not None:
        raise Conflict(
            "an order with this id already exists",
            field="order_id",
            code=RECORD_EXISTS,
            data={"order_id": str(values.order_id)},
        )
    warehouse_id = values.warehouse_id
    if (
        warehouse_id is not None
        and (
            await session.scalar(
                sa.select(_warehouses.c.id).where(_warehouses.c.id == warehouse_id)
            )
        )
        is None
    ):
        raise ValidationFailed("warehouse does not exist", field="warehouse_id")
    wire = order_from_quote(
        current, str(values.order_id), str(warehouse_id) if warehouse_id else None
    )
    # the submission checks decide the new order as they decide a submitted one (stock
    # reserved when it is confirmed); the transition is audited once the order exists
    actor = actor_of(ctx)
    decision = await actor.decide(wire)
    wire.update(decision.changes)
    order = typed(wire, OrderRecord)
    await ctx.create("order", {name: getattr(order, name) for name in wire})
    await actor.audit(
        values.order_id, "convert", "draft", decision.changes, f"from quote {current['id']}"
    )
    return {"order_id": str(values.order_id)}
