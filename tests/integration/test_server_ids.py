"""Ids the server makes are UUIDv7, so keyset pages (ordered by id) list records oldest-first."""

from __future__ import annotations

import uuid

from protocol.ids import uuid7
from server.db import Database
from server.sync.conflicts import record_conflict
from server.sync.registry import Principal
from tests.builders import auth_headers, make_user


async def test_rest_created_records_get_uuid7_ids_listed_oldest_first(client, db: Database) -> None:
    headers = await auth_headers(db, await make_user(db, "admin"))
    created = []
    for n in range(6):
        response = await client.post("/accounts", json={"name": f"A{n}"}, headers=headers)
        assert response.status_code == 201, response.text
        created.append(response.json()["id"])
    product = await client.post(
        "/products", json={"sku": "S-1", "name": "Soap", "list_price": "1.00"}, headers=headers
    )
    assert product.status_code == 201, product.text
    for value in [*created, product.json()["id"]]:
        assert uuid.UUID(value).version == 7, value
    listed = await client.get("/accounts", params={"limit": 3}, headers=headers)
    second = await client.get(
        "/accounts", params={"limit": 3, "cursor": listed.json()["next_cursor"]}, headers=headers
    )
    names = [a["name"] for a in listed.json()["items"] + second.json()["items"]]
    assert names == [f"A{n}" for n in range(6)]  # keyset pages are oldest-first


async def test_conflict_records_get_uuid7_ids(db: Database) -> None:
    from server.app import build_registry
    from server.sync.conflicts import register_engine_entities
    from server.sync.writer import ChangeWriter

    registry = build_registry()
    register_engine_entities(registry)
    rep = await make_user(db, "rep")
    principal = Principal(user_id=rep.id, role="rep", device_id=uuid7())
    async with db.transaction() as session:
        conflict_id = await record_conflict(
            ChangeWriter(registry),
            session,
            entity="account",
            record_id=uuid7(),
            principal=principal,
            mid=1,
            kind="field",
            fields=[],
            scope_key=f"user:{rep.id}",
        )
    assert conflict_id.version == 7
