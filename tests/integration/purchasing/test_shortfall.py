"""Purchase proposals from shortfalls: selected confirmed orders, or negative availability."""

from __future__ import annotations

import decimal
import uuid

from protocol.ids import uuid7
from server.app import build_registry
from server.sfa.stock.entries import StockLine, StockReference
from server.sfa.stock.ledger import StockLedger
from server.sfa.stock.models import ReferenceKind
from server.sync.writer import ChangeWriter
from tests.builders import make_user
from tests.integration.purchasing.builders import make_po, make_shop
from tests.integration.sfa.core_builders import count, create, make_account, make_warehouse

D = decimal.Decimal


async def confirmed_order(db, shop, owner, quantities, *, status="confirmed", warehouse=None):
    account = await make_account(db)
    lines = [
        {"id": str(uuid7()), "product_id": shop.products[i], "quantity": q, "unit_price": "1"}
        for i, q in quantities
    ]
    record = await create(
        db,
        "order",
        {
            "account_id": account,
            "owner_id": owner,
            "status": status,
            "warehouse_id": uuid.UUID(warehouse or shop.warehouse),
            "lines": lines,
        },
    )
    return record["id"]


async def set_stock(client, shop, index, on_hand) -> None:
    response = await client.put(
        f"/warehouses/{shop.warehouse}/stock/{shop.products[index]}",
        json={"on_hand": on_hand},
        headers=shop.admin,
    )
    assert response.status_code == 200, response.text


async def test_shortfall_of_confirmed_orders_counts_reservations_and_free_stock(client, db) -> None:
    shop = await make_shop(client, db, products=3)
    rep = await make_user(db, "rep")
    await set_stock(client, shop, 0, "3")
    await set_stock(client, shop, 1, "50")
    first = await confirmed_order(db, shop, rep.id, [(0, "5"), (1, "2")])
    second = await confirmed_order(db, shop, rep.id, [(0, "4"), (2, "6")])
    # the first order holds 2 of the 3 units of product 0: 1 is free
    async with db.transaction() as session:
        await StockLedger(ChangeWriter(build_registry())).reserve(
            session,
            uuid.UUID(shop.warehouse),
            [StockLine(uuid.UUID(shop.products[0]), D(2))],
            StockReference(ReferenceKind.ORDER, uuid.UUID(first)),
        )
    earlier = await make_po(client, shop, [(2, "1", "7.5")], ordered=False)
    assert earlier["status"] == "draft"
    response = await client.post(
        "/purchase-orders/shortfall",
        json={
            "warehouse_id": shop.warehouse,
            "order_ids": [first, second],
            "supplier_id": shop.supplier,
        },
        headers=shop.admin,
    )
    assert response.status_code == 200, response.text
    proposal = {line["product_id"]: line for line in response.json()["lines"]}
    # product 0: 9 wanted - 2 held - 1 free = 6; product 1 is in stock; product 2: 6 short
    assert {p: line["quantity"] for p, line in proposal.items()} == {
        shop.products[0]: "6.0000",
        shop.products[2]: "6.0000",
    }
    assert proposal[shop.products[2]]["unit_cost"] == "7.5000"  # the supplier's last cost
    assert response.json()["purchase_order"] is None
    assert await count(db, "purchase_orders") == 1

    made = await client.post(
        "/purchase-orders/shortfall",
        json={
            "warehouse_id": shop.warehouse,
            "order_ids": [first, second],
            "supplier_id": shop.supplier,
            "create": True,
        },
        headers=shop.admin,
    )
    po = made.json()["purchase_order"]
    assert po["status"] == "draft" and po["warehouse_id"] == shop.warehouse
    assert sorted((x["product_id"], x["quantity"]) for x in po["lines"]) == sorted(
        (p, "6.0000") for p in (shop.products[0], shop.products[2])
    )


async def test_shortfall_of_negative_availability(client, db) -> None:
    shop = await make_shop(client, db)
    backorder = str(await make_warehouse(db, allow_backorder=True))
    shop.warehouse, other = backorder, shop.warehouse
    for index, quantity in ((0, "2"), (1, "5")):
        response = await client.post(
            "/stock/movements",
            json={
                "kind": "outbound",
                "warehouse_id": backorder,
                "product_id": shop.products[index],
                "quantity": quantity,
            },
            headers=shop.admin,
        )
        assert response.status_code == 201, response.text
    response = await client.post(
        "/purchase-orders/shortfall", json={"warehouse_id": backorder}, headers=shop.admin
    )
    lines = {line["product_id"]: line["quantity"] for line in response.json()["lines"]}
    assert lines == {shop.products[0]: "2.0000", shop.products[1]: "5.0000"}
    nothing = await client.post(
        "/purchase-orders/shortfall",
        json={"warehouse_id": other, "supplier_id": shop.supplier, "create": True},
        headers=shop.admin,
    )
    assert nothing.status_code == 422 and nothing.json()["code"] == "nothing_short"


async def test_bad_shortfall_requests(client, db) -> None:
    shop = await make_shop(client, db)
    rep = await make_user(db, "rep")
    draft = await confirmed_order(db, shop, rep.id, [(0, "1")], status="draft")
    elsewhere = await confirmed_order(
        db, shop, rep.id, [(0, "1")], warehouse=str(await make_warehouse(db))
    )
    cases = [
        ({"warehouse_id": str(uuid7())}, "unknown_warehouse", "warehouse_id"),
        ({"order_ids": [str(uuid7())]}, "unknown_order", "order_ids.0"),
        ({"order_ids": [draft]}, "order_not_eligible", "order_ids.0"),
        ({"order_ids": [elsewhere]}, "order_not_eligible", "order_ids.0"),
        ({"create": True}, "validation_error", "supplier_id"),
    ]
    for body, code, field in cases:
        response = await client.post(
            "/purchase-orders/shortfall",
            json={"warehouse_id": shop.warehouse, **body},
            headers=shop.admin,
        )
        assert response.status_code == 422, (body, response.text)
        assert (response.json()["code"], response.json()["field"]) == (code, field)
    assert await count(db, "purchase_orders") == 0
