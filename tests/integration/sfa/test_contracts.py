"""Contracts over REST: sources, status machine, notes, schedule, scope and bad input."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from server.sfa.quotes.models import Quote
from tests.builders import auth_headers, make_user
from tests.integration.sfa.core_builders import (
    add_member,
    count,
    make_account,
    make_contact,
    make_territory,
    walk_pages,
)
from tests.integration.sfa.finance_builders import admin_headers, days, new_contract
from tests.synctools import create_as, insert_account


async def accept(db, quote_id: str) -> None:
    """Mark a quote accepted (the quote flow itself is tested with the quotes)."""
    async with db.transaction() as session:
        await session.execute(
            sa.update(Quote.__table__)
            .where(Quote.__table__.c.id == uuid.UUID(quote_id))
            .values(status="accepted")
        )


async def test_a_blank_contract_is_created_read_listed_and_patched(client, db) -> None:
    headers = await admin_headers(db)
    account = await make_account(db)
    contact = await make_contact(db, account)
    created = await new_contract(
        client, headers, account, signing_contact_id=str(contact), title="Supply 2027"
    )
    assert (created["status"], created["value"], created["collected"]) == (
        "draft",
        "1000.0000",
        "0.0000",
    )
    assert created["outstanding"] == "1000.0000" and created["signing_contact_id"] == str(contact)
    one = await client.get(f"/contracts/{created['id']}", headers=headers)
    assert one.status_code == 200 and one.headers["etag"] == '"1"'
    stale = await client.patch(
        f"/contracts/{created['id']}",
        json={"title": "Renamed"},
        headers={**headers, "If-Match": '"7"'},
    )
    assert stale.status_code == 412 and stale.json()["code"] == "version_mismatch"
    patched = await client.patch(
        f"/contracts/{created['id']}",
        json={"title": "Renamed", "value": "1500"},
        headers={**headers, "If-Match": '"1"'},
    )
    assert patched.status_code == 200, patched.text
    assert (patched.json()["value"], patched.json()["outstanding"]) == ("1500.0000", "1500.0000")
    other = await new_contract(client, headers, await make_account(db))
    listed = await client.get(f"/contracts?account_id={account}", headers=headers)
    assert [c["id"] for c in listed.json()["items"]] == [created["id"]]
    every = await walk_pages(client, "/contracts", headers, limit=1)
    assert every == [created["id"], other["id"]]


async def test_status_moves_only_along_allowed_transitions(client, db) -> None:
    headers = await admin_headers(db)
    contract = await new_contract(client, headers, await make_account(db))
    url = f"/contracts/{contract['id']}"
    skipped = await client.patch(url, json={"status": "completed"}, headers=headers)
    assert skipped.status_code == 409
    assert (skipped.json()["code"], skipped.json()["field"]) == ("invalid_state", "status")
    for status in ("active", "completed"):
        moved = await client.patch(url, json={"status": status}, headers=headers)
        assert moved.status_code == 200 and moved.json()["status"] == status
    back = await client.patch(url, json={"status": "active"}, headers=headers)
    assert back.status_code == 409
    listed = await client.get("/contracts?status=completed", headers=headers)
    assert [c["id"] for c in listed.json()["items"]] == [contract["id"]]


async def test_a_contract_from_an_accepted_quote_takes_its_value(client, db) -> None:
    headers = await admin_headers(db)
    rep = await make_user(db, "rep")
    account = await insert_account(db, owner_id=rep.id)
    quote = await create_as(db, rep, "quote", {"account_id": str(account), "total": "0"})
    base = {"quote_id": quote["id"], "start_date": days(0), "end_date": days(30)}
    refused = await client.post("/contracts", json=base, headers=headers)
    assert (refused.status_code, refused.json()["code"]) == (422, "quote_not_accepted")
    await accept(db, quote["id"])
    made = await client.post("/contracts", json={**base, "value": "250"}, headers=headers)
    assert made.status_code == 201, made.text
    body = made.json()
    assert (body["quote_id"], body["account_id"], body["owner_id"]) == (
        quote["id"],
        str(account),
        str(rep.id),
    )
    assert body["value"] == "250.0000" and body["currency"] == "CNY"


async def test_a_contract_from_orders_needs_confirmed_orders_of_one_account(client, db) -> None:
    headers = await admin_headers(db)
    rep = await make_user(db, "rep")
    account, elsewhere = await insert_account(db, owner_id=rep.id), await insert_account(db)
    orders = [
        await create_as(db, rep, "order", {"account_id": str(a), "status": "confirmed"})
        for a in (account, account, elsewhere)
    ]
    draft = await create_as(db, rep, "order", {"account_id": str(account)})
    base = {"start_date": days(0), "end_date": days(30), "value": "10"}
    unconfirmed = await client.post(
        "/contracts", json={**base, "order_ids": [orders[0]["id"], draft["id"]]}, headers=headers
    )
    assert unconfirmed.status_code == 422
    assert (unconfirmed.json()["code"], unconfirmed.json()["field"]) == (
        "order_not_confirmed",
        "order_ids.1",
    )
    mixed = await client.post(
        "/contracts", json={**base, "order_ids": [o["id"] for o in orders]}, headers=headers
    )
    assert (mixed.status_code, mixed.json()["field"]) == (422, "order_ids.2")
    made = await client.post(
        "/contracts", json={**base, "order_ids": [o["id"] for o in orders[:2]]}, headers=headers
    )
    assert made.status_code == 201 and made.json()["account_id"] == str(account)
    again = await client.post(
        "/contracts", json={**base, "order_ids": [orders[1]["id"]]}, headers=headers
    )
    assert (again.status_code, again.json()["code"]) == (409, "order_in_contract")
    assert await count(db, "contracts") == 1


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"end_date": days(-200)}, 422, "end_before_start", "end_date"),
        ({"value": "0"}, 422, "validation_error", "value"),
        ({"value": "1.00001"}, 422, "validation_error", "value"),
        ({"currency": "eur"}, 422, "validation_error", "currency"),
        ({"currency": None}, 422, "validation_error", "currency"),
        ({"frobnicate": 1}, 422, "unknown_field", "frobnicate"),
    ],
)
async def test_bad_contracts_are_refused_with_code_and_field(
    client, db, body, status, code, field
) -> None:
    headers = await admin_headers(db)
    account = await make_account(db)
    payload = {
        "account_id": str(account),
        "value": "10",
        "currency": "CNY",
        "start_date": days(-120),
        "end_date": days(10),
        **body,
    }
    response = await client.post("/contracts", json=payload, headers=headers)
    assert response.status_code == status, response.text
    assert (response.json()["code"], response.json()["field"]) == (code, field)
    assert await count(db, "contracts") == 0


async def test_the_signing_contact_must_belong_to_the_account(client, db) -> None:
    headers = await admin_headers(db)
    account, other = await make_account(db), await make_account(db)
    stranger = await make_contact(db, other)
    response = await client.post(
        "/contracts",
        json={
            "account_id": str(account),
            "signing_contact_id": str(stranger),
            "value": "10",
            "currency": "CNY",
            "start_date": days(0),
            "end_date": days(1),
        },
        headers=headers,
    )
    assert response.status_code == 422
    assert response.json()["field"] == "signing_contact_id"
    assert await count(db, "contracts") == 0
    contract = await new_contract(client, headers, account)
    patched = await client.patch(
        f"/contracts/{contract['id']}",
        json={"end_date": days(-365)},
        headers=headers,
    )
    assert (patched.status_code, patched.json()["code"]) == (422, "end_before_start")


async def test_notes_are_dated_and_paginated(client, db) -> None:
    headers = await admin_headers(db)
    contract = await new_contract(client, headers, await make_account(db))
    url = f"/contracts/{contract['id']}/notes"
    for day, text in ((-3, "signed"), (-1, "first delivery")):
        added = await client.post(url, json={"noted_on": days(day), "text": text}, headers=headers)
        assert added.status_code == 201, added.text
    empty = await client.post(url, json={"noted_on": days(0), "text": ""}, headers=headers)
    assert (empty.status_code, empty.json()["field"]) == (422, "text")
    page = await client.get(f"{url}?limit=1", headers=headers)
    assert [n["text"] for n in page.json()["items"]] == ["signed"]
    rest = await client.get(f"{url}?cursor={page.json()['next_cursor']}", headers=headers)
    assert [n["noted_on"] for n in rest.json()["items"]] == [days(-1)]


async def test_managers_act_in_their_subtree_and_reps_are_refused(client, db) -> None:
    admin = await admin_headers(db)
    north, south = await make_territory(db), await make_territory(db)
    manager = await make_user(db, "manager")
    await add_member(db, north, manager.id)
    mine = await make_account(db, territory_id=north)
    theirs = await make_account(db, territory_id=south)
    foreign = await new_contract(client, admin, theirs)
    headers = await auth_headers(db, manager)
    own = await new_contract(client, headers, mine)
    listed = await client.get("/contracts", headers=headers)
    assert [c["id"] for c in listed.json()["items"]] == [own["id"]]
    assert (await client.get(f"/contracts/{foreign['id']}", headers=headers)).status_code == 404
    hidden = await client.patch(f"/contracts/{foreign['id']}", json={"title": "x"}, headers=headers)
    assert hidden.status_code == 404
    outside = await client.post(
        "/contracts",
        json={
            "account_id": str(theirs),
            "value": "1",
            "currency": "CNY",
            "start_date": days(0),
            "end_date": days(1),
        },
        headers=headers,
    )
    assert (outside.status_code, outside.json()["field"]) == (422, "account_id")
    rep = await auth_headers(db, await make_user(db, "rep"))
    for response in (
        await client.get("/contracts", headers=rep),
        await client.get(f"/contracts/{own['id']}", headers=rep),
        await client.post("/contracts", json={}, headers=rep),
    ):
        assert response.status_code == 403
