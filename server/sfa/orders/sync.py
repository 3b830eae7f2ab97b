"""The ``order`` syncable entity: one record with its lines, and the server's submit decision."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from protocol.entities.definition import ENGINE_FIELDS
from protocol.entities.documents import (
    ORDER,
    TOTAL_FIELDS,
    OrderRecord,
    OrderStatus,
    SubmitParams,
)
from protocol.entities.visits import CancelParams
from server.db import utcnow
from server.errors import ValidationFailed
from server.sfa.calendar.wire import (
    appended,
    check_owner,
    check_record,
    ensure_transition,
    parse_uuid,
    typed,
)
from server.sfa.orders.models import Order
from server.sfa.orders.repository import OrderRepository
from server.sfa.orders.rules import (
    ALLOWED_FROM,
    OFFER_FIELDS,
    requested_quantities,
    short_products,
    submission_outcome,
)
from server.sfa.pricing.service import apply_pricing, approval_request, authority
from server.sfa.quotes.lines import checked_lines
from server.sfa.quotes.models import Quote
from server.sfa.quotes.sync import ensure_offer_editable, price_draft
from server.sfa.stock.models import Warehouse
from server.sfa.visits.account_scope import scope_of_account_child
from server.sync.registry import ActionContext, EntitySpec, Policy

__all__ = ["SERVER_FIELDS", "OrderRecord", "order_spec"]

_warehouses: sa.Table = Warehouse.__table__  # type: ignore[assignment]
_quotes: sa.Table = Quote.__table__  # type: ignore[assignment]

SERVER_FIELDS = ORDER.server_fields


def changed(record: dict[str, Any], old: dict[str, Any] | None, field: str) -> bool:
    """True on create, or when the merge changed ``field``."""
    return old is None or old.get(field) != record.get(field)


async def validate_order(
    ctx: ActionContext, record: dict[str, Any], old: dict[str, Any] | None
) -> None:
    """Check an order after a merge; price a draft's lines, or total a submitted order's."""
    check_owner(ctx.principal.user_id, ctx.principal.role, record, old, "owner_id")
    order = typed(record, OrderRecord)
    check_record(order)
    assert order.account_id is not None  # checked by the shared rule
    ensure_offer_editable("order", record, old, ("account_id", *OFFER_FIELDS))
    repo = OrderRepository(ctx.session)
    warehouse_id, quote_id = order.warehouse_id, order.quote_id
    if (
        warehouse_id is not None
        and changed(record, old, "warehouse_id")
        and not await repo.exists(_warehouses, warehouse_id)
    ):
        raise ValidationFailed("warehouse does not exist", field="warehouse_id")
    if (
        quote_id is not None
        and changed(record, old, "quote_id")
        and not await repo.exists(_quotes, quote_id, account_id=order.account_id)
    ):
        raise ValidationFailed("quote does not exist for this account", field="quote_id")
    await price_draft(ctx, record)


async def submit(
    ctx: ActionContext, current: dict[str, Any], params: dict[str, Any]
) -> dict[str, Any]:
    """``order.submit``: priced now; above the submitter's discount authority it waits in
    ``pending_approval``, otherwise the server's rules decide confirmed, on hold or rejected.

    An order put on hold or rejected is still an applied action: its status tells the outcome.
    """
    ensure_transition("order", "submit", str(current.get("status")), ALLOWED_FROM)
    typed(params, SubmitParams)
    if not current.get("lines"):
        raise ValidationFailed("an order without lines cannot be submitted", field="lines")
    record = dict(current)
    priced = await apply_pricing(ctx, record)
    changes = {name: record[name] for name in ("lines", *TOTAL_FIELDS)}
    check = await authority(ctx.session, ctx.principal, priced, current)
    if check.needs_approval:
        return {**changes, **approval_request(priced, check)}
    return {**changes, **await submission_decision(ctx.session, record)}


async def submission_decision(session: AsyncSession, record: dict[str, Any]) -> dict[str, Any]:
    """The status an order gets when it is submitted (or its discount approved): the account's
    standing (locked), the credit exposure and the stock decide (first rule first)."""
    lines = checked_lines(record.get("lines"))
    order_id = parse_uuid(record["id"], "id")
    account_id = parse_uuid(record["account_id"], "account_id")
    repo = OrderRepository(session)
    standing = await repo.lock_account_standing(account_id)
    stock_short = False
    if record.get("warehouse_id"):
        requested = requested_quantities(lines)
        available = await repo.available_stock(
            parse_uuid(record["warehouse_id"], "warehouse_id"), requested
        )
        stock_short = available is not None and bool(short_products(requested, available))
    status, reason = submission_outcome(
        blacklisted=standing.blacklisted,
        arrears=standing.arrears,
        credit_limit=standing.credit_limit,
        open_total=await repo.open_orders_total(account_id, excluding=order_id),
        order_total=Decimal(str(record["total"])),
        stock_short=stock_short,
    )
    return {
        "status": status,
        "hold_reason": reason if status == OrderStatus.ON_HOLD else None,
        "reject_reason": reason if status == OrderStatus.REJECTED else None,
        "submitted_at": utcnow(),
    }


async def cancel(
    ctx: ActionContext, current: dict[str, Any], params: dict[str, Any]
) -> dict[str, Any]:
    """``order.cancel``: an order that is not fulfilled, rejected or cancelled is withdrawn."""
    ensure_transition("order", "cancel", str(current.get("status")), ALLOWED_FROM)
    values = typed(params, CancelParams)
    changes: dict[str, Any] = {"status": OrderStatus.CANCELLED.value}
    if values.reason:
        changes["notes"] = appended(current.get("notes") or "", values.reason)
    return changes


def order_spec() -> EntitySpec:
    """The sync registration of orders; ``lines`` is one field, last writer wins as a whole."""
    return EntitySpec.of(
        ORDER,
        table=Order.__table__,
        scope=scope_of_account_child,
        parent=("account", "account_id"),
        policies={"notes": Policy.APPEND}
        | {name: Policy.SERVER_WINS for name in SERVER_FIELDS - ENGINE_FIELDS},
        actions={"submit": submit, "cancel": cancel},
        validate=validate_order,
    )
