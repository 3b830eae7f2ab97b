"""Van stock: warehouses owned by a rep, synced to that rep; the seed's opening stock ledger."""

from __future__ import annotations

import decimal
import uuid

import msgspec
import sqlalchemy as sa

from server.app import build_registry
from server.seed.demo import seed_demo
from server.sfa.stock.models import StockBalance, StockMovement
from server.sfa.stock.schemas import WarehouseRecord
from server.sync.models import sync_records
from server.sync.registry import GLOBAL_KEY, user_key
from server.sync.writer import ChangeWriter
from tests.builders import auth_headers, issue_token, make_user
from tests.integration.sfa.core_builders import make_product, make_warehouse
from tests.integration.sfa.test_scopes import Device

D = decimal.Decimal


async def stock(client, headers, warehouse, product, quantity: str) -> None:
    body = {
        "kind": "inbound",
        "warehouse_id": str(warehouse),
        "product_id": str(product),
        "quantity": quantity,
    }
    response = await client.post("/stock/movements", json=body, headers=headers)
    assert response.status_code == 201, response.text


async def balance_ids(db) -> dict[uuid.UUID, uuid.UUID]:
    """Balance id by warehouse id."""
    async with db.sessions() as session:
        rows = await session.execute(sa.select(StockBalance.warehouse_id, StockBalance.id))
        return {w: b for w, b in rows}


async def device_of(client, db, user) -> Device:
    token, device_id = await issue_token(db, user)
    return Device(client, {"Authorization": f"Bearer {token}"}, device_id)


async def test_a_van_and_its_stock_sync_to_its_rep_and_move_with_the_van(client, db) -> None:
    admin_headers = await auth_headers(db, await make_user(db, "admin"))
    driver, colleague = await make_user(db, "rep"), await make_user(db, "rep")
    central = await make_warehouse(db, code="DC")
    van = await make_warehouse(db, code="VAN-7", owner_id=driver.id)
    tea = await make_product(db)
    await stock(client, admin_headers, central, tea, "10")
    await stock(client, admin_headers, van, tea, "2")
    ids = await balance_ids(db)
    async with db.sessions() as session:
        rows = await session.execute(
            sa.select(sync_records.c.record_id, sync_records.c.scope_key).where(
                sync_records.c.entity.in_(["warehouse", "stock_balance"])
            )
        )
        keys = {record_id: key for record_id, key in rows}
    assert keys[central] == keys[ids[central]] == GLOBAL_KEY
    assert keys[van] == keys[ids[van]] == user_key(driver.id)

    mine, theirs = await device_of(client, db, driver), await device_of(client, db, colleague)
    shared = {("warehouse", str(central)), ("stock_balance", str(ids[central]))}
    vans = {("warehouse", str(van)), ("stock_balance", str(ids[van]))}
    await mine.pull_until(lambda ops: shared | vans <= ops.keys())
    await theirs.pull_until(lambda ops: shared <= ops.keys())
    assert not vans & theirs.ops.keys()

    handed = await client.patch(
        f"/warehouses/{van}", json={"owner_id": str(colleague.id)}, headers=admin_headers
    )
    assert handed.status_code == 200 and handed.json()["owner_id"] == str(colleague.id)
    await mine.pull_until(lambda ops: all(ops[v] == "evict" for v in vans))
    await theirs.pull_until(lambda ops: all(ops.get(v) == "upsert" for v in vans))


async def test_reps_read_shared_stock_and_their_own_van_over_rest(client, db) -> None:
    admin_headers = await auth_headers(db, await make_user(db, "admin"))
    driver, colleague = await make_user(db, "rep"), await make_user(db, "rep")
    central = await make_warehouse(db)
    van = await make_warehouse(db, owner_id=driver.id)
    tea = await make_product(db)
    for warehouse in (central, van):
        await stock(client, admin_headers, warehouse, tea, "1")
    for user, expected in ((driver, {central, van}), (colleague, {central})):
        headers = await auth_headers(db, user)
        listed = await client.get(f"/stock?product_id={tea}", headers=headers)
        assert {uuid.UUID(r["warehouse_id"]) for r in listed.json()["items"]} == expected
        warehouses = await client.get("/warehouses", headers=headers)
        assert {uuid.UUID(w["id"]) for w in warehouses.json()["items"]} == expected
    hidden = await client.get(f"/warehouses/{van}", headers=await auth_headers(db, colleague))
    assert hidden.status_code == 404
    own = await client.get(f"/warehouses/{van}", headers=await auth_headers(db, driver))
    assert own.status_code == 200 and own.json()["owner_id"] == str(driver.id)
    manager = await auth_headers(db, await make_user(db, "manager"))
    everything = await client.get("/stock", headers=manager)
    assert len(everything.json()["items"]) == 2


async def test_a_van_owner_must_exist(client, db) -> None:
    headers = await auth_headers(db, await make_user(db, "admin"))
    body = {"code": "VAN-X", "name": "Van", "owner_id": str(uuid.uuid4())}
    refused = await client.post("/warehouses", json=body, headers=headers)
    assert refused.status_code == 422 and refused.json()["field"] == "owner_id"
    warehouse = await make_warehouse(db)
    patched = await client.patch(
        f"/warehouses/{warehouse}", json={"owner_id": str(uuid.uuid4())}, headers=headers
    )
    assert patched.status_code == 422 and patched.json()["field"] == "owner_id"


def test_a_warehouse_record_of_before_the_ledger_still_decodes() -> None:
    old = {
        "id": str(uuid.uuid4()),
        "code": "DC",
        "name": "DC",
        "address": "",
        "city": "",
        "latitude": None,
        "longitude": None,
        "active": True,
        "version": 1,
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
    }
    record = msgspec.convert(old, WarehouseRecord)
    assert record.owner_id is None and record.allow_backorder is False


async def test_the_demo_seed_posts_opening_stock_as_initial_movements(db, settings) -> None:
    await seed_demo(db, settings, ChangeWriter(build_registry()), accounts=20)
    async with db.sessions() as session:
        balances = (await session.execute(sa.select(StockBalance))).scalars().all()
        ledger = (await session.execute(sa.select(StockMovement))).scalars().all()
    assert balances and len(ledger) == len(balances)
    opening = {(m.warehouse_id, m.product_id): m for m in ledger}
    for row in balances:
        movement = opening[(row.warehouse_id, row.product_id)]
        assert movement.kind == "initial" and movement.quantity == row.on_hand
        assert row.reserved == D(0)
