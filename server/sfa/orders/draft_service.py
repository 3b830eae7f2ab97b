"""Draft orders over REST: managers (in their subtree) and admins create, change and submit
orders for their reps' customers.

Each write goes through the same steps as a device's sync write, in one transaction: the
order validator (``validate_order``: owner, record checks, warehouse, quote, the server's
pricing of every line), the change writer (so the rep's device receives the order), and for
``submit`` the sync action itself (``order.submit``: authority, checks, reservation, audit).
See docs/orders.md, "Draft orders over REST".
"""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from protocol.entities.documents import OrderRecord
from protocol.errors import INVALID_STATE, RECORD_EXISTS, SERVER_OWNED_FIELD
from protocol.ids import uuid7
from server.errors import Conflict, NotFound, ValidationFailed
from server.sfa.area_service import AreaService
from server.sfa.orders.models import Order
from server.sfa.orders.repository import OrderRepository
from server.sfa.orders.schemas import OrderDraft, OrderDraftPatch
from server.sfa.orders.sync import submit, validate_order
from server.sfa.scopes import visibility
from server.sync import patches
from server.sync.registry import ActionContext

_OWNED_LINE_FIELDS = ("unit_price", "tax_rate", "price_entry_id")
_OWNED_FIELDS = ("subtotal", "tax_total", "total")


def refuse_server_owned(data: OrderDraft | OrderDraftPatch) -> None:
    """422 ``server_owned_field`` naming the first price, tax or total the client wrote."""
    for name in _OWNED_FIELDS:
        if getattr(data, name) is not msgspec.UNSET:
            raise ValidationFailed(
                f"{name} is computed by the server", field=name, code=SERVER_OWNED_FIELD
            )
    lines = data.lines if data.lines is not msgspec.UNSET else []
    for index, line in enumerate(lines):
        for name in _OWNED_LINE_FIELDS:
            if getattr(line, name) is not msgspec.UNSET:
                raise ValidationFailed(
                    f"{name} of a line is set by the server's pricing",
                    field=f"lines[{index}].{name}",
                    code=SERVER_OWNED_FIELD,
                )


def wire_fields(data: OrderDraft | OrderDraftPatch) -> dict[str, Any]:
    """The order fields a body sent, as wire values (lines with an id each, no figures)."""
    sent = {
        name: value
        for name in data.__struct_fields__
        if name not in _OWNED_FIELDS and (value := getattr(data, name)) is not msgspec.UNSET
    }
    if "lines" in sent:
        sent["lines"] = [
            {
                "id": str(line.id or uuid7()),
                "product_id": str(line.product_id),
                "quantity": str(line.quantity),
                "discount_pct": str(line.discount_pct),
            }
            for line in sent["lines"]
        ]
    return msgspec.to_builtins(sent)  # type: ignore[no-any-return]


class OrderDraftService(AreaService):
    """Create, change and submit draft orders as the desk's caller."""

    async def create(self, data: OrderDraft) -> OrderRecord:
        """A new draft order for a visible account, priced by the server."""
        refuse_server_owned(data)
        record = wire_fields(data)
        order_id = data.id or uuid7()
        record["id"] = str(order_id)
        async with self.db.transaction() as session:
            repo = OrderRepository(session)
            owner = await self._visible_account_owner(session, data.account_id)
            record["owner_id"] = str(data.owner_id or owner or self.principal.user_id)
            await self._check_owner(repo, record)
            if await repo.exists(Order.__table__, order_id):  # type: ignore[arg-type]
                raise Conflict(
                    "an order with this id already exists", field="id", code=RECORD_EXISTS
                )
            await validate_order(self._context(session), record, None)
            spec = self.writer.spec("order")
            created = await self.writer.create(
                session, "order", patches.to_python(spec, record), principal=self.principal
            )
        return msgspec.convert(created, OrderRecord)

    async def update(
        self, order_id: uuid.UUID, data: OrderDraftPatch, *, expected: frozenset[int] | None
    ) -> OrderRecord:
        """Change a visible draft (409 ``invalid_state`` once it left draft)."""
        refuse_server_owned(data)
        changes = wire_fields(data)
        async with self.db.transaction() as session:
            await self._visible_order(session, order_id)
            await self.writer.check_version(session, "order", order_id, expected)
            old = await self.writer.load(session, "order", order_id)
            if old.get("status") != "draft":
                raise Conflict(
                    f"only a draft order can be edited; this one is {old.get('status')}",
                    field="status",
                    code=INVALID_STATE,
                    data={"status": old.get("status"), "action": "edit"},
                )
            new = {**old, **changes}
            repo = OrderRepository(session)
            if new.get("account_id") != old.get("account_id"):
                await self._visible_account_owner(session, uuid.UUID(str(new["account_id"])))
            if new.get("owner_id") != old.get("owner_id"):
                await self._check_owner(repo, new)
            await validate_order(self._context(session), new, old)
            written = {name: value for name, value in new.items() if old.get(name) != value}
            if not written:
                return msgspec.convert(old, OrderRecord)
            spec = self.writer.spec("order")
            record = await self.writer.update(
                session,
                "order",
                order_id,
                patches.to_python(spec, written),
                principal=self.principal,
            )
        return msgspec.convert(record, OrderRecord)

    async def submit(self, order_id: uuid.UUID, *, expected: frozenset[int] | None) -> OrderRecord:
        """Submit a visible draft through ``order.submit`` itself, with the caller's authority."""
        async with self.db.transaction() as session:
            await self._visible_order(session, order_id)
            await self.writer.check_version(session, "order", order_id, expected)
            current = await self.writer.load(session, "order", order_id)
            changes = await submit(self._context(session), current, {})
            spec = self.writer.spec("order")
            record = await self.writer.update(
                session,
                "order",
                order_id,
                patches.to_python(spec, changes),
                principal=self.principal,
            )
        return msgspec.convert(record, OrderRecord)

    def _context(self, session: AsyncSession) -> ActionContext:
        # a REST call is no device's mutation: the audit names no device (as the desk's)
        caller = dataclasses.replace(self.principal, device_id=None)
        return ActionContext(session, caller, self.writer.clock.tick(), writer=self.writer)

    async def _visible_account_owner(
        self, session: AsyncSession, account_id: uuid.UUID
    ) -> uuid.UUID | None:
        seen = await visibility(session, self.principal)
        found, owner = await OrderRepository(session).visible_account(account_id, seen)
        if not found:  # missing or outside the caller's scope: the same answer
            raise ValidationFailed(
                "account does not exist", field="account_id", code="unknown_account"
            )
        return owner

    async def _check_owner(self, repo: OrderRepository, record: dict[str, Any]) -> None:
        if not await repo.active_user(uuid.UUID(str(record["owner_id"]))):
            raise ValidationFailed("owner does not exist or is inactive", field="owner_id")

    async def _visible_order(self, session: AsyncSession, order_id: uuid.UUID) -> None:
        seen = await visibility(session, self.principal)
        if not await OrderRepository(session).visible_order_ids([order_id], seen):
            raise NotFound(f"order {order_id} not found", field="id")
