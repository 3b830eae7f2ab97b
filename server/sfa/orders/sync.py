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
from protocol.sync import Mutation
from server.errors import ValidationFailed
from server.sfa.calendar.wire import (
    appended,
    check_owner,
    check_record,
    delete_guard,
    parse_uuid,
    typed,
)
from server.sfa.orders.decision import OrderActor, transition_of, usable_warehouse
from server.sfa.orders.models import Order
from server.sfa.orders.push_batch import OrderPushBatch, Submission, prepare_order_push
from server.sfa.orders.repository import OrderRepository
from server.sfa.orders.rules import OFFER_FIELDS
from server.sfa.pricing.service import (
    apply_pricing,
    approval_request,
    authority,
    server_lines,
)
from server.sfa.quotes.models import Quote
from server.sfa.quotes.sync import ensure_offer_editable, price_draft
from server.sfa.stock.entries import Pair
from server.sfa.visits.account_scope import scope_of_account_child
from server.sync.registry import ActionContext, EntitySpec, Policy, Principal
from server.sync.writer import ChangeWriter, batch_state

__all__ = ["SERVER_FIELDS", "OrderRecord", "order_spec"]

_quotes: sa.Table = Quote.__table__  # type: ignore[assignment]
_orders: sa.Table = Order.__table__  # type: ignore[assignment]

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
    quote_id = order.quote_id
    if order.warehouse_id is not None and (
        changed(record, old, "warehouse_id") or changed(record, old, "owner_id")
    ):
        await usable_warehouse(repo, record)
    if (
        quote_id is not None
        and changed(record, old, "quote_id")
        and not await repo.exists(_quotes, quote_id, account_id=order.account_id)
    ):
        raise ValidationFailed("quote does not exist for this account", field="quote_id")
    await price_draft(ctx, record)
    if old is not None and old.get("status") != record.get("status"):
        # a revision of an order waiting for approval withdrew the request (back to draft)
        order_id = parse_uuid(record["id"], "id")
        changes = {"status": record.get("status")}
        await actor_of(ctx).audit(order_id, "revise", str(old.get("status")), changes, "")


async def revision_may_audit(session: AsyncSession, mutation: Mutation) -> bool:
    """Whether ``validate_order`` may audit this upsert (an edit may withdraw a pending
    approval): every edit of an existing order, never a create. The push's batch knows the
    records its mutations name, so a create costs no query."""
    if mutation.base_version > 0:
        return True
    known, state = batch_state(session, "order", mutation.id)
    if known:
        return state is not None and not state.deleted
    return await OrderRepository(session).exists(_orders, mutation.id)


def actor_of(ctx: ActionContext) -> OrderActor:
    """The order actor of a push's action (its writes join the push's batch)."""
    assert ctx.writer is not None, "the engine gives actions its change writer"
    return OrderActor(ctx.session, ctx.writer, ctx.principal, device_id=ctx.principal.device_id)


async def submit(
    ctx: ActionContext, current: dict[str, Any], params: dict[str, Any]
) -> dict[str, Any]:
    """``order.submit``: priced now; above the submitter's discount authority it waits in
    ``pending_approval``, otherwise the server's checks decide confirmed (its stock reserved),
    on hold (every reason) or rejected.

    An order put on hold or rejected is still an applied action: its status tells the outcome.
    """
    typed(params, SubmitParams)
    actor = actor_of(ctx)
    order_id = parse_uuid(current["id"], "id")
    # in a push that prepared its submissions, the engine locked the order with the others
    batch = OrderPushBatch.admitted_for(ctx.session, order_id)
    status = str(current["status"]) if batch else await actor.lock(order_id, "submit")
    if not current.get("lines"):
        raise ValidationFailed("an order without lines cannot be submitted", field="lines")
    record = dict(current)
    priced = await apply_pricing(ctx, record)
    changes = {name: record[name] for name in ("lines", *TOTAL_FIELDS)}
    check = await authority(ctx.session, ctx.principal, priced, current)
    held: dict[Pair, Decimal] = {}
    if check.needs_approval:
        changes |= approval_request(priced, check)
    elif batch is not None:
        decision, held = await batch.decide(record, server_lines(priced))
        changes |= decision.changes
    else:
        changes |= (await actor.decide(record)).changes
    if batch is None:
        await actor.audit(order_id, "submit", status, changes, "")
        return changes
    transition = transition_of(
        order_id, "submit", status, changes, "", principal=ctx.principal, device_id=actor.device_id
    )
    account_id = parse_uuid(record["account_id"], "account_id")
    total = Decimal(str(record["total"]))
    batch.queue_submission(
        actor.writer, Submission(order_id, account_id, changes["status"], total, held, transition)
    )
    return changes


async def submission_decision(
    session: AsyncSession,
    record: dict[str, Any],
    *,
    writer: ChangeWriter,
    principal: Principal,
    action: str,
    note: str = "",
    refused: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The fields an order waiting for approval gets from the manager's decision (``action``
    ``approve``: the submission checks decide, its stock reserved when confirmed; ``refuse``:
    ``refused``, back to draft); the transition is audited."""
    actor = OrderActor(session, writer, principal)
    order_id = parse_uuid(record["id"], "id")
    status = await actor.lock(order_id, action)
    changes = (await actor.decide(record)).changes if action == "approve" else dict(refused or {})
    await actor.audit(order_id, action, status, changes, note)
    return changes


async def cancel(
    ctx: ActionContext, current: dict[str, Any], params: dict[str, Any]
) -> dict[str, Any]:
    """``order.cancel``: an order that is not fulfilled, rejected or cancelled is withdrawn;
    what it held in stock is given back."""
    values = typed(params, CancelParams)
    actor = actor_of(ctx)
    order_id = parse_uuid(current["id"], "id")
    status = await actor.lock(order_id, "cancel")
    changes: dict[str, Any] = {"status": OrderStatus.CANCELLED.value}
    if values.reason:
        changes["notes"] = appended(current.get("notes") or "", values.reason)
    await actor.release_stock(order_id)
    await actor.audit(order_id, "cancel", status, changes, values.reason or "")
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
        validator_writes=revision_may_audit,  # the audit of a withdrawn approval
        may_delete=delete_guard(ORDER),
        prepare=prepare_order_push,
    )
