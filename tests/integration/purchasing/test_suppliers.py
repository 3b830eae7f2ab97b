"""Suppliers and their contacts over REST: CRUD, roles, If-Match, pages, bad input."""

from __future__ import annotations

from tests.builders import auth_headers, make_user
from tests.integration.sfa.core_builders import count, walk_pages


async def headers_of(db, role):
    return await auth_headers(db, await make_user(db, role))


async def test_supplier_crud_with_contacts_and_if_match(client, db) -> None:
    admin = await headers_of(db, "admin")
    created = await client.post(
        "/suppliers",
        json={"code": "ACME", "name": "Acme Tea", "payment_terms_days": 45, "currency": "EUR"},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    supplier = created.json()
    assert (supplier["payment_terms_days"], supplier["currency"], supplier["version"]) == (
        45,
        "EUR",
        1,
    )
    sid = supplier["id"]
    stale = await client.patch(
        f"/suppliers/{sid}", json={"name": "Acme"}, headers={**admin, "If-Match": '"7"'}
    )
    assert stale.status_code == 412 and stale.json()["code"] == "version_mismatch"
    changed = await client.patch(
        f"/suppliers/{sid}", json={"name": "Acme Ltd"}, headers={**admin, "If-Match": '"1"'}
    )
    assert changed.status_code == 200 and changed.json()["version"] == 2
    assert changed.headers["ETag"] == '"2"'

    contact = await client.post(
        f"/suppliers/{sid}/contacts", json={"name": "Li Wei", "title": "Sales"}, headers=admin
    )
    assert contact.status_code == 201, contact.text
    cid = contact.json()["id"]
    edited = await client.patch(
        f"/suppliers/{sid}/contacts/{cid}", json={"phone": "123", "version": 1}, headers=admin
    )
    assert edited.status_code == 200 and edited.json()["phone"] == "123"
    listed = await client.get(f"/suppliers/{sid}/contacts", headers=admin)
    assert [c["id"] for c in listed.json()["items"]] == [cid]
    stale_delete = await client.delete(
        f"/suppliers/{sid}/contacts/{cid}", headers={**admin, "If-Match": '"1"'}
    )
    assert stale_delete.status_code == 412
    assert (
        await client.delete(f"/suppliers/{sid}/contacts/{cid}", headers=admin)
    ).status_code == 204
    assert (await client.get(f"/suppliers/{sid}/contacts/{cid}", headers=admin)).status_code == 404

    assert (await client.delete(f"/suppliers/{sid}", headers=admin)).status_code == 204
    assert (await client.get(f"/suppliers/{sid}", headers=admin)).status_code == 404


async def test_suppliers_page_and_filter(client, db) -> None:
    admin = await headers_of(db, "admin")
    ids = []
    for n in range(5):
        body = {"code": f"S{n}", "name": f"Supplier {n}", "active": n != 2}
        ids.append((await client.post("/suppliers", json=body, headers=admin)).json()["id"])
    assert await walk_pages(client, "/suppliers", admin, 2) == ids
    inactive = await client.get("/suppliers?active=false", headers=admin)
    assert [s["id"] for s in inactive.json()["items"]] == [ids[2]]
    found = await client.get("/suppliers?q=supplier 4", headers=admin)
    assert [s["id"] for s in found.json()["items"]] == [ids[4]]


async def test_roles_managers_read_reps_are_refused(client, db) -> None:
    admin = await headers_of(db, "admin")
    manager = await headers_of(db, "manager")
    rep = await headers_of(db, "rep")
    sid = (await client.post("/suppliers", json={"code": "A", "name": "A"}, headers=admin)).json()[
        "id"
    ]
    assert (await client.get(f"/suppliers/{sid}", headers=manager)).status_code == 200
    refused = await client.post("/suppliers", json={"code": "B", "name": "B"}, headers=manager)
    assert refused.status_code == 403
    assert (await client.patch(f"/suppliers/{sid}", json={}, headers=manager)).status_code == 403
    assert (await client.get("/suppliers", headers=rep)).status_code == 403
    assert (await client.get(f"/suppliers/{sid}/contacts", headers=rep)).status_code == 403
    assert await count(db, "suppliers") == 1


async def test_bad_supplier_input_is_refused_and_writes_nothing(client, db) -> None:
    admin = await headers_of(db, "admin")
    assert (
        await client.post("/suppliers", json={"code": "A", "name": "A"}, headers=admin)
    ).status_code == 201
    cases = [
        ({"code": "A", "name": "again"}, 409, "duplicate_code", "code"),
        ({"code": "B", "name": "B", "payment_terms_days": -1}, 422, None, "payment_terms_days"),
        ({"code": "B", "name": "B", "currency": "euro"}, 422, None, "currency"),
        ({"code": "B", "name": "B", "colour": "red"}, 422, None, None),
        ({"code": "B", "name": ""}, 422, None, "name"),
    ]
    for body, status, code, field in cases:
        response = await client.post("/suppliers", json=body, headers=admin)
        assert response.status_code == status, (body, response.text)
        if code:
            assert response.json()["code"] == code
        if field:
            assert field in (response.json().get("field") or response.json()["message"])
    assert await count(db, "suppliers") == 1
    missing = "0190a000-0000-7000-8000-000000000000"
    response = await client.post(
        f"/suppliers/{missing}/contacts", json={"name": "X"}, headers=admin
    )
    assert response.status_code == 404 and response.json()["field"] == "supplier_id"
    assert await count(db, "supplier_contacts") == 0
