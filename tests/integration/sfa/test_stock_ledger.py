"""The stock ledger over REST: movements, transfers, stocktakes, set-balance, bad input."""

from __future__ import annotations

import decimal
import uuid

import pytest
import sqlalchemy as sa

from protocol.ids import uuid7
from tests.builders import auth_headers, make_user
from tests.integration.sfa.core_builders import count, make_product, make_warehouse, walk_pages

D = decimal.Decimal


async def manager(db):
    user = await make_user(db, "manager")
    return user, await auth_headers(db, user)


async def post(client, headers, **body):
    body = {k: str(v) if isinstance(v, uuid.UUID | D) else v for k, v in body.items()}
    return await client.post("/stock/movements", json=body, headers=headers)


async def balance(client, headers, warehouse, product) -> dict:
    response = await client.get(
        f"/warehouses/{warehouse}/stock?product_id={product}", headers=headers
    )
    assert response.status_code == 200, response.text
    [row] = response.json()["items"]
    return row


async def test_movements_post_to_the_ledger_and_balances_follow(client, db) -> None:
    user, headers = await manager(db)
    warehouse, tea = await make_warehouse(db), await make_product(db)
    receipt = uuid7()
    steps = [
        ({"kind": "initial", "quantity": "10"}, "10.0000"),
        (
            {
                "kind": "inbound",
                "quantity": "5.5",
                "reference_kind": "purchase_receipt",
                "reference_id": str(receipt),
                "note": "PO 17",
            },
            "15.5000",
        ),
        ({"kind": "outbound", "quantity": "3"}, "12.5000"),
        ({"kind": "adjustment", "quantity": "-2.5", "note": "broken"}, "10.0000"),
    ]
    for body, on_hand in steps:
        response = await post(client, headers, warehouse_id=warehouse, product_id=tea, **body)
        assert response.status_code == 201, response.text
        [movement] = response.json()["movements"]
        assert movement["on_hand_after"] == on_hand
        assert movement["created_by"] == str(user.id)
        [after] = response.json()["balances"]
        assert after["on_hand"] == on_hand and after["available"] == on_hand
    assert (await balance(client, headers, warehouse, tea))["on_hand"] == "10.0000"

    ledger = await client.get(f"/stock/movements?warehouse_id={warehouse}", headers=headers)
    rows = ledger.json()["items"]
    assert [(r["kind"], r["quantity"]) for r in rows] == [
        ("initial", "10.0000"),
        ("inbound", "5.5000"),
        ("outbound", "-3.0000"),
        ("adjustment", "-2.5000"),
    ]
    assert rows[1]["reference_kind"] == "purchase_receipt" and rows[1]["note"] == "PO 17"
    by_reference = await client.get(
        f"/stock/movements?reference_kind=purchase_receipt&reference_id={receipt}", headers=headers
    )
    assert [r["id"] for r in by_reference.json()["items"]] == [rows[1]["id"]]
    outbound = await client.get("/stock/movements?kind=outbound", headers=headers)
    assert [r["id"] for r in outbound.json()["items"]] == [rows[2]["id"]]
    # the balance sum of the ledger, written through the change writer (devices see it)
    assert sum(D(r["quantity"]) for r in rows) == D(10)
    async with db.sessions() as session:
        version = await session.scalar(
            sa.text("SELECT version FROM sync_records WHERE entity = 'stock_balance'")
        )
    assert version == 5  # created, then four movements

    again = await post(
        client, headers, warehouse_id=warehouse, product_id=tea, kind="initial", quantity="1"
    )
    assert again.status_code == 409 and again.json()["code"] == "already_stocked"


async def test_outbound_cannot_take_reserved_or_missing_stock_unless_backorders(client, db) -> None:
    _, headers = await manager(db)
    strict, lenient = await make_warehouse(db), await make_warehouse(db, allow_backorder=True)
    tea = await make_product(db)
    for warehouse in (strict, lenient):
        created = await post(
            client, headers, warehouse_id=warehouse, product_id=tea, kind="inbound", quantity="2"
        )
        assert created.status_code == 201
    refused = await post(
        client, headers, warehouse_id=strict, product_id=tea, kind="outbound", quantity="3"
    )
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "insufficient_stock"
    assert refused.json()["field"] == "quantity"
    assert refused.json()["data"]["on_hand"] == "2.0000"
    negative = await post(
        client, headers, warehouse_id=strict, product_id=tea, kind="adjustment", quantity="-3"
    )
    assert negative.status_code == 409
    assert (await balance(client, headers, strict, tea))["on_hand"] == "2.0000"
    assert await count(db, "stock_movements") == 2

    backordered = await post(
        client, headers, warehouse_id=lenient, product_id=tea, kind="outbound", quantity="3"
    )
    assert backordered.status_code == 201
    assert backordered.json()["balances"][0]["on_hand"] == "-1.0000"


async def test_transfer_moves_stock_between_central_and_van(client, db) -> None:
    _, headers = await manager(db)
    rep = await make_user(db, "rep")
    central = await make_warehouse(db, code="DC")
    van = await make_warehouse(db, code="VAN-1", owner_id=rep.id)
    tea = await make_product(db)
    await post(client, headers, warehouse_id=central, product_id=tea, kind="inbound", quantity=8)
    moved = await post(
        client,
        headers,
        warehouse_id=central,
        product_id=tea,
        kind="transfer",
        quantity=3,
        to_warehouse_id=van,
    )
    assert moved.status_code == 201, moved.text
    out_leg, in_leg = moved.json()["movements"]
    assert (out_leg["warehouse_id"], out_leg["quantity"]) == (str(central), "-3.0000")
    assert (in_leg["warehouse_id"], in_leg["quantity"]) == (str(van), "3.0000")
    assert out_leg["transfer_id"] == in_leg["transfer_id"] == out_leg["id"]
    assert in_leg["counterpart_warehouse_id"] == str(central)
    assert (await balance(client, headers, central, tea))["on_hand"] == "5.0000"
    assert (await balance(client, headers, van, tea))["on_hand"] == "3.0000"
    back = await post(
        client,
        headers,
        warehouse_id=van,
        product_id=tea,
        kind="transfer",
        quantity=4,
        to_warehouse_id=central,
    )
    assert back.status_code == 409 and back.json()["code"] == "insufficient_stock"
    assert await count(db, "stock_movements") == 3


@pytest.mark.parametrize(
    ("change", "status", "code", "field"),
    [
        ({"quantity": "0"}, 422, "validation_error", "quantity"),
        ({"quantity": "-1"}, 422, "validation_error", "quantity"),
        ({"quantity": "0.00001"}, 422, "validation_error", "quantity"),
        ({"kind": "adjustment", "quantity": "0"}, 422, "validation_error", "quantity"),
        ({"warehouse_id": "unknown"}, 422, "unknown_warehouse", "warehouse_id"),
        ({"product_id": "unknown"}, 422, "unknown_product", "product_id"),
        ({"product_id": "inactive"}, 422, "inactive_product", "product_id"),
        ({"kind": "transfer"}, 422, "validation_error", "to_warehouse_id"),
        ({"kind": "transfer", "to_warehouse_id": "same"}, 422, "same_warehouse", "to_warehouse_id"),
        (
            {"kind": "transfer", "to_warehouse_id": "unknown"},
            422,
            "unknown_warehouse",
            "to_warehouse_id",
        ),
        ({"to_warehouse_id": "same"}, 422, "validation_error", "to_warehouse_id"),
        ({"kind": "stocktake"}, 422, "validation_error", "kind"),
        ({"id": "v4"}, 422, "invalid_id", "id"),
        ({"reference_kind": "order"}, 422, "validation_error", "reference_id"),
        ({"colour": "red"}, 422, "unknown_field", "colour"),
    ],
)
async def test_bad_movement_is_refused_with_code_and_field_and_writes_nothing(
    client, db, change, status, code, field
) -> None:
    _, headers = await manager(db)
    warehouse, tea = await make_warehouse(db), await make_product(db)
    inactive = await make_product(db, active=False)
    names = {
        "unknown": str(uuid.uuid4()),
        "same": str(warehouse),
        "inactive": str(inactive),
        "v4": str(uuid.uuid4()),
    }
    body = {
        "kind": "inbound",
        "warehouse_id": str(warehouse),
        "product_id": str(tea),
        "quantity": "1",
    }
    body.update({k: names.get(v, v) for k, v in change.items()})
    response = await client.post("/stock/movements", json=body, headers=headers)
    assert response.status_code == status, response.text
    assert (response.json()["code"], response.json()["field"]) == (code, field)
    assert await count(db, "stock_movements") == 0
    assert await count(db, "stock_balances") == 0


async def test_a_repeated_movement_id_returns_the_same_movement(client, db) -> None:
    _, headers = await manager(db)
    warehouse, tea = await make_warehouse(db), await make_product(db)
    movement_id = uuid7()
    body = {
        "id": movement_id,
        "warehouse_id": warehouse,
        "product_id": tea,
        "kind": "inbound",
        "quantity": "4",
    }
    first = await post(client, headers, **body)
    second = await post(client, headers, **body)
    assert first.status_code == second.status_code == 201
    assert first.json()["movements"] == second.json()["movements"]
    assert first.json()["movements"][0]["id"] == str(movement_id)
    assert second.json()["balances"][0]["on_hand"] == "4.0000"
    assert await count(db, "stock_movements") == 1
    reused = await post(client, headers, **{**body, "quantity": "5"})
    assert reused.status_code == 409 and reused.json()["code"] == "id_reused"
    assert await count(db, "stock_movements") == 1


async def test_stocktake_posts_counted_against_expected(client, db) -> None:
    _, headers = await manager(db)
    warehouse, tea, rice = await make_warehouse(db), await make_product(db), await make_product(db)
    await post(client, headers, warehouse_id=warehouse, product_id=tea, kind="inbound", quantity=10)
    stocktake_id = str(uuid7())
    body = {
        "id": stocktake_id,
        "warehouse_id": str(warehouse),
        "note": "year end",
        "lines": [
            {"product_id": str(tea), "counted": "7"},
            {"product_id": str(rice), "counted": "3"},
        ],
    }
    first = await client.post("/stock/stocktakes", json=body, headers=headers)
    assert first.status_code == 201, first.text
    lines = {m["product_id"]: m for m in first.json()["movements"]}
    assert (lines[str(tea)]["expected"], lines[str(tea)]["counted"]) == ("10.0000", "7.0000")
    assert lines[str(tea)]["quantity"] == "-3.0000"
    assert (lines[str(rice)]["expected"], lines[str(rice)]["quantity"]) == ("0.0000", "3.0000")
    assert {m["reference_kind"] for m in lines.values()} == {"stocktake"}
    assert {m["reference_id"] for m in lines.values()} == {stocktake_id}
    assert (await balance(client, headers, warehouse, tea))["on_hand"] == "7.0000"
    repeated = await client.post("/stock/stocktakes", json=body, headers=headers)
    assert repeated.status_code == 201 and repeated.json()["movements"] == first.json()["movements"]
    assert await count(db, "stock_movements") == 3
    assert await count(db, "stocktakes") == 1
    read = await client.get(f"/stock/stocktakes/{stocktake_id}", headers=headers)
    assert read.status_code == 200 and read.json()["movements"] == first.json()["movements"]
    assert read.json()["note"] == "year end"
    missing = await client.get(f"/stock/stocktakes/{uuid7()}", headers=headers)
    assert missing.status_code == 404


@pytest.mark.parametrize(
    ("lines", "code", "field"),
    [
        ([{"product_id": "tea", "counted": "-1"}], "validation_error", "lines.0.counted"),
        (
            [{"product_id": "tea", "counted": "1"}, {"product_id": "tea", "counted": "2"}],
            "duplicate_product",
            "lines.1.product_id",
        ),
        ([{"product_id": "unknown", "counted": "1"}], "unknown_product", "lines.0.product_id"),
        ([], "validation_error", "lines"),
    ],
)
async def test_bad_stocktake_is_refused_and_writes_nothing(client, db, lines, code, field) -> None:
    _, headers = await manager(db)
    warehouse, tea = await make_warehouse(db), await make_product(db)
    names = {"tea": str(tea), "unknown": str(uuid.uuid4())}
    body = {
        "warehouse_id": str(warehouse),
        "lines": [{**line, "product_id": names[line["product_id"]]} for line in lines],
    }
    response = await client.post("/stock/stocktakes", json=body, headers=headers)
    assert response.status_code == 422, response.text
    assert (response.json()["code"], response.json()["field"]) == (code, field)
    assert await count(db, "stocktakes") == 0 and await count(db, "stock_movements") == 0


async def test_set_balance_route_posts_an_adjustment_of_the_difference(client, db) -> None:
    _, headers = await manager(db)
    warehouse, tea = await make_warehouse(db), await make_product(db)
    url = f"/warehouses/{warehouse}/stock/{tea}"
    first = await client.put(url, json={"on_hand": "12", "note": "opening"}, headers=headers)
    assert first.status_code == 200, first.text
    assert first.json()["on_hand"] == "12.0000"
    second = await client.put(url, json={"on_hand": "9"}, headers=headers)
    assert second.json()["on_hand"] == "9.0000"
    unchanged = await client.put(url, json={"on_hand": "9"}, headers=headers)
    assert unchanged.status_code == 200
    ledger = (await client.get(f"/stock/movements?product_id={tea}", headers=headers)).json()
    assert [(m["kind"], m["quantity"]) for m in ledger["items"]] == [
        ("adjustment", "12.0000"),
        ("adjustment", "-3.0000"),
    ]
    negative = await client.put(url, json={"on_hand": "-1"}, headers=headers)
    assert negative.status_code == 422 and negative.json()["field"] == "on_hand"


async def test_reps_neither_post_nor_read_the_ledger(client, db) -> None:
    rep_headers = await auth_headers(db, await make_user(db, "rep"))
    warehouse, tea = await make_warehouse(db), await make_product(db)
    body = {
        "kind": "inbound",
        "warehouse_id": str(warehouse),
        "product_id": str(tea),
        "quantity": "1",
    }
    assert (
        await client.post("/stock/movements", json=body, headers=rep_headers)
    ).status_code == 403
    assert (await client.get("/stock/movements", headers=rep_headers)).status_code == 403
    stocktake = {
        "warehouse_id": str(warehouse),
        "lines": [{"product_id": str(tea), "counted": "1"}],
    }
    assert (
        await client.post("/stock/stocktakes", json=stocktake, headers=rep_headers)
    ).status_code == 403
    put = await client.put(
        f"/warehouses/{warehouse}/stock/{tea}", json={"on_hand": "1"}, headers=rep_headers
    )
    assert put.status_code == 403
    assert await count(db, "stock_movements") == 0


async def test_the_ledger_pages_and_filters_by_time(client, db) -> None:
    _, headers = await manager(db)
    warehouse, tea = await make_warehouse(db), await make_product(db)
    for _ in range(7):
        await post(
            client, headers, warehouse_id=warehouse, product_id=tea, kind="inbound", quantity=1
        )
    assert len(set(await walk_pages(client, "/stock/movements", headers, 3))) == 7
    future = await client.get("/stock/movements?since=2999-01-01T00:00:00Z", headers=headers)
    assert future.status_code == 200 and future.json()["items"] == []
    naive = await client.get("/stock/movements?since=2020-01-01T00:00:00", headers=headers)
    assert naive.status_code == 422 and naive.json()["field"] == "since"
