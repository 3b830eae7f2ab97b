"""``/contacts`` over HTTP on both backends: CRUD, validation, pagination, filters, scope."""

from __future__ import annotations

import uuid

from tests.builders import auth_headers, make_user
from tests.integration.sfa.core_builders import (
    add_member,
    count,
    make_account,
    make_contact,
    make_tree,
    walk_pages,
)


async def admin(db) -> dict[str, str]:
    return await auth_headers(db, await make_user(db, "admin"))


async def test_create_read_update_delete(client, db) -> None:
    headers = await admin(db)
    account_id = await make_account(db)
    created = await client.post(
        "/contacts",
        json={
            "account_id": str(account_id),
            "name": "Li Wei",
            "role": "decision_maker",
            "title": "Purchasing head",
            "phone": "+86 21 5555 0101",
            "email": "li.wei@example.cn",
        },
        headers=headers,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["role"] == "decision_maker" and body["version"] == 1
    contact_id = body["id"]
    assert (await client.get(f"/contacts/{contact_id}", headers=headers)).json() == body

    patched = await client.patch(
        f"/contacts/{contact_id}",
        json={"title": "CFO", "notes": "prefers mornings"},
        headers=headers,
    )
    assert patched.status_code == 200
    assert patched.json()["title"] == "CFO" and patched.json()["email"] == "li.wei@example.cn"
    assert patched.json()["version"] == 2

    other = await make_account(db)
    moved = await client.patch(
        f"/contacts/{contact_id}", json={"account_id": str(other)}, headers=headers
    )
    assert moved.status_code == 200 and moved.json()["account_id"] == str(other)

    assert (await client.delete(f"/contacts/{contact_id}", headers=headers)).status_code == 204
    gone = await client.get(f"/contacts/{contact_id}", headers=headers)
    assert gone.status_code == 404 and gone.json()["field"] == "id"


async def test_invalid_contacts_are_refused_with_field_and_nothing_written(client, db) -> None:
    headers = await admin(db)
    account_id = str(await make_account(db))
    cases = [
        ({"account_id": account_id, "name": "A", "email": "not-an-email"}, "email"),
        ({"account_id": account_id, "name": "A", "email": "a@b"}, "email"),
        ({"account_id": account_id, "name": "A", "role": "boss"}, "role"),
        ({"account_id": account_id, "name": ""}, "name"),
        ({"account_id": account_id, "name": "A", "phone": "1" * 60}, "phone"),
        ({"account_id": str(uuid.uuid4()), "name": "A"}, "account_id"),
        ({"account_id": account_id, "name": "A", "age": 3}, "age"),
    ]
    for payload, field in cases:
        response = await client.post("/contacts", json=payload, headers=headers)
        assert response.status_code == 422, (payload, response.text)
        assert response.json()["field"] == field, (payload, response.json())
    assert await count(db, "contacts") == 0
    contact_id = await make_contact(db, uuid.UUID(account_id))
    bad_move = await client.patch(
        f"/contacts/{contact_id}",
        json={"account_id": str(uuid.uuid4()), "name": "New"},
        headers=headers,
    )
    assert bad_move.status_code == 422 and bad_move.json()["field"] == "account_id"
    kept = (await client.get(f"/contacts/{contact_id}", headers=headers)).json()
    assert kept["account_id"] == account_id and kept["name"] != "New" and kept["version"] == 1


async def test_pages_and_filters(client, db) -> None:
    headers = await admin(db)
    first = await make_account(db)
    second = await make_account(db)
    made = {str(await make_contact(db, first)) for _ in range(9)}
    buyer = await make_contact(
        db, second, name="Zhang Buyer", role="buyer", email="Zhang@Example.com"
    )
    ids = await walk_pages(client, f"/contacts?account_id={first}", headers, limit=4)
    assert len(ids) == 9 and set(ids) == made
    everything = await walk_pages(client, "/contacts", headers, limit=3)
    assert len(everything) == 10 == len(set(everything))

    async def found(query: str) -> set[str]:
        response = await client.get(f"/contacts?{query}", headers=headers)
        assert response.status_code == 200
        return {item["id"] for item in response.json()["items"]}

    assert await found("role=buyer") == {str(buyer)}
    assert await found("email=zhang@example.com") == {str(buyer)}
    assert await found("q=zhang") == {str(buyer)}
    bad = await client.get("/contacts?account_id=xyz", headers=headers)
    assert bad.status_code == 422 and bad.json()["field"] == "account_id"
    garbage = await client.get("/contacts?cursor=%%%", headers=headers)
    assert garbage.json()["code"] == "invalid_cursor"


async def test_scope_follows_the_account(client, db) -> None:
    tree = await make_tree(db)
    manager = await make_user(db, "manager")
    await add_member(db, tree["s1"], manager.id)
    headers = await auth_headers(db, manager)
    mine = await make_account(db, territory_id=tree["s1a"])
    theirs = await make_account(db, territory_id=tree["n1a"])
    visible = await make_contact(db, mine)
    hidden = await make_contact(db, theirs)

    listed = await walk_pages(client, "/contacts", headers, limit=10)
    assert listed == [str(visible)]
    assert (await client.get(f"/contacts/{hidden}", headers=headers)).status_code == 404
    assert (await client.delete(f"/contacts/{hidden}", headers=headers)).status_code == 404
    into_hidden = await client.post(
        "/contacts", json={"account_id": str(theirs), "name": "X"}, headers=headers
    )
    assert into_hidden.status_code == 422 and into_hidden.json()["field"] == "account_id"
    steal = await client.patch(
        f"/contacts/{visible}", json={"account_id": str(theirs)}, headers=headers
    )
    assert steal.status_code == 422
    assert await count(db, "contacts") == 2

    rep = await make_user(db, "rep")
    rep_headers = await auth_headers(db, rep)
    assert (await client.get("/contacts", headers=rep_headers)).status_code == 403
