"""Payables by rep and territory (those of the purchase order's warehouse's owner: the van's
rep) and the manager's scope: central warehouses' payables and their own reps' vans only."""

from __future__ import annotations

import uuid

from tests.builders import auth_headers, make_user
from tests.integration.purchasing.builders import Shop, make_po, make_shop, receive
from tests.integration.sfa.core_builders import add_member, make_tree, make_warehouse, walk_pages


async def payable_at(client, shop: Shop, warehouse: uuid.UUID | str) -> str:
    """One payable of 10 EUR, received into ``warehouse``; its id."""
    po = await make_po(
        client, Shop(shop.admin, shop.supplier, str(warehouse), shop.products), [(0, "1", "10")]
    )
    received = await receive(client, shop, po["id"], [(0, "1")])
    assert received.status_code == 201, received.text
    return str(received.json()["payable_id"])


async def ids(client, headers, query: str = "") -> set[str]:
    page = await client.get(f"/payables?include_settled=true{query}", headers=headers)
    assert page.status_code == 200, page.text
    return {item["id"] for item in page.json()["items"]}


async def test_payables_by_rep_territory_and_the_managers_scope(client, db) -> None:
    tree = await make_tree(db)
    shop = await make_shop(client, db)
    manager = await make_user(db, "manager")
    north_rep, south_rep = await make_user(db, "rep"), await make_user(db, "rep")
    await add_member(db, tree["n1"], manager.id)
    await add_member(db, tree["n1a"], north_rep.id)
    await add_member(db, tree["s1a"], south_rep.id)
    north_van = await make_warehouse(db, owner_id=north_rep.id)
    south_van = await make_warehouse(db, owner_id=south_rep.id)
    central = await payable_at(client, shop, shop.warehouse)
    north = await payable_at(client, shop, north_van)
    south = await payable_at(client, shop, south_van)

    admin = shop.admin
    assert await ids(client, admin) == {central, north, south}
    assert await ids(client, admin, f"&rep_id={north_rep.id}") == {north}
    assert await ids(client, admin, f"&territory_id={tree['s1a']}") == {south}
    assert await ids(client, admin, f"&territory_id={tree['n1b']}") == set()
    both = f"&rep_id={north_rep.id}&territory_id={tree['s1a']}"
    assert await ids(client, admin, both) == set()  # filters combine

    boss = await auth_headers(db, manager)
    assert await ids(client, boss) == {central, north}
    assert await ids(client, boss, f"&rep_id={south_rep.id}") == set()
    assert (await client.get(f"/payables/{south}", headers=boss)).status_code == 404
    assert (await client.get(f"/payables/{south}/payments", headers=boss)).status_code == 404
    assert (await client.get(f"/payables/{north}", headers=boss)).status_code == 200
    # the totals count only what the manager sees
    page = (await client.get("/payables", headers=boss)).json()
    [eur] = page["totals"]
    assert (eur["count"], eur["total"]) == (2, "20.0000")
    # pages walk every visible payable once
    assert sorted(await walk_pages(client, "/payables", boss, 1)) == sorted([central, north])
    rep = await auth_headers(db, north_rep)
    assert (await client.get("/payables", headers=rep)).status_code == 403
