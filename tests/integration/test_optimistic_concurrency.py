"""Optimistic concurrency on every REST area: ``ETag`` from the version, ``If-Match`` on writes."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from server.db import Database
from tests.builders import auth_headers, make_user

# (collection, create body, patch body) of every REST area whose records carry a version
AREAS: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("/accounts", {"name": "Acme"}, {"city": "Lyon"}),
    ("/product-categories", {"name": "Drinks"}, {"name": "Beverages"}),
    ("/products", {"sku": "S-1", "name": "Soap"}, {"name": "Soap bar"}),
    ("/price-lists", {"name": "Retail", "currency": "EUR"}, {"name": "Retail 2"}),
    ("/warehouses", {"code": "W1", "name": "Main"}, {"name": "Main store"}),
    ("/territories", {"name": "North", "level": "region"}, {"name": "North-East"}),
]


async def admin(db: Database) -> dict[str, str]:
    return await auth_headers(db, await make_user(db, "admin"))


async def create(client: Any, headers: dict[str, str], path: str, body: dict[str, Any]) -> Any:
    response = await client.post(path, json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response


@pytest.mark.parametrize(("path", "body", "change"), AREAS, ids=[a[0] for a in AREAS])
async def test_stale_if_match_is_refused_with_412_on_every_area(
    client, db: Database, path: str, body: dict[str, Any], change: dict[str, Any]
) -> None:
    headers = await admin(db)
    created = await create(client, headers, path, body)
    assert created.headers["etag"] == '"1"'
    url = f"{path}/{created.json()['id']}"
    fetched = await client.get(url, headers=headers)
    assert fetched.headers["etag"] == '"1"'

    first = await client.patch(url, json=change, headers={**headers, "If-Match": '"1"'})
    assert first.status_code == 200, first.text
    assert first.headers["etag"] == '"2"' and first.json()["version"] == 2

    # a second writer still holding version 1 is refused, and nothing is written
    stale = await client.patch(url, json=change, headers={**headers, "If-Match": '"1"'})
    assert stale.status_code == 412, stale.text
    assert stale.json() == {
        "code": "version_mismatch",
        "message": stale.json()["message"],
        "field": "version",
        "data": {"version": 2},
    }
    assert (await client.get(url, headers=headers)).json() == first.json()

    refused = await client.delete(url, headers={**headers, "If-Match": 'W/"1"'})
    assert refused.status_code == 412 and refused.json()["data"] == {"version": 2}
    deleted = await client.delete(url, headers={**headers, "If-Match": '"2"'})
    assert deleted.status_code == 204, deleted.text
    assert (await client.get(url, headers=headers)).status_code == 404


async def test_version_in_the_patch_body_works_like_if_match(client, db: Database) -> None:
    headers = await admin(db)
    url = f"/accounts/{(await create(client, headers, '/accounts', {'name': 'A'})).json()['id']}"
    ok = await client.patch(url, json={"city": "Oslo", "version": 1}, headers=headers)
    assert ok.status_code == 200 and ok.json()["version"] == 2 and ok.json()["city"] == "Oslo"
    stale = await client.patch(url, json={"city": "Rome", "version": 1}, headers=headers)
    assert stale.status_code == 412 and stale.json()["data"] == {"version": 2}
    # an unchanged value with a stale version is refused too (the check comes first)
    same = await client.patch(url, json={"city": "Oslo", "version": 1}, headers=headers)
    assert same.status_code == 412
    # header and body must agree with the record
    both = await client.patch(
        url, json={"city": "Rome", "version": 2}, headers={**headers, "If-Match": '"1"'}
    )
    assert both.status_code == 412
    assert (await client.get(url, headers=headers)).json()["city"] == "Oslo"


async def test_without_if_match_writes_are_unconditional(client, db: Database) -> None:
    headers = await admin(db)
    url = f"/accounts/{(await create(client, headers, '/accounts', {'name': 'A'})).json()['id']}"
    for city in ("Oslo", "Rome"):
        assert (await client.patch(url, json={"city": city}, headers=headers)).status_code == 200
    star = await client.patch(url, json={"city": "Bern"}, headers={**headers, "If-Match": "*"})
    assert star.status_code == 200 and star.json()["version"] == 4
    listed = await client.get("/accounts", headers=headers)
    assert "etag" not in listed.headers  # a page is not one record


async def test_concurrent_patches_with_one_version_let_exactly_one_win(
    client, db: Database
) -> None:
    headers = await admin(db)
    url = f"/accounts/{(await create(client, headers, '/accounts', {'name': 'A'})).json()['id']}"
    answers = await asyncio.gather(
        *(
            client.patch(url, json={"city": f"C{n}"}, headers={**headers, "If-Match": '"1"'})
            for n in range(4)
        )
    )
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200, 412, 412, 412], [a.text for a in answers]
    winner = next(a for a in answers if a.status_code == 200).json()
    assert (await client.get(url, headers=headers)).json() == winner


async def test_stale_if_match_is_refused_for_contacts_and_price_list_entries(
    client, db: Database
) -> None:
    headers = await admin(db)
    account = (await create(client, headers, "/accounts", {"name": "A"})).json()["id"]
    contact = await create(client, headers, "/contacts", {"account_id": account, "name": "Ann"})
    product = (await create(client, headers, "/products", {"sku": "S", "name": "S"})).json()["id"]
    plist = (await create(client, headers, "/price-lists", {"name": "P", "currency": "EUR"})).json()
    entry = await create(
        client,
        headers,
        f"/price-lists/{plist['id']}/entries",
        {"product_id": product, "unit_price": "2.50"},
    )
    for created, url, change in (
        (contact, f"/contacts/{contact.json()['id']}", {"title": "Buyer"}),
        (entry, f"/price-lists/{plist['id']}/entries/{entry.json()['id']}", {"unit_price": "3"}),
    ):
        assert created.headers["etag"] == '"1"'
        assert (await client.patch(url, json=change, headers=headers)).status_code == 200
        stale = {**headers, "If-Match": '"1"'}
        assert (await client.patch(url, json=change, headers=stale)).status_code == 412
        refused = await client.delete(url, headers=stale)
        assert refused.status_code == 412 and refused.json()["data"] == {"version": 2}
        assert (await client.delete(url, headers={**headers, "If-Match": '"2"'})).status_code == 204


async def test_users_carry_a_version_and_honour_if_match(client, db: Database) -> None:
    headers = await admin(db)
    created = await client.post(
        "/users",
        json={"email": "ann@example.com", "name": "Ann", "role": "rep", "password": "long enough"},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    assert created.json()["version"] == 1 and created.headers["etag"] == '"1"'
    url = f"/users/{created.json()['id']}"
    first = await client.patch(url, json={"name": "Ann B"}, headers={**headers, "If-Match": '"1"'})
    assert first.status_code == 200 and first.headers["etag"] == '"2"'
    stale = await client.patch(url, json={"name": "Ann C"}, headers={**headers, "If-Match": '"1"'})
    assert stale.status_code == 412 and stale.json()["data"] == {"version": 2}
    body_stale = await client.patch(url, json={"name": "Ann C", "version": 1}, headers=headers)
    assert body_stale.status_code == 412
    assert (await client.get(url, headers=headers)).json()["name"] == "Ann B"
