"""Categories, products, price lists and entries over HTTP on both backends."""

from __future__ import annotations

import asyncio
import uuid

import sqlalchemy as sa

from tests.builders import auth_headers, make_user
from tests.integration.sfa.core_builders import (
    count,
    create,
    make_account,
    make_product,
    make_tree,
    walk_pages,
)


async def admin(db) -> dict[str, str]:
    return await auth_headers(db, await make_user(db, "admin"))


async def test_category_tree_and_its_rules(client, db) -> None:
    headers = await admin(db)
    root = await client.post("/product-categories", json={"name": "Drinks"}, headers=headers)
    assert root.status_code == 201
    root_id = root.json()["id"]
    child = await client.post(
        "/product-categories", json={"name": "Tea", "parent_id": root_id}, headers=headers
    )
    assert child.status_code == 201 and child.json()["parent_id"] == root_id
    child_id = child.json()["id"]

    cycle = await client.patch(
        f"/product-categories/{root_id}", json={"parent_id": child_id}, headers=headers
    )
    assert cycle.status_code == 422 and cycle.json()["field"] == "parent_id"
    itself = await client.patch(
        f"/product-categories/{root_id}", json={"parent_id": root_id}, headers=headers
    )
    assert itself.status_code == 422
    orphan = await client.post(
        "/product-categories", json={"name": "X", "parent_id": str(uuid.uuid4())}, headers=headers
    )
    assert orphan.status_code == 422 and orphan.json()["field"] == "parent_id"

    children = await client.get(f"/product-categories?parent_id={root_id}", headers=headers)
    assert [c["id"] for c in children.json()["items"]] == [child_id]
    in_use = await client.delete(f"/product-categories/{root_id}", headers=headers)
    assert in_use.status_code == 409 and in_use.json()["code"] == "in_use"
    assert (
        await client.delete(f"/product-categories/{child_id}", headers=headers)
    ).status_code == 204
    assert (
        await client.delete(f"/product-categories/{root_id}", headers=headers)
    ).status_code == 204
    assert await count(db, "product_categories") == 0


async def test_product_crud_and_exact_decimals(client, db) -> None:
    headers = await admin(db)
    category = (
        await client.post("/product-categories", json={"name": "Tea"}, headers=headers)
    ).json()
    created = await client.post(
        "/products",
        json={
            "sku": "TEA-001",
            "name": "Longjing 250g",
            "category_id": category["id"],
            "unit": "box",
            "tax_rate": "0.13",
            "list_price": "128.4567",
        },
        headers=headers,
    )
    assert created.status_code == 201, created.text
    product = created.json()
    assert product["tax_rate"] == "0.1300" and product["list_price"] == "128.4567"
    assert product["active"] is True
    patched = await client.patch(
        f"/products/{product['id']}", json={"active": False}, headers=headers
    )
    assert patched.json()["active"] is False and patched.json()["list_price"] == "128.4567"
    assert (
        await client.get(f"/products/{product['id']}", headers=headers)
    ).json() == patched.json()
    assert (await client.delete(f"/products/{product['id']}", headers=headers)).status_code == 204
    assert (await client.get(f"/products/{product['id']}", headers=headers)).status_code == 404


async def test_product_validation_writes_nothing(client, db) -> None:
    headers = await admin(db)
    cases = [
        ({"sku": "A", "name": "A", "tax_rate": "1.5"}, "tax_rate"),
        ({"sku": "A", "name": "A", "tax_rate": "-0.1"}, "tax_rate"),
        ({"sku": "A", "name": "A", "list_price": "-1"}, "list_price"),
        ({"sku": "A", "name": "A", "list_price": 1.5}, "list_price"),
        ({"sku": "A", "name": "A", "category_id": str(uuid.uuid4())}, "category_id"),
        ({"sku": "has space", "name": "A"}, "sku"),
        ({"sku": "A", "name": "A", "price": "1"}, "price"),
    ]
    for payload, field in cases:
        response = await client.post("/products", json=payload, headers=headers)
        if payload.get("list_price") == 1.5:  # a JSON number is a valid decimal too
            assert response.status_code == 201
            await client.delete(f"/products/{response.json()['id']}", headers=headers)
            continue
        assert response.status_code == 422, (payload, response.text)
        assert response.json()["field"] == field
    assert await count(db, "products") == 0


async def test_duplicate_sku_is_409(client, db) -> None:
    headers = await admin(db)
    first = await client.post("/products", json={"sku": "DUP", "name": "A"}, headers=headers)
    assert first.status_code == 201
    again = await client.post("/products", json={"sku": "DUP", "name": "B"}, headers=headers)
    assert again.status_code == 409
    assert again.json()["code"] == "duplicate_sku" and again.json()["field"] == "sku"
    other = await client.post("/products", json={"sku": "OTHER", "name": "C"}, headers=headers)
    renamed = await client.patch(
        f"/products/{other.json()['id']}", json={"sku": "DUP"}, headers=headers
    )
    assert renamed.status_code == 409 and renamed.json()["code"] == "duplicate_sku"
    assert await count(db, "products") == 2


async def test_concurrent_creates_with_one_sku_make_one_product(client, db) -> None:
    headers = await admin(db)
    responses = await asyncio.gather(
        *(
            client.post("/products", json={"sku": "RACE", "name": f"P{i}"}, headers=headers)
            for i in range(4)
        )
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201, 409, 409, 409]
    assert all(r.json()["code"] == "duplicate_sku" for r in responses if r.status_code == 409)
    assert await count(db, "products") == 1


async def test_product_filters_pages_and_who_may_do_what(client, db) -> None:
    headers = await admin(db)
    category = (await create(db, "product_category", {"name": "Snacks"}))["id"]
    chips = await make_product(db, name="Potato Chips", category_id=uuid.UUID(category))
    await make_product(db, name="Old Chips", active=False)
    for _ in range(10):
        await make_product(db)
    assert len(await walk_pages(client, "/products", headers, limit=5)) == 12

    async def found(query: str) -> set[str]:
        response = await client.get(f"/products?{query}", headers=headers)
        return {p["id"] for p in response.json()["items"]}

    assert await found(f"category_id={category}") == {str(chips)}
    assert len(await found("active=false")) == 1
    assert len(await found("q=chips")) == 2

    for role in ("rep", "manager"):
        user_headers = await auth_headers(db, await make_user(db, role))
        assert (await client.get("/products", headers=user_headers)).status_code == 200
        assert (await client.get(f"/products/{chips}", headers=user_headers)).status_code == 200
        assert (await client.get("/product-categories", headers=user_headers)).status_code == 200
        write = await client.post("/products", json={"sku": "X", "name": "X"}, headers=user_headers)
        assert write.status_code == 403
        patch = await client.patch(f"/products/{chips}", json={"name": "X"}, headers=user_headers)
        assert patch.status_code == 403
    assert await count(db, "products") == 12


async def test_price_list_rules(client, db) -> None:
    headers = await admin(db)
    account_id = await make_account(db)
    both = await client.post(
        "/price-lists",
        json={"name": "X", "segment": "education", "account_id": str(account_id)},
        headers=headers,
    )
    assert both.status_code == 422 and both.json()["field"] == "account_id"
    backwards = await client.post(
        "/price-lists",
        json={
            "name": "X",
            "valid_from": "2025-02-01T00:00:00Z",
            "valid_to": "2025-01-01T00:00:00Z",
        },
        headers=headers,
    )
    assert backwards.status_code == 422 and backwards.json()["field"] == "valid_to"
    for payload, field in (
        ({"name": "X", "currency": "usd"}, "currency"),
        ({"name": "X", "currency": "EURO"}, "currency"),
        ({"name": "X", "valid_from": "2025-01-01T00:00:00"}, "valid_from"),
        ({"name": "X", "account_id": str(uuid.uuid4())}, "account_id"),
    ):
        response = await client.post("/price-lists", json=payload, headers=headers)
        assert response.status_code == 422 and response.json()["field"] == field, payload
    assert await count(db, "price_lists") == 0

    segment_list = await client.post(
        "/price-lists",
        json={
            "name": "Schools",
            "segment": "education",
            "currency": "CNY",
            "valid_from": "2025-01-01T08:00:00+08:00",
        },
        headers=headers,
    )
    assert segment_list.status_code == 201
    assert segment_list.json()["valid_from"].startswith("2025-01-01T00:00:00")
    list_id = segment_list.json()["id"]
    to_account = await client.patch(
        f"/price-lists/{list_id}", json={"account_id": str(account_id)}, headers=headers
    )
    assert to_account.status_code == 422 and to_account.json()["field"] == "account_id"
    moved = await client.patch(
        f"/price-lists/{list_id}",
        json={"account_id": str(account_id), "segment": None},
        headers=headers,
    )
    assert moved.status_code == 200 and moved.json()["account_id"] == str(account_id)
    assert (await client.get(f"/price-lists?account_id={account_id}", headers=headers)).json()[
        "items"
    ][0]["id"] == list_id


async def test_entries_crud_duplicates_and_pages(client, db) -> None:
    headers = await admin(db)
    price_list = (await client.post("/price-lists", json={"name": "Base"}, headers=headers)).json()
    base = f"/price-lists/{price_list['id']}/entries"
    product = await make_product(db)
    first = await client.post(
        base, json={"product_id": str(product), "unit_price": "9.5"}, headers=headers
    )
    assert first.status_code == 201, first.text
    assert first.json()["min_quantity"] == "1.0000" and first.json()["unit_price"] == "9.5000"
    same_tier = await client.post(
        base,
        json={"product_id": str(product), "unit_price": "8", "min_quantity": "1.0"},
        headers=headers,
    )
    assert same_tier.status_code == 409 and same_tier.json()["code"] == "duplicate_entry"
    tier = await client.post(
        base,
        json={"product_id": str(product), "unit_price": "8", "min_quantity": "10"},
        headers=headers,
    )
    assert tier.status_code == 201
    clash = await client.patch(
        f"{base}/{tier.json()['id']}", json={"min_quantity": "1"}, headers=headers
    )
    assert clash.status_code == 409
    for payload, field in (
        ({"product_id": str(product), "unit_price": "1", "min_quantity": "0"}, "min_quantity"),
        ({"product_id": str(product), "unit_price": "-1", "min_quantity": "5"}, "unit_price"),
        ({"product_id": str(uuid.uuid4()), "unit_price": "1", "min_quantity": "5"}, "product_id"),
    ):
        response = await client.post(base, json=payload, headers=headers)
        assert response.status_code == 422 and response.json()["field"] == field
    assert await count(db, "price_list_entries") == 2

    repriced = await client.patch(
        f"{base}/{tier.json()['id']}", json={"unit_price": "7.25"}, headers=headers
    )
    assert repriced.status_code == 200 and repriced.json()["unit_price"] == "7.2500"
    for _ in range(5):
        await client.post(
            base,
            json={"product_id": str(await make_product(db)), "unit_price": "1"},
            headers=headers,
        )
    assert len(await walk_pages(client, base, headers, limit=2)) == 7

    other = (await client.post("/price-lists", json={"name": "Other"}, headers=headers)).json()
    wrong_list = await client.get(
        f"/price-lists/{other['id']}/entries/{tier.json()['id']}", headers=headers
    )
    assert wrong_list.status_code in (404, 405)
    wrong_delete = await client.delete(
        f"/price-lists/{other['id']}/entries/{tier.json()['id']}", headers=headers
    )
    assert wrong_delete.status_code == 404
    missing = await client.get(f"/price-lists/{uuid.uuid4()}/entries", headers=headers)
    assert missing.status_code == 404 and missing.json()["field"] == "id"

    assert (
        await client.delete(f"/price-lists/{price_list['id']}", headers=headers)
    ).status_code == 204
    assert await count(db, "price_list_entries") == 0


async def test_account_price_lists_sync_with_their_account(client, db) -> None:
    headers = await admin(db)
    tree = await make_tree(db)
    account_id = await make_account(db, territory_id=tree["n1a"])
    price_list = (
        await client.post(
            "/price-lists", json={"name": "Special", "account_id": str(account_id)}, headers=headers
        )
    ).json()
    entry = await client.post(
        f"/price-lists/{price_list['id']}/entries",
        json={"product_id": str(await make_product(db)), "unit_price": "3"},
        headers=headers,
    )
    assert entry.status_code == 201
    general = (await client.post("/price-lists", json={"name": "All"}, headers=headers)).json()

    async def keys() -> dict[str, str]:
        async with db.sessions() as session:
            rows = await session.execute(
                sa.text(
                    "SELECT entity, record_id, scope_key FROM sync_records "
                    "WHERE entity IN ('price_list', 'price_list_entry')"
                )
            )
            return {f"{e}:{uuid.UUID(str(r))}": k for e, r, k in rows}

    found = await keys()
    assert found[f"price_list:{price_list['id']}"] == f"t:{tree['n1a']}"
    assert found[f"price_list_entry:{entry.json()['id']}"] == f"t:{tree['n1a']}"
    assert found[f"price_list:{general['id']}"] == "global"
    await client.patch(
        f"/accounts/{account_id}", json={"territory_id": str(tree["s1a"])}, headers=headers
    )
    moved = await keys()
    assert moved[f"price_list:{price_list['id']}"] == f"t:{tree['s1a']}"
    assert moved[f"price_list_entry:{entry.json()['id']}"] == f"t:{tree['s1a']}"
