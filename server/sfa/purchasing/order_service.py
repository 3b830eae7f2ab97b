"""Purchase orders: drafts, lines, ordering and cancelling; admins write, managers read.

Receiving is in ``receiving``; proposals from shortfalls in ``shortfall``.
"""

from __future__ import annotations

import decimal
import uuid
from collections.abc import Sequence
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from protocol.errors import INVALID_STATE
from server.db import new_id, utcnow
from server.errors import Conflict, NotFound, ValidationFailed
from server.pagination import Page, fetch_page
from server.sfa.area_service import AreaService
from server.sfa.inputs import check_decimal, plain
from server.sfa.purchasing.models import PurchaseOrderStatus
from server.sfa.purchasing.order_repository import PurchaseOrderRepository, purchase_orders
from server.sfa.purchasing.order_schemas import (
    PurchaseLineIn,
    PurchaseLineRecord,
    PurchaseOrderCreate,
    PurchaseOrderPatch,
    PurchaseOrderRecord,
    ReceiptLineIn,
)
from server.sfa.purchasing.repository import SupplierRepository, check_version
from server.sfa.purchasing.rules import ALLOWED_FROM, ZERO, line_value
from server.sfa.stock.ledger import StockLedger
from server.sfa.stock.repository import StockRepository


def order_record(row: Any, lines: Sequence[Any]) -> PurchaseOrderRecord:
    """A purchase order row and its line rows as the API record."""
    records = [
        PurchaseLineRecord(
            id=line.id,
            product_id=line.product_id,
            quantity=line.quantity,
            unit_cost=line.unit_cost,
            received_quantity=line.received_quantity,
        )
        for line in lines
    ]
    return PurchaseOrderRecord(
        id=row.id,
        supplier_id=row.supplier_id,
        warehouse_id=row.warehouse_id,
        currency=row.currency,
        status=PurchaseOrderStatus(row.status).value,
        expected_on=row.expected_on,
        notes=row.notes,
        ordered_at=row.ordered_at,
        cancelled_at=row.cancelled_at,
        created_by=row.created_by,
        lines=records,
        ordered_value=plain(sum((line_value(r.quantity, r.unit_cost) for r in records), ZERO)),
        received_value=plain(
            sum((line_value(r.received_quantity, r.unit_cost) for r in records), ZERO)
        ),
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def ensure_allowed(action: str, status: str) -> None:
    """409 ``invalid_state`` when ``action`` cannot start from ``status``."""
    if status not in ALLOWED_FROM[action]:
        raise Conflict(
            f"cannot {action} a purchase order that is {status}",
            field="status",
            code=INVALID_STATE,
            data={"status": status, "action": action},
        )


class PurchaseOrderService(AreaService):
    """CRUD and transitions of purchase orders."""

    async def list_orders(
        self,
        supplier_id: uuid.UUID | None,
        warehouse_id: uuid.UUID | None,
        status: str | None,
        *,
        cursor: str | None,
        limit: int | None,
    ) -> Page[PurchaseOrderRecord]:
        """One page of purchase orders, ordered by id."""
        size = self._limit(limit)
        async with self.db.reading() as session:
            repo = PurchaseOrderRepository(session)
            statement = repo.orders_statement(supplier_id, warehouse_id, status)
            rows, nxt = await fetch_page(
                session, statement, purchase_orders.c.id, cursor=cursor, limit=size
            )
            lines = await repo.lines_of([r.id for r in rows])
        return Page(items=[order_record(r, lines[r.id]) for r in rows], next_cursor=nxt)

    async def get_order(self, order_id: uuid.UUID) -> PurchaseOrderRecord:
        """One purchase order with its lines."""
        async with self.db.reading() as session:
            return await self.load(session, order_id)

    async def create_order(self, data: PurchaseOrderCreate) -> PurchaseOrderRecord:
        """A draft purchase order to an active supplier, for an active warehouse."""
        check_lines(data.lines)
        async with self.db.transaction() as session:
            return await self.insert(
                session,
                data.supplier_id,
                data.warehouse_id,
                data.lines,
                data.currency,
                expected_on=data.expected_on,
                notes=data.notes,
            )

    async def insert(
        self,
        session: AsyncSession,
        supplier_id: uuid.UUID,
        warehouse_id: uuid.UUID,
        lines: Sequence[PurchaseLineIn],
        currency: str | None,
        **header: Any,
    ) -> PurchaseOrderRecord:
        """Store a checked draft in the caller's transaction."""
        supplier = await SupplierRepository(session).get_supplier(supplier_id)
        if supplier is None:
            raise ValidationFailed(
                f"supplier {supplier_id} does not exist",
                field="supplier_id",
                code="unknown_supplier",
            )
        if not supplier.active:
            raise ValidationFailed(
                f"supplier {supplier_id} is inactive", field="supplier_id", code="inactive_supplier"
            )
        await self._check_targets(session, warehouse_id, lines)
        order_id, now = new_id(), utcnow()
        repo = PurchaseOrderRepository(session)
        await repo.insert_order(
            {
                "id": order_id,
                "supplier_id": supplier_id,
                "warehouse_id": warehouse_id,
                "currency": currency or supplier.currency,
                "status": PurchaseOrderStatus.DRAFT.value,
                "created_by": self.principal.user_id,
                "created_at": now,
                "updated_at": now,
                **header,
            }
        )
        await repo.replace_lines(order_id, line_rows(order_id, lines))
        return await self.load(session, order_id)

    async def update_order(
        self, order_id: uuid.UUID, data: PurchaseOrderPatch, *, expected: frozenset[int] | None
    ) -> PurchaseOrderRecord:
        """Change a draft (``lines`` replaces them all)."""
        lines = None if data.lines is msgspec.UNSET else data.lines
        changes = {
            name: getattr(data, name)
            for name in ("warehouse_id", "currency", "expected_on", "notes")
            if getattr(data, name) is not msgspec.UNSET
        }
        if lines is not None:
            check_lines(lines)
        async with self.db.transaction() as session:
            repo = PurchaseOrderRepository(session)
            row = await self._order(session, order_id, lock=True)
            check_version(row, expected, "purchase order")
            ensure_allowed("edit", row.status)
            if lines is not None or "warehouse_id" in changes:
                current = (await repo.lines_of([order_id]))[order_id]
                new_lines = lines if lines is not None else [_line_in(r) for r in current]
                await self._check_targets(
                    session, changes.get("warehouse_id", row.warehouse_id), new_lines
                )
            if lines is not None:
                await repo.replace_lines(order_id, line_rows(order_id, lines))
            if changes or lines is not None:
                await repo.update_order(order_id, {**changes, "updated_at": utcnow()})
            return await self.load(session, order_id)

    async def transition(
        self, order_id: uuid.UUID, action: str, *, expected: frozenset[int] | None
    ) -> PurchaseOrderRecord:
        """``order`` (draft -> ordered) or ``cancel`` (draft or ordered, nothing received)."""
        async with self.db.transaction() as session:
            repo = PurchaseOrderRepository(session)
            row = await self._order(session, order_id, lock=True)
            check_version(row, expected, "purchase order")
            ensure_allowed(action, row.status)
            now = utcnow()
            if action == "order":
                values = {"status": PurchaseOrderStatus.ORDERED.value, "ordered_at": now}
            else:
                if await repo.has_receipts(order_id):  # defensive: ordered means none yet
                    raise Conflict(
                        "goods were received against this order", field="status", code=INVALID_STATE
                    )
                values = {"status": PurchaseOrderStatus.CANCELLED.value, "cancelled_at": now}
            await repo.update_order(order_id, {**values, "updated_at": now})
            return await self.load(session, order_id)

    async def load(self, session: AsyncSession, order_id: uuid.UUID) -> PurchaseOrderRecord:
        """The record of one order (404 when it does not exist)."""
        row = await self._order(session, order_id)
        lines = await PurchaseOrderRepository(session).lines_of([order_id])
        return order_record(row, lines[order_id])

    async def _order(
        self, session: AsyncSession, order_id: uuid.UUID, *, lock: bool = False
    ) -> Any:
        row = await PurchaseOrderRepository(session).get_order(order_id, lock=lock)
        if row is None:
            raise NotFound(f"purchase order {order_id} not found", field="id")
        return row

    async def _check_targets(
        self, session: AsyncSession, warehouse_id: uuid.UUID, lines: Sequence[PurchaseLineIn]
    ) -> None:
        stock = StockRepository(session)
        warehouse = await stock.get_warehouse(warehouse_id)
        if warehouse is None or not warehouse.active:
            state = "does not exist" if warehouse is None else "is inactive"
            code = "unknown_warehouse" if warehouse is None else "inactive_warehouse"
            raise ValidationFailed(
                f"warehouse {warehouse_id} {state}", field="warehouse_id", code=code
            )
        ledger = StockLedger(self.writer)
        for index, line in enumerate(lines):
            await ledger.check_products(
                stock, [line.product_id], active_only=True, field=f"lines.{index}.product_id"
            )


def _line_in(row: Any) -> PurchaseLineIn:
    return PurchaseLineIn(product_id=row.product_id, quantity=row.quantity, unit_cost=row.unit_cost)


def check_lines(lines: Sequence[PurchaseLineIn]) -> None:
    """Quantities > 0, unit costs >= 0, one line per product (422 naming the line)."""
    check_quantities(lines, "purchase order")
    for index, line in enumerate(lines):
        check_decimal(line.unit_cost, f"lines.{index}.unit_cost", ge=0)


def check_quantities(lines: Sequence[PurchaseLineIn | ReceiptLineIn], document: str) -> None:
    """Quantities > 0 and one line per product, 422 naming the line (a PO's or a receipt's)."""
    seen: set[uuid.UUID] = set()
    for index, line in enumerate(lines):
        check_decimal(line.quantity, f"lines.{index}.quantity", gt=0)
        if line.product_id in seen:
            raise ValidationFailed(
                f"a product appears once per {document}",
                field=f"lines.{index}.product_id",
                code="duplicate_product",
            )
        seen.add(line.product_id)


def line_rows(order_id: uuid.UUID, lines: Sequence[PurchaseLineIn]) -> list[dict[str, Any]]:
    """The stored rows of an order's lines."""
    return [
        {
            "id": new_id(),
            "purchase_order_id": order_id,
            "position": position,
            "product_id": line.product_id,
            "quantity": plain(line.quantity),
            "unit_cost": plain(line.unit_cost),
            "received_quantity": plain(decimal.Decimal(0)),
        }
        for position, line in enumerate(lines)
    ]
