"""The territory tree and its members over HTTP on both backends."""

from __future__ import annotations

import uuid

import pytest

from server.sfa.territories.rules import hierarchy_problem
from tests.builders import auth_headers, make_user
from tests.integration.sfa.core_builders import (
    count,
    make_account,
    make_territory,
    make_tree,
    walk_pages,
)


@pytest.mark.parametrize(
    ("level", "parent", "ok"),
    [
        ("region", None, True),
        ("region", "region", False),
        ("area", "region", True),
        ("area", None, False),
        ("area", "territory", False),
        ("territory", "area", True),
        ("territory", "region", False),
        ("territory", None, False),
    ],
)
def test_hierarchy_rule(level: str, parent: str | None, ok: bool) -> None:
    assert (hierarchy_problem(level, parent) is None) is ok


async def test_build_the_tree_over_http(client, db) -> None:
    headers = await auth_headers(db, await make_user(db, "admin"))
    region = await client.post(
        "/territories", json={"name": "East", "level": "region"}, headers=headers
    )
    assert region.status_code == 201 and region.json()["parent_id"] is None
    area = await client.post(
        "/territories",
        json={"name": "Jiangsu", "level": "area", "parent_id": region.json()["id"]},
        headers=headers,
    )
    assert area.status_code == 201
    leaf = await client.post(
        "/territories",
        json={"name": "Nanjing", "level": "territory", "parent_id": area.json()["id"]},
        headers=headers,
    )
    assert leaf.status_code == 201 and leaf.json()["version"] == 1

    wrong = [
        ({"name": "X", "level": "territory", "parent_id": region.json()["id"]}, "parent_id"),
        ({"name": "X", "level": "region", "parent_id": region.json()["id"]}, "parent_id"),
        ({"name": "X", "level": "area"}, "parent_id"),
        ({"name": "X", "level": "area", "parent_id": str(uuid.uuid4())}, "parent_id"),
        ({"name": "X", "level": "county"}, "level"),
    ]
    for payload, field in wrong:
        response = await client.post("/territories", json=payload, headers=headers)
        assert response.status_code == 422 and response.json()["field"] == field, payload
    assert await count(db, "territories") == 3

    renamed = await client.patch(
        f"/territories/{leaf.json()['id']}", json={"name": "Nanjing City"}, headers=headers
    )
    assert renamed.json()["name"] == "Nanjing City" and renamed.json()["version"] == 2
    level_change = await client.patch(
        f"/territories/{leaf.json()['id']}", json={"level": "area"}, headers=headers
    )
    assert level_change.status_code == 422 and level_change.json()["code"] == "unknown_field"
    bad_move = await client.patch(
        f"/territories/{leaf.json()['id']}",
        json={"parent_id": region.json()["id"]},
        headers=headers,
    )
    assert bad_move.status_code == 422

    levels = await client.get("/territories?level=area", headers=headers)
    assert [t["id"] for t in levels.json()["items"]] == [area.json()["id"]]
    children = await client.get(f"/territories?parent_id={area.json()['id']}", headers=headers)
    assert [t["id"] for t in children.json()["items"]] == [leaf.json()["id"]]
    assert len(await walk_pages(client, "/territories", headers, limit=2)) == 3


async def test_move_an_area_to_another_region(client, db) -> None:
    headers = await auth_headers(db, await make_user(db, "admin"))
    tree = await make_tree(db)
    moved = await client.patch(
        f"/territories/{tree['n1']}", json={"parent_id": str(tree["south"])}, headers=headers
    )
    assert moved.status_code == 200 and moved.json()["parent_id"] == str(tree["south"])


async def test_delete_only_empty_nodes(client, db) -> None:
    headers = await auth_headers(db, await make_user(db, "admin"))
    tree = await make_tree(db)
    with_children = await client.delete(f"/territories/{tree['n1']}", headers=headers)
    assert with_children.status_code == 409 and with_children.json()["code"] == "in_use"
    await make_account(db, territory_id=tree["n1a"])
    with_accounts = await client.delete(f"/territories/{tree['n1a']}", headers=headers)
    assert with_accounts.status_code == 409
    rep = await make_user(db, "rep")
    await client.put(f"/territories/{tree['n1b']}/members/{rep.id}", headers=headers)
    assert (await client.delete(f"/territories/{tree['n1b']}", headers=headers)).status_code == 204
    assert await count(db, "territory_members") == 0
    missing = await client.delete(f"/territories/{tree['n1b']}", headers=headers)
    assert missing.status_code == 404 and missing.json()["field"] == "id"


async def test_members(client, db) -> None:
    headers = await auth_headers(db, await make_user(db, "admin"))
    territory = await make_territory(db)
    reps = [await make_user(db, "rep") for _ in range(5)]
    for rep in reps:
        added = await client.put(f"/territories/{territory}/members/{rep.id}", headers=headers)
        assert added.status_code == 200, added.text
        assert added.json()["user_id"] == str(rep.id) and added.json()["role"] == "rep"
    again = await client.put(f"/territories/{territory}/members/{reps[0].id}", headers=headers)
    assert again.status_code == 200 and await count(db, "territory_members") == 5

    pages: list[str] = []
    cursor = None
    while True:
        query = f"/territories/{territory}/members?limit=2" + (
            f"&cursor={cursor}" if cursor else ""
        )
        body = (await client.get(query, headers=headers)).json()
        pages += [m["user_id"] for m in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert sorted(pages) == sorted(str(r.id) for r in reps) and len(pages) == 5

    admin_user = await make_user(db, "admin")
    retired = await make_user(db, "rep", active=False)
    for user_id, status in ((admin_user.id, 422), (retired.id, 422), (uuid.uuid4(), 404)):
        response = await client.put(f"/territories/{territory}/members/{user_id}", headers=headers)
        assert response.status_code == status and response.json()["field"] == "user_id"
    unknown_node = await client.put(
        f"/territories/{uuid.uuid4()}/members/{reps[0].id}", headers=headers
    )
    assert unknown_node.status_code == 404 and unknown_node.json()["field"] == "id"

    removed = await client.delete(f"/territories/{territory}/members/{reps[0].id}", headers=headers)
    assert removed.status_code == 204
    twice = await client.delete(f"/territories/{territory}/members/{reps[0].id}", headers=headers)
    assert twice.status_code == 404 and twice.json()["field"] == "user_id"
    assert await count(db, "territory_members") == 4


async def test_roles(client, db) -> None:
    tree = await make_tree(db)
    manager_headers = await auth_headers(db, await make_user(db, "manager"))
    rep_headers = await auth_headers(db, await make_user(db, "rep"))
    assert (await client.get("/territories", headers=manager_headers)).status_code == 200
    members = await client.get(f"/territories/{tree['n1']}/members", headers=manager_headers)
    assert members.status_code == 200
    for headers in (manager_headers, rep_headers):
        created = await client.post(
            "/territories", json={"name": "X", "level": "region"}, headers=headers
        )
        assert created.status_code == 403
        renamed = await client.patch(
            f"/territories/{tree['n1']}", json={"name": "X"}, headers=headers
        )
        assert renamed.status_code == 403
    assert (await client.get("/territories", headers=rep_headers)).status_code == 403
    assert await count(db, "territories") == 7
