"""Queries of purchase orders, their lines and receipts (SQLAlchemy Core)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from server.db import row_by_id
from server.sfa.orders.models import Order
from server.sfa.purchasing.models import (
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseReceipt,
    PurchaseReceiptLine,
)
from server.sfa.purchasing.repository import bump
from server.sfa.stock.models import ReservationStatus, StockBalance, StockReservation

purchase_orders = cast(sa.Table, PurchaseOrder.__table__)
purchase_lines = cast(sa.Table, PurchaseOrderLine.__table__)
receipts = cast(sa.Table, PurchaseReceipt.__table__)
receipt_lines = cast(sa.Table, PurchaseReceiptLine.__table__)
_orders = cast(sa.Table, Order.__table__)
_reservations = cast(sa.Table, StockReservation.__table__)
_balances = cast(sa.Table, StockBalance.__table__)


class PurchaseOrderRepository:
    """Named queries over purchase orders, lines and receipts."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_order(self, order_id: uuid.UUID, *, lock: bool = False) -> Any:
        """One purchase order row, or None (locked FOR UPDATE with ``lock``)."""
        return await row_by_id(self.session, purchase_orders, order_id, lock=lock)

    def orders_statement(
        self,
        supplier_id: uuid.UUID | None,
        warehouse_id: uuid.UUID | None,
        status: str | None,
    ) -> sa.Select[Any]:
        """Purchase orders, filtered (the pager orders them by id)."""
        statement = sa.select(purchase_orders)
        if supplier_id is not None:
            statement = statement.where(purchase_orders.c.supplier_id == supplier_id)
        if warehouse_id is not None:
            statement = statement.where(purchase_orders.c.warehouse_id == warehouse_id)
        if status is not None:
            statement = statement.where(purchase_orders.c.status == status)
        return statement

    async def lines_of(
        self, order_ids: Iterable[uuid.UUID], *, lock: bool = False
    ) -> dict[uuid.UUID, list[Any]]:
        """The lines of each order, in their position order."""
        ids = list(order_ids)
        found: dict[uuid.UUID, list[Any]] = {order_id: [] for order_id in ids}
        if not ids:
            return found
        statement = (
            sa.select(purchase_lines)
            .where(purchase_lines.c.purchase_order_id.in_(ids))
            .order_by(purchase_lines.c.purchase_order_id, purchase_lines.c.position)
        )
        if lock:
            statement = statement.with_for_update()
        for row in (await self.session.execute(statement)).all():
            found[row.purchase_order_id].append(row)
        return found

    async def insert_order(self, values: dict[str, Any]) -> None:
        """Store a new purchase order header."""
        await self.session.execute(sa.insert(purchase_orders).values(**values))

    async def update_order(self, order_id: uuid.UUID, values: dict[str, Any]) -> Any:
        """Change a purchase order (its version bumped); returns its row."""
        return (await self.session.execute(bump(purchase_orders, order_id, values))).one()

    async def replace_lines(self, order_id: uuid.UUID, rows: list[dict[str, Any]]) -> None:
        """Every line of a draft, replaced."""
        await self.session.execute(
            sa.delete(purchase_lines).where(purchase_lines.c.purchase_order_id == order_id)
        )
        await self.session.execute(sa.insert(purchase_lines), rows)

    async def set_received(self, line_id: uuid.UUID, received: Any) -> None:
        """The quantity received so far of one line."""
        await self.session.execute(
            sa.update(purchase_lines)
            .where(purchase_lines.c.id == line_id)
            .values(received_quantity=received)
        )

    async def has_receipts(self, order_id: uuid.UUID) -> bool:
        """Has anything been received against this order?"""
        statement = sa.select(receipts.c.id).where(receipts.c.purchase_order_id == order_id)
        return (await self.session.execute(statement.limit(1))).first() is not None

    async def get_receipt(self, receipt_id: uuid.UUID) -> Any:
        """One receipt header, or None."""
        statement = sa.select(receipts).where(receipts.c.id == receipt_id)
        return (await self.session.execute(statement)).first()

    def receipts_statement(self, order_id: uuid.UUID) -> sa.Select[Any]:
        """The receipts of one order."""
        return sa.select(receipts).where(receipts.c.purchase_order_id == order_id)

    async def receipt_lines_of(
        self, receipt_ids: Iterable[uuid.UUID]
    ) -> dict[uuid.UUID, list[Any]]:
        """The lines of each receipt."""
        ids = list(receipt_ids)
        found: dict[uuid.UUID, list[Any]] = {receipt_id: [] for receipt_id in ids}
        if ids:
            statement = (
                sa.select(receipt_lines)
                .where(receipt_lines.c.receipt_id.in_(ids))
                .order_by(receipt_lines.c.id)
            )
            for row in (await self.session.execute(statement)).all():
                found[row.receipt_id].append(row)
        return found

    async def insert_receipt(self, header: dict[str, Any], lines: list[dict[str, Any]]) -> None:
        """Store a receipt with its lines."""
        await self.session.execute(sa.insert(receipts).values(**header))
        await self.session.execute(sa.insert(receipt_lines), lines)

    async def last_unit_costs(
        self, supplier_id: uuid.UUID, product_ids: Iterable[uuid.UUID]
    ) -> dict[uuid.UUID, Any]:
        """The unit cost of each product on the supplier's latest purchase order naming it."""
        ids = list(product_ids)
        if not ids:
            return {}
        statement = (
            sa.select(purchase_lines.c.product_id, purchase_lines.c.unit_cost)
            .join(purchase_orders, purchase_orders.c.id == purchase_lines.c.purchase_order_id)
            .where(
                purchase_orders.c.supplier_id == supplier_id,
                purchase_lines.c.product_id.in_(ids),
            )
            .order_by(purchase_orders.c.id)
        )
        return {row.product_id: row.unit_cost for row in (await self.session.execute(statement))}

    async def sales_orders(self, order_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Any]:
        """Customer orders by id (status, warehouse, lines)."""
        statement = sa.select(
            _orders.c.id, _orders.c.status, _orders.c.warehouse_id, _orders.c.lines
        ).where(_orders.c.id.in_(list(order_ids)))
        return {row.id: row for row in (await self.session.execute(statement)).all()}

    async def held_for(
        self, warehouse_id: uuid.UUID, order_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, Any]:
        """Quantity per product the ledger still holds reserved in a warehouse for the orders."""
        statement = sa.select(_reservations.c.product_id, _reservations.c.quantity).where(
            _reservations.c.warehouse_id == warehouse_id,
            _reservations.c.reference_kind == "order",
            _reservations.c.reference_id.in_(list(order_ids)),
            _reservations.c.status == ReservationStatus.ACTIVE.value,
        )
        held: dict[uuid.UUID, Any] = {}
        for row in (await self.session.execute(statement)).all():
            held[row.product_id] = held.get(row.product_id, 0) + row.quantity
        return held

    async def availability(self, warehouse_id: uuid.UUID) -> dict[uuid.UUID, tuple[Any, Any]]:
        """(on hand, reserved) of every product with a balance in the warehouse."""
        statement = sa.select(
            _balances.c.product_id, _balances.c.on_hand, _balances.c.reserved
        ).where(_balances.c.warehouse_id == warehouse_id)
        return {
            row.product_id: (row.on_hand, row.reserved)
            for row in (await self.session.execute(statement)).all()
        }
