"""Purchase proposals from stock shortfalls: what selected confirmed orders still lack in a
warehouse, or what brings the warehouse's negative available stock back to zero."""

from __future__ import annotations

import decimal
import uuid
from typing import Any

from protocol.entities.documents import OrderStatus
from server.errors import ValidationFailed
from server.sfa.inputs import plain
from server.sfa.purchasing.order_repository import PurchaseOrderRepository
from server.sfa.purchasing.order_schemas import (
    PurchaseLineIn,
    ShortfallLine,
    ShortfallRequest,
    ShortfallResult,
)
from server.sfa.purchasing.order_service import PurchaseOrderService
from server.sfa.purchasing.rules import ZERO, negative_available, order_shortfall
from server.sfa.stock.repository import StockRepository


class ShortfallService(PurchaseOrderService):
    """Proposes (and with ``create`` drafts) a purchase order for a shortfall."""

    async def propose(self, data: ShortfallRequest) -> ShortfallResult:
        """The lines to buy, and the draft made of them when ``create``."""
        if data.create and data.supplier_id is None:
            raise ValidationFailed("a purchase order needs a supplier", field="supplier_id")
        if len(set(data.order_ids)) != len(data.order_ids):
            raise ValidationFailed("an order is named twice", field="order_ids")
        async with self.db.transaction() as session:
            if await StockRepository(session).get_warehouse(data.warehouse_id) is None:
                raise ValidationFailed(
                    f"warehouse {data.warehouse_id} does not exist",
                    field="warehouse_id",
                    code="unknown_warehouse",
                )
            repo = PurchaseOrderRepository(session)
            stock = await repo.availability(data.warehouse_id)
            available = {p: on_hand - reserved for p, (on_hand, reserved) in stock.items()}
            if data.order_ids:
                demand = await self._demand(repo, data)
                held = await repo.held_for(data.warehouse_id, data.order_ids)
                short = order_shortfall(demand, held, available)
            else:
                short = negative_available(available)
            costs = (
                await repo.last_unit_costs(data.supplier_id, short)
                if data.supplier_id is not None
                else {}
            )
            lines = [
                ShortfallLine(
                    product_id=product_id,
                    quantity=plain(quantity),
                    unit_cost=plain(costs.get(product_id, ZERO)),
                )
                for product_id, quantity in sorted(short.items())
            ]
            if not data.create:
                return ShortfallResult(lines=lines)
            if not lines:
                raise ValidationFailed(
                    "nothing is short: no purchase order to make",
                    field="order_ids" if data.order_ids else "warehouse_id",
                    code="nothing_short",
                )
            assert data.supplier_id is not None
            wanted = [
                PurchaseLineIn(product_id=x.product_id, quantity=x.quantity, unit_cost=x.unit_cost)
                for x in lines
            ]
            order = await self.insert(
                session,
                data.supplier_id,
                data.warehouse_id,
                wanted,
                None,
                notes="proposed from a stock shortfall",
            )
            return ShortfallResult(lines=lines, purchase_order=order)

    async def _demand(
        self, repo: PurchaseOrderRepository, data: ShortfallRequest
    ) -> dict[uuid.UUID, decimal.Decimal]:
        orders = await repo.sales_orders(data.order_ids)
        demand: dict[uuid.UUID, decimal.Decimal] = {}
        for index, order_id in enumerate(data.order_ids):
            order: Any = orders.get(order_id)
            field = f"order_ids.{index}"
            if order is None:
                raise ValidationFailed(
                    f"order {order_id} does not exist", field=field, code="unknown_order"
                )
            if order.status != OrderStatus.CONFIRMED or order.warehouse_id != data.warehouse_id:
                raise ValidationFailed(
                    f"order {order_id} is not a confirmed order of this warehouse",
                    field=field,
                    code="order_not_eligible",
                )
            for line in order.lines or []:
                product_id = uuid.UUID(str(line["product_id"]))
                quantity = decimal.Decimal(str(line["quantity"]))
                demand[product_id] = demand.get(product_id, ZERO) + quantity
        return demand
