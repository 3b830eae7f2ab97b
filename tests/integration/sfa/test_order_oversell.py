"""Never oversell (issue 15): reps racing for the last units from concurrent transactions
confirm exactly what is available; the rest go on hold ``insufficient_stock``."""

from __future__ import annotations

import asyncio
import decimal
from typing import Any

import pytest

from protocol.ids import uuid7
from server.sfa.stock.ledger import StockLedger
from tests.builders import make_user
from tests.integration.sfa.core_builders import count, make_warehouse
from tests.integration.sfa.order_desk_tools import figures, set_stock
from tests.pricing_tools import priced_product
from tests.synctools import act_as, create_as, insert_account

D = decimal.Decimal


async def _race(
    db: Any, backend: str, monkeypatch: Any, warehouse: Any, product: Any, wants: list[str]
) -> list[dict[str, Any]]:
    """One rep per want, each with their own customer, submitting at the same moment."""
    drafts = []
    for quantity in wants:
        rep = await make_user(db, "rep")
        account = await insert_account(db, owner_id=rep.id, credit_limit=D("100000"))
        line = {"id": str(uuid7()), "product_id": str(product), "quantity": quantity}
        record = {"account_id": str(account), "warehouse_id": str(warehouse), "lines": [line]}
        drafts.append((rep, await create_as(db, rep, "order", record)))
    if backend == "postgresql":
        # every transaction has locked its order and its customer and read the balance's
        # snapshot before any reserves; on SQLite writers queue at BEGIN IMMEDIATE instead
        barrier = asyncio.Barrier(len(wants))
        reserve = StockLedger.reserve

        async def reserve_together(self: StockLedger, *args: Any, **kwargs: Any) -> Any:
            await barrier.wait()
            return await reserve(self, *args, **kwargs)

        monkeypatch.setattr(StockLedger, "reserve", reserve_together)
    return list(
        await asyncio.gather(
            *(act_as(db, rep, "order", draft["id"], "submit", {}) for rep, draft in drafts)
        )
    )


@pytest.mark.parametrize(
    ("on_hand", "wants", "confirmed"), [("5", ["1"] * 8, 5), ("7", ["3"] * 6, 2)]
)
async def test_racing_reps_confirm_exactly_what_is_available(
    backend, db, settings, monkeypatch, on_hand, wants, confirmed
) -> None:
    product = await priced_product(db, "10.00")
    warehouse = await make_warehouse(db)
    await set_stock(db, settings, warehouse, product, on_hand)
    results = await _race(db, backend, monkeypatch, warehouse, product, wants)
    statuses = [r["status"] for r in results]
    assert statuses.count("confirmed") == confirmed
    held = [r for r in results if r["status"] != "confirmed"]
    assert len(held) == len(wants) - confirmed
    assert all(r["hold_reasons"] == ["insufficient_stock"] for r in held)
    reserved = D(wants[0]) * confirmed
    assert await figures(db, warehouse, product) == (D(on_hand), reserved)
    assert await count(db, "stock_reservations") == confirmed


async def test_a_backorder_warehouse_confirms_every_racer(
    backend, db, settings, monkeypatch
) -> None:
    product = await priced_product(db, "10.00")
    warehouse = await make_warehouse(db, allow_backorder=True)
    await set_stock(db, settings, warehouse, product, "1")
    results = await _race(db, backend, monkeypatch, warehouse, product, ["1"] * 4)
    assert [r["status"] for r in results] == ["confirmed"] * 4
    assert await figures(db, warehouse, product) == (D(1), D(4))
