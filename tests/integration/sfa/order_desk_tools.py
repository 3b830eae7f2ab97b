"""Builders the order desk tests share: a team, stocked warehouses and submitted orders."""

from __future__ import annotations

import decimal
import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from protocol.ids import uuid7
from server.db import Database
from server.settings import Settings
from server.sfa.stock.movement_service import MovementService
from server.sfa.stock.repository import StockRepository
from server.sfa.stock.schemas import BalanceSet
from tests.builders import auth_headers, make_user
from tests.integration.sfa.core_builders import make_warehouse
from tests.pricing_tools import priced_product
from tests.synctools import Device, device_for, insert_account, writer

D = decimal.Decimal


@dataclass
class Desk:
    """A manager, their rep with a phone, the manager's headers, a product and a warehouse."""

    client: Any
    db: Database
    manager: Any
    rep: Any
    phone: Device
    headers: dict[str, str]
    product: uuid.UUID
    warehouse: uuid.UUID
    settings: Settings

    async def account(self, **overrides: Any) -> uuid.UUID:
        """An account of the rep's (credit for 100,000 unless told)."""
        values = {"owner_id": self.rep.id, "credit_limit": D("100000"), **overrides}
        return await insert_account(self.db, **values)

    async def submit(
        self, account_id: uuid.UUID, quantity: str, *, warehouse: uuid.UUID | None = None
    ) -> dict[str, Any]:
        """A draft of ``quantity`` units pushed and submitted by the rep's phone: the result."""
        order_id = uuid7()
        record = {
            "account_id": str(account_id),
            "owner_id": str(self.rep.id),
            "warehouse_id": str(warehouse or self.warehouse),
            "lines": [{"id": str(uuid7()), "product_id": str(self.product), "quantity": quantity}],
        }
        created, done = await self.phone.push(
            self.phone.mutation("order", order_id, "upsert", record),
            self.phone.mutation("order", order_id, "order.submit", {}),
        )
        assert created["status"] == "applied", created
        assert done["status"] == "applied", done
        return done["record"]  # type: ignore[no-any-return]

    async def act(
        self, order: dict[str, Any], action: str, body: dict[str, Any] | None = None, **kw: Any
    ) -> Any:
        """POST a desk action on ``order`` as the manager; the response."""
        return await self.client.post(
            f"/orders/{order['id']}/{action}",
            json=body if body is not None else {},
            headers=kw.pop("headers", self.headers),
            **kw,
        )

    async def stock(self, on_hand: str, warehouse: uuid.UUID | None = None) -> None:
        """Set the product's on hand (an adjustment movement)."""
        await set_stock(self.db, self.settings, warehouse or self.warehouse, self.product, on_hand)

    async def figures(self, warehouse: uuid.UUID | None = None) -> tuple[D, D]:
        """(on hand, reserved) of the product."""
        return await figures(self.db, warehouse or self.warehouse, self.product)


async def set_stock(
    db: Database, settings: Settings, warehouse: uuid.UUID, product: uuid.UUID, on_hand: str
) -> None:
    """On hand of a product in a warehouse, posted as an adjustment."""
    await MovementService(db, writer(), None, settings).set_balance(
        warehouse, product, BalanceSet(on_hand=D(on_hand))
    )


async def figures(db: Database, warehouse: uuid.UUID, product: uuid.UUID) -> tuple[D, D]:
    """(on hand, reserved) of a balance."""
    async with db.sessions() as session:
        row = await StockRepository(session).get_balance(warehouse, product)
    assert row is not None
    return row.on_hand, row.reserved


async def make_desk(client: Any, db: Database, settings: Settings, *, stock: str = "10") -> Desk:
    """A desk with ``stock`` units of a product at 10.00 (no tax) in a warehouse."""
    manager = await make_user(db, "manager")
    rep = await make_user(db, "rep", manager_id=manager.id)
    product = await priced_product(db, "10.00")
    warehouse = await make_warehouse(db)
    desk = Desk(
        client,
        db,
        manager,
        rep,
        await device_for(client, db, rep),
        await auth_headers(db, manager),
        product,
        warehouse,
        settings,
    )
    await desk.stock(stock)
    return desk


async def movements_of(db: Database, order_id: str) -> list[Any]:
    """The ledger rows referencing an order."""
    async with db.sessions() as session:
        rows = await session.execute(
            sa.text(
                "SELECT kind, quantity FROM stock_movements WHERE reference_id = :id"
            ).bindparams(sa.bindparam("id", type_=sa.Uuid)),
            {"id": uuid.UUID(order_id)},
        )
        return list(rows)
