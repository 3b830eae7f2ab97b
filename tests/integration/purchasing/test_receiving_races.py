"""Concurrent receipts of one purchase order never receive more than was ordered (real
concurrent transactions on PostgreSQL; queued writers on SQLite)."""

from __future__ import annotations

import asyncio
import decimal
import uuid

from server.app import build_registry
from server.auth.models import Role
from server.errors import ValidationFailed
from server.sfa.purchasing.order_repository import PurchaseOrderRepository
from server.sfa.purchasing.order_schemas import ReceiptCreate, ReceiptLineIn
from server.sfa.purchasing.receiving import ReceivingService
from server.sfa.stock.repository import StockRepository
from server.sync.registry import Principal
from server.sync.writer import ChangeWriter
from tests.builders import make_user
from tests.integration.purchasing.builders import make_po, make_shop
from tests.integration.sfa.core_builders import count

D = decimal.Decimal


async def test_concurrent_receipts_never_over_receive(
    backend, client, db, settings, monkeypatch
) -> None:
    shop = await make_shop(client, db)
    po = await make_po(client, shop, [(0, "10", "1")])
    admin = await make_user(db, Role.ADMIN)
    service = ReceivingService(
        db, ChangeWriter(build_registry()), Principal(admin.id, "admin"), settings
    )
    racers = 3
    if backend == "postgresql":  # every transaction is open before any takes the order's lock
        barrier = asyncio.Barrier(racers)
        locking = PurchaseOrderRepository.get_order
        calls: list[uuid.UUID] = []

        async def get_order(self, order_id, *, lock=False):
            if lock and len(calls) < racers:
                calls.append(order_id)
                await barrier.wait()
            return await locking(self, order_id, lock=lock)

        monkeypatch.setattr(PurchaseOrderRepository, "get_order", get_order)

    async def one() -> bool:
        body = ReceiptCreate(
            lines=[ReceiptLineIn(product_id=uuid.UUID(shop.products[0]), quantity=D(4))]
        )
        try:
            await service.receive(uuid.UUID(po["id"]), body)
        except ValidationFailed as exc:
            assert exc.code == "over_receipt"
            return False
        return True

    outcomes = await asyncio.gather(*(one() for _ in range(racers)))
    assert outcomes.count(True) == 2 and outcomes.count(False) == 1
    async with db.sessions() as session:
        [line] = (await PurchaseOrderRepository(session).lines_of([uuid.UUID(po["id"])]))[
            uuid.UUID(po["id"])
        ]
        balance = await StockRepository(session).get_balance(
            uuid.UUID(shop.warehouse), uuid.UUID(shop.products[0])
        )
    assert line.received_quantity == D(8) and balance.on_hand == D(8)
    assert await count(db, "stock_movements") == 2 and await count(db, "payables") == 2
