"""Scope and ownership of the SFA entities on push, and one scope answer for REST and sync:
moves into another rep's accounts, frozen customers of documents, owners on edit, admins'
owner-only accounts, a rep's new account without an owner, and account price lists over REST."""

from __future__ import annotations

import uuid

from protocol.ids import uuid7
from tests.builders import auth_headers, make_user
from tests.integration.sfa.core_builders import (
    add_member,
    make_account,
    make_product,
    make_tree,
)
from tests.pricing_tools import insert_entry, insert_price_list
from tests.synctools import device_for

PLANNED = "2026-03-02T09:00:00Z"


def line(product_id: uuid.UUID) -> dict[str, str]:
    return {
        "id": str(uuid7()),
        "product_id": str(product_id),
        "quantity": "2",
        "unit_price": "10.00",
        "discount_pct": "0",
        "tax_rate": "0.13",
    }


async def sold_product(db) -> uuid.UUID:
    """A product the server can price (a standard list at 10.00, 13 % tax)."""
    product = await make_product(db, tax_rate="0.13")
    price_list = await insert_price_list(db, currency="CNY")
    await insert_entry(db, price_list, product, "10.00")
    return product


async def two_reps(db):
    """Rep A in n1a with two accounts, rep B in s1a with one."""
    tree = await make_tree(db)
    rep_a, rep_b = await make_user(db, "rep"), await make_user(db, "rep")
    await add_member(db, tree["n1a"], rep_a.id)
    await add_member(db, tree["s1a"], rep_b.id)
    mine = await make_account(db, territory_id=tree["n1a"], owner_id=rep_a.id)
    also_mine = await make_account(db, territory_id=tree["n1a"])
    theirs = await make_account(db, territory_id=tree["s1a"], owner_id=rep_b.id)
    return tree, rep_a, rep_b, mine, also_mine, theirs


async def create_children(device, account_id, product_id) -> dict[str, str]:
    """A contact, visit, opportunity, draft quote and draft order of ``account_id``, pushed."""
    account = str(account_id)
    ids = {name: str(uuid7()) for name in ("contact", "visit", "opportunity", "quote", "order")}
    results = await device.push(
        device.mutation("contact", ids["contact"], "upsert", {"account_id": account, "name": "C"}),
        device.mutation(
            "visit", ids["visit"], "upsert", {"account_id": account, "planned_at": PLANNED}
        ),
        device.mutation(
            "opportunity", ids["opportunity"], "upsert", {"account_id": account, "name": "Deal"}
        ),
        device.mutation(
            "quote", ids["quote"], "upsert", {"account_id": account, "lines": [line(product_id)]}
        ),
        device.mutation(
            "order", ids["order"], "upsert", {"account_id": account, "lines": [line(product_id)]}
        ),
    )
    assert [r["status"] for r in results] == ["applied"] * 5, results
    return ids


async def test_edit_cannot_move_record_into_foreign_scope(client, db) -> None:
    _, rep_a, rep_b, mine, also_mine, theirs = await two_reps(db)
    product = await sold_product(db)
    device_a = await device_for(client, db, rep_a)
    device_b = await device_for(client, db, rep_b)
    ids = await create_children(device_a, mine, product)

    results = await device_a.push(
        *(
            device_a.mutation(entity, record_id, "upsert", {"account_id": str(theirs)}, 1)
            for entity, record_id in ids.items()
        )
    )
    for result in results:
        assert result["status"] == "rejected", result
        assert result["error"]["code"] == "out_of_scope"
        assert result["error"]["field"] == "account_id"
        assert result["record"]["account_id"] == str(mine)
    snapshot, _ = await device_b.snapshot()
    assert not {(entity, record_id) for entity, record_id in ids.items()} & snapshot.keys()

    # moving a contact between two accounts the rep holds stays allowed
    moved = await device_a.push_one(
        "contact", ids["contact"], "upsert", {"account_id": str(also_mine)}, 1
    )
    assert moved["status"] == "applied", moved


async def test_document_account_is_frozen_once_it_leaves_draft(client, db) -> None:
    _, rep_a, _, mine, also_mine, _ = await two_reps(db)
    product = await sold_product(db)
    device = await device_for(client, db, rep_a)
    ids = await create_children(device, mine, product)
    sent, submitted = await device.push(
        device.mutation("quote", ids["quote"], "quote.send", {}, 1),
        device.mutation("order", ids["order"], "order.submit", {}, 1),
    )
    assert sent["record"]["status"] == "sent"
    assert submitted["record"]["status"] != "draft", submitted

    for entity in ("quote", "order"):
        result = await device.push_one(
            entity, ids[entity], "upsert", {"account_id": str(also_mine)}, 2
        )
        assert result["status"] == "rejected", result
        assert result["error"]["code"] == "invalid_state"
        assert result["error"]["field"] == "account_id"
        assert result["record"]["account_id"] == str(mine)


async def test_rep_cannot_reassign_owner_on_edit(client, db) -> None:
    tree, rep_a, rep_b, mine, _, _ = await two_reps(db)
    product = await sold_product(db)
    device = await device_for(client, db, rep_a)
    ids = await create_children(device, mine, product)

    owners = {
        "visit": "rep_id",
        "opportunity": "owner_id",
        "quote": "owner_id",
        "order": "owner_id",
    }
    results = await device.push(
        *(
            device.mutation(entity, ids[entity], "upsert", {field: str(rep_b.id)}, 1)
            for entity, field in owners.items()
        )
    )
    for (entity, field), result in zip(owners.items(), results, strict=True):
        assert result["status"] == "rejected", (entity, result)
        assert result["error"]["code"] == "forbidden" and result["error"]["field"] == field
        assert result["record"][field] == str(rep_a.id)

    # a manager may still hand a record to a rep
    manager = await make_user(db, "manager")
    await add_member(db, tree["n1a"], manager.id)
    manager_device = await device_for(client, db, manager)
    handed = await manager_device.push_one(
        "opportunity", ids["opportunity"], "upsert", {"owner_id": str(rep_b.id)}, 1
    )
    assert handed["status"] == "applied", handed


async def test_admin_receives_owner_only_accounts_over_sync(client, db) -> None:
    rep = await make_user(db, "rep")
    admin = await make_user(db, "admin")
    owned = await make_account(db, owner_id=rep.id)  # no territory: under u:<rep>
    rest = await client.get(f"/accounts/{owned}", headers=await auth_headers(db, admin))
    assert rest.status_code == 200

    snapshot, _ = await (await device_for(client, db, admin)).snapshot()
    assert ("account", str(owned)) in snapshot
    # the rep who owns it holds it too, as before
    snapshot, _ = await (await device_for(client, db, rep)).snapshot()
    assert ("account", str(owned)) in snapshot


async def test_rep_account_create_without_owner_defaults_to_pusher(client, db) -> None:
    rep = await make_user(db, "rep")
    device = await device_for(client, db, rep)
    account_id = str(uuid7())
    result = await device.push_one("account", account_id, "upsert", {"name": "New shop"})
    assert result["status"] == "applied", result
    snapshot, _ = await device.snapshot()
    assert snapshot[("account", account_id)]["owner_id"] == str(rep.id)


async def test_price_lists_over_rest_only_to_the_accounts_holders(client, db) -> None:
    tree, rep_a, rep_b, _, _, theirs = await two_reps(db)
    admin = await auth_headers(db, await make_user(db, "admin"))
    outsider = await make_user(db, "manager")
    await add_member(db, tree["north"], outsider.id)
    product = await make_product(db)
    general = (await client.post("/price-lists", json={"name": "All"}, headers=admin)).json()
    special = (
        await client.post(
            "/price-lists", json={"name": "Contract", "account_id": str(theirs)}, headers=admin
        )
    ).json()
    entry = await client.post(
        f"/price-lists/{special['id']}/entries",
        json={"product_id": str(product), "unit_price": "7.00"},
        headers=admin,
    )
    assert entry.status_code == 201, entry.text

    for user in (rep_a, outsider):
        headers = await auth_headers(db, user)
        listed = await client.get("/price-lists", headers=headers)
        assert listed.status_code == 200
        assert [p["id"] for p in listed.json()["items"]] == [general["id"]]
        by_account = await client.get(
            "/price-lists", params={"account_id": str(theirs)}, headers=headers
        )
        assert by_account.json()["items"] == []
        for path in (f"/price-lists/{special['id']}", f"/price-lists/{special['id']}/entries"):
            assert (await client.get(path, headers=headers)).status_code == 404, path
        # and sync agrees: the device holds the general list only
        snapshot, _ = await (await device_for(client, db, user)).snapshot()
        lists = {key[1] for key in snapshot if key[0] == "price_list"}
        assert lists == {general["id"]}

    holder = await auth_headers(db, rep_b)
    listed = await client.get("/price-lists", headers=holder)
    assert {p["id"] for p in listed.json()["items"]} == {general["id"], special["id"]}
    entries = await client.get(f"/price-lists/{special['id']}/entries", headers=holder)
    assert [e["unit_price"] for e in entries.json()["items"]] == ["7.0000"]
    snapshot, _ = await (await device_for(client, db, rep_b)).snapshot()
    assert ("price_list", special["id"]) in snapshot
    every = await client.get("/price-lists", headers=admin)
    assert {p["id"] for p in every.json()["items"]} == {general["id"], special["id"]}
