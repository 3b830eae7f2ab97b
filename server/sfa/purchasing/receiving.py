"""Receiving goods against a purchase order: the receipt, the inbound ledger movements that
reference it, the lines' received quantities, the order's status and the payable it raises,
all in one transaction. The order row is locked first, so two receipts of one order queue and
never receive more than was ordered."""

from __future__ import annotations

import decimal
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from server.client_ids import client_chosen_id
from server.db import new_id, utcnow
from server.errors import Conflict, NotFound, ValidationFailed
from server.pagination import Page, fetch_page
from server.sfa.area_service import AreaService
from server.sfa.inputs import plain
from server.sfa.purchasing.order_repository import PurchaseOrderRepository, receipts
from server.sfa.purchasing.order_schemas import (
    ReceiptCreate,
    ReceiptLineRecord,
    ReceiptRecord,
)
from server.sfa.purchasing.order_service import check_quantities, ensure_allowed
from server.sfa.purchasing.payable_repository import PayableRepository
from server.sfa.purchasing.repository import SupplierRepository
from server.sfa.purchasing.rules import ZERO, due_on, line_value, status_after_receipt
from server.sfa.stock.entries import Entry, StockReference
from server.sfa.stock.ledger import StockLedger
from server.sfa.stock.models import MovementKind, ReferenceKind
from server.sfa.stock.repository import StockRepository

OVER_RECEIPT = "over_receipt"


class ReceivingService(AreaService):
    """Receipts of purchase orders."""

    async def receive(self, order_id: uuid.UUID, data: ReceiptCreate) -> ReceiptRecord:
        """Take in goods; idempotent on ``id`` (a repeat answers the first receipt)."""
        receipt_id = client_chosen_id(data.id)
        check_quantities(data.lines, "receipt")
        try:
            async with self.db.transaction() as session:
                repo = PurchaseOrderRepository(session)
                order = await repo.get_order(order_id, lock=True)
                if order is None:
                    raise NotFound(f"purchase order {order_id} not found", field="id")
                if await repo.get_receipt(receipt_id) is not None:
                    return await self._replay(session, order_id, receipt_id, data)
                ensure_allowed("receive", order.status)
                await self._post(session, order, receipt_id, data)
                return await self._record(session, receipt_id)
        except sa.exc.IntegrityError:
            # the same receipt id committed concurrently (or for another order): its answer
            async with self.db.reading() as session:
                if await PurchaseOrderRepository(session).get_receipt(receipt_id) is None:
                    raise
                return await self._replay(session, order_id, receipt_id, data)

    async def list_receipts(
        self, order_id: uuid.UUID, *, cursor: str | None, limit: int | None
    ) -> Page[ReceiptRecord]:
        """One page of an order's receipts."""
        size = self._limit(limit)
        async with self.db.reading() as session:
            repo = PurchaseOrderRepository(session)
            if await repo.get_order(order_id) is None:
                raise NotFound(f"purchase order {order_id} not found", field="id")
            rows, nxt = await fetch_page(
                session, repo.receipts_statement(order_id), receipts.c.id, cursor=cursor, limit=size
            )
            items = [await self._record(session, row.id) for row in rows]
        return Page(items=items, next_cursor=nxt)

    async def _post(
        self, session: AsyncSession, order: Any, receipt_id: uuid.UUID, data: ReceiptCreate
    ) -> None:
        repo = PurchaseOrderRepository(session)
        lines = {
            line.product_id: line for line in (await repo.lines_of([order.id], lock=True))[order.id]
        }
        received: dict[uuid.UUID, decimal.Decimal] = {}
        rows: list[dict[str, Any]] = []
        value = ZERO
        for index, wanted in enumerate(data.lines):
            line = lines.get(wanted.product_id)
            if line is None:
                raise ValidationFailed(
                    f"product {wanted.product_id} is not on this purchase order",
                    field=f"lines.{index}.product_id",
                    code="not_on_order",
                )
            remaining = line.quantity - line.received_quantity
            if wanted.quantity > remaining:
                raise ValidationFailed(
                    f"only {remaining} of product {wanted.product_id} remain to receive",
                    field=f"lines.{index}.quantity",
                    code=OVER_RECEIPT,
                    data={
                        "ordered": str(line.quantity),
                        "received": str(line.received_quantity),
                        "remaining": str(remaining),
                    },
                )
            received[line.id] = line.received_quantity + wanted.quantity
            value += line_value(wanted.quantity, line.unit_cost)
            rows.append(
                {
                    "id": new_id(),
                    "receipt_id": receipt_id,
                    "line_id": line.id,
                    "product_id": line.product_id,
                    "quantity": plain(wanted.quantity),
                    "unit_cost": line.unit_cost,
                }
            )
        now = utcnow()
        received_at = data.received_at or now
        await repo.insert_receipt(
            {
                "id": receipt_id,
                "purchase_order_id": order.id,
                "received_at": received_at,
                "note": data.note,
                "created_by": self.principal.user_id,
                "created_at": now,
            },
            rows,
        )
        for line_id, quantity in received.items():
            await repo.set_received(line_id, plain(quantity))
        reference = StockReference(ReferenceKind.PURCHASE_RECEIPT, receipt_id)
        entries = [
            Entry(
                MovementKind.INBOUND,
                order.warehouse_id,
                row["product_id"],
                row["quantity"],
                reference=reference,
                note=data.note,
            )
            for row in rows
        ]
        await StockLedger(self.writer).post(session, entries, principal=self.principal)
        status = status_after_receipt(
            (line.quantity, received.get(line.id, line.received_quantity))
            for line in lines.values()
        )
        await repo.update_order(order.id, {"status": status.value, "updated_at": now})
        if value > 0:
            supplier = await SupplierRepository(session).get_supplier(order.supplier_id)
            issued = received_at.date()
            await PayableRepository(session).insert_payable(
                {
                    "id": new_id(),
                    "supplier_id": order.supplier_id,
                    "purchase_order_id": order.id,
                    "receipt_id": receipt_id,
                    "currency": order.currency,
                    "amount": plain(value),
                    "paid": ZERO,
                    "settled": False,
                    "issued_on": issued,
                    "due_on": due_on(issued, supplier.payment_terms_days),
                    "created_at": now,
                    "updated_at": now,
                }
            )

    async def _replay(
        self, session: AsyncSession, order_id: uuid.UUID, receipt_id: uuid.UUID, data: ReceiptCreate
    ) -> ReceiptRecord:
        record = await self._record(session, receipt_id)
        taken = {(line.product_id, line.quantity) for line in record.lines}
        if record.purchase_order_id != order_id or taken != {
            (line.product_id, line.quantity) for line in data.lines
        }:
            raise Conflict("this id was used for another receipt", field="id", code="id_reused")
        return record

    async def _record(self, session: AsyncSession, receipt_id: uuid.UUID) -> ReceiptRecord:
        repo = PurchaseOrderRepository(session)
        header = await repo.get_receipt(receipt_id)
        lines = (await repo.receipt_lines_of([receipt_id]))[receipt_id]
        movements = await StockRepository(session).movements_of_reference(
            ReferenceKind.PURCHASE_RECEIPT.value, receipt_id
        )
        order = await repo.get_order(header.purchase_order_id)
        payable = await PayableRepository(session).payable_of_receipt(receipt_id)
        return ReceiptRecord(
            id=header.id,
            purchase_order_id=header.purchase_order_id,
            received_at=header.received_at,
            note=header.note,
            created_by=header.created_by,
            created_at=header.created_at,
            lines=[
                ReceiptLineRecord(
                    line_id=r.line_id,
                    product_id=r.product_id,
                    quantity=r.quantity,
                    unit_cost=r.unit_cost,
                )
                for r in lines
            ],
            movement_ids=[m.id for m in movements],
            payable_id=payable.id if payable is not None else None,
            purchase_order_status=order.status,
        )
