"""Warehouses and stock balances over HTTP (and the seeding service) on both backends."""

from __future__ import annotations

import decimal
import uuid

import pytest
import sqlalchemy as sa

from server.app import build_registry
from server.errors import ValidationFailed
from server.sfa.stock.entries import StockLine, StockReference
from server.sfa.stock.ledger import StockLedger
from server.sfa.stock.models import ReferenceKind
from server.sfa.stock.movement_service import MovementService
from server.sfa.stock.schemas import BalanceSet
from server.sync.writer import ChangeWriter
from tests.builders import auth_headers, make_user
from tests.integration.sfa.core_builders import count, make_product, make_warehouse, walk_pages

D = decimal.Decimal


def stock_service(db, settings) -> MovementService:
    return MovementService(db, ChangeWriter(build_registry()), None, settings)


async def set_balance(db, settings, warehouse, product, on_hand, reserved=None):
    """On hand through an adjustment movement, reserved through a reservation."""
    balance = await stock_service(db, settings).set_balance(
        warehouse, product, BalanceSet(on_hand=on_hand)
    )
    if reserved:
        async with db.transaction() as session:
            held = await StockLedger(ChangeWriter(build_registry())).reserve(
                session,
                warehouse,
                [StockLine(product, reserved)],
                StockReference(ReferenceKind.OTHER, uuid.uuid4()),
            )
        assert held.complete
    return balance


async def test_warehouse_crud_and_validation(client, db) -> None:
    headers = await auth_headers(db, await make_user(db, "admin"))
    created = await client.post(
        "/warehouses",
        json={
            "code": "SH-01",
            "name": "Shanghai",
            "city": "Shanghai",
            "latitude": 31.2,
            "longitude": 121.5,
        },
        headers=headers,
    )
    assert created.status_code == 201, created.text
    warehouse = created.json()
    assert warehouse["active"] is True and warehouse["version"] == 1
    duplicate = await client.post(
        "/warehouses", json={"code": "SH-01", "name": "Again"}, headers=headers
    )
    assert duplicate.status_code == 409
    assert duplicate.json()["code"] == "duplicate_code" and duplicate.json()["field"] == "code"
    for payload, field in (
        ({"code": "X", "name": "X", "latitude": 100}, "latitude"),
        ({"code": "", "name": "X"}, "code"),
        ({"code": "X", "name": "X", "size": 3}, "size"),
    ):
        response = await client.post("/warehouses", json=payload, headers=headers)
        assert response.status_code == 422 and response.json()["field"] == field
    assert await count(db, "warehouses") == 1

    patched = await client.patch(
        f"/warehouses/{warehouse['id']}", json={"active": False}, headers=headers
    )
    assert patched.status_code == 200 and patched.json()["active"] is False
    listed = await client.get("/warehouses?active=false", headers=headers)
    assert [w["id"] for w in listed.json()["items"]] == [warehouse["id"]]
    assert (
        await client.delete(f"/warehouses/{warehouse['id']}", headers=headers)
    ).status_code == 204
    missing = await client.get(f"/warehouses/{warehouse['id']}", headers=headers)
    assert missing.status_code == 404 and missing.json()["field"] == "id"


async def test_balances_show_exact_availability(client, db, settings) -> None:
    north = await make_warehouse(db, code="N")
    south = await make_warehouse(db, code="S")
    tea = await make_product(db)
    await set_balance(db, settings, north, tea, D("10.5"), reserved=D("2.25"))
    await set_balance(db, settings, south, tea, D("4"))
    again = await set_balance(db, settings, north, tea, D("12.5"))
    # created at zero, adjusted to 10.5, reserved, adjusted to 12.5
    assert again.version == 4 and again.available == D("10.25")

    rep_headers = await auth_headers(db, await make_user(db, "rep"))
    north_stock = await client.get(f"/warehouses/{north}/stock", headers=rep_headers)
    assert north_stock.status_code == 200
    [row] = north_stock.json()["items"]
    assert row["on_hand"] == "12.5000" and row["reserved"] == "2.2500"
    assert row["available"] == "10.2500"
    by_product = await client.get(f"/stock?product_id={tea}", headers=rep_headers)
    assert {r["warehouse_id"] for r in by_product.json()["items"]} == {str(north), str(south)}
    assert await count(db, "stock_balances") == 2

    unknown = await client.get(f"/warehouses/{uuid.uuid4()}/stock", headers=rep_headers)
    assert unknown.status_code == 404 and unknown.json()["field"] == "warehouse_id"
    in_use = await client.delete(
        f"/warehouses/{north}", headers=await auth_headers(db, await make_user(db, "admin"))
    )
    assert in_use.status_code == 409 and in_use.json()["code"] == "in_use"


async def test_stock_pages(client, db, settings) -> None:
    warehouse = await make_warehouse(db)
    for _ in range(11):
        await set_balance(db, settings, warehouse, await make_product(db), D(5))
    headers = await auth_headers(db, await make_user(db, "manager"))
    assert len(set(await walk_pages(client, f"/warehouses/{warehouse}/stock", headers, 4))) == 11
    assert len(set(await walk_pages(client, "/stock", headers, 3))) == 11


async def test_set_balance_refuses_bad_input_and_writes_nothing(db, settings) -> None:
    service = stock_service(db, settings)
    warehouse = await make_warehouse(db)
    product = await make_product(db)
    with pytest.raises(ValidationFailed) as negative:
        await service.set_balance(warehouse, product, BalanceSet(on_hand=D(-1)))
    assert negative.value.field == "on_hand"
    with pytest.raises(ValidationFailed) as places:
        await service.set_balance(warehouse, product, BalanceSet(on_hand=D("0.00001")))
    assert places.value.field == "on_hand"
    with pytest.raises(ValidationFailed) as unknown_product:
        await service.set_balance(warehouse, uuid.uuid4(), BalanceSet(on_hand=D(1)))
    assert unknown_product.value.field == "product_id"
    with pytest.raises(ValidationFailed) as unknown_warehouse:
        await service.set_balance(uuid.uuid4(), product, BalanceSet(on_hand=D(1)))
    assert unknown_warehouse.value.code == "unknown_warehouse"
    assert await count(db, "stock_balances") == 0
    assert await count(db, "stock_movements") == 0


async def test_reps_read_but_do_not_write_and_every_device_holds_stock(
    client, db, settings
) -> None:
    rep_headers = await auth_headers(db, await make_user(db, "rep"))
    warehouse = await make_warehouse(db)
    await set_balance(db, settings, warehouse, await make_product(db), D(1))
    assert (await client.get("/warehouses", headers=rep_headers)).status_code == 200
    refused = await client.post("/warehouses", json={"code": "R", "name": "R"}, headers=rep_headers)
    assert refused.status_code == 403
    refused_patch = await client.patch(
        f"/warehouses/{warehouse}", json={"name": "R"}, headers=rep_headers
    )
    assert refused_patch.status_code == 403
    async with db.sessions() as session:
        keys = set(
            (
                await session.execute(
                    sa.text(
                        "SELECT scope_key FROM sync_records "
                        "WHERE entity IN ('warehouse', 'stock_balance')"
                    )
                )
            ).scalars()
        )
    assert keys == {"global"}
