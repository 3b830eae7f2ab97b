"""Deleting an account: contacts and its own price list go with it; commercial history never."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from server.sfa.catalog.models import PriceList
from server.sync.models import sync_records
from tests.builders import auth_headers, make_user
from tests.integration.sfa.core_builders import count, create, make_account, make_contact
from tests.synctools import create_as

HISTORY = {
    "order": {"lines": []},
    "quote": {"number": "Q-0001", "lines": []},
    "visit": {"planned_at": "2030-05-06T12:00:00Z"},
    "opportunity": {"name": "Spring restock", "amount": "1200"},
}


async def _tombstoned(db, entity: str, record_id: uuid.UUID) -> bool:
    async with db.sessions() as session:
        return bool(
            (
                await session.execute(
                    sa.select(sync_records.c.deleted).where(
                        sync_records.c.entity == entity, sync_records.c.record_id == record_id
                    )
                )
            ).scalar_one()
        )


@pytest.mark.parametrize("entity", sorted(HISTORY))
async def test_deleting_an_account_with_commercial_history_answers_in_use_and_deletes_nothing(
    client, db, entity
) -> None:
    admin = await auth_headers(db, await make_user(db, "admin"))
    rep = await make_user(db, "rep")
    account = await make_account(db, owner_id=rep.id)
    contact = await make_contact(db, account)
    held = await create_as(db, rep, entity, {"account_id": str(account), **HISTORY[entity]})

    response = await client.delete(f"/accounts/{account}", headers=admin)

    assert response.status_code == 409, response.text
    body = response.json()
    assert (body["code"], body["field"]) == ("in_use", "id")
    assert body["data"] == {"held_by": {entity: 1}}
    assert entity in body["message"]
    # nothing half-written: the account, its contact and the record are all still there
    assert (await client.get(f"/accounts/{account}", headers=admin)).status_code == 200
    assert await count(db, "contacts") == 1
    assert not await _tombstoned(db, "contact", contact)
    assert not await _tombstoned(db, entity, uuid.UUID(held["id"]))


async def test_in_use_names_every_kind_of_record_that_holds_the_account(client, db) -> None:
    admin = await auth_headers(db, await make_user(db, "admin"))
    rep = await make_user(db, "rep")
    account = await make_account(db, owner_id=rep.id)
    for entity, values in HISTORY.items():
        await create_as(db, rep, entity, {"account_id": str(account), **values})
    await create_as(db, rep, "visit", {"account_id": str(account), **HISTORY["visit"]})

    response = await client.delete(f"/accounts/{account}", headers=admin)

    assert response.status_code == 409
    assert response.json()["data"]["held_by"] == {
        "order": 1,
        "quote": 1,
        "visit": 2,
        "opportunity": 1,
    }


async def test_deleting_an_account_deletes_its_contacts_and_own_price_list_with_tombstones(
    client, db
) -> None:
    admin = await auth_headers(db, await make_user(db, "admin"))
    account = await make_account(db)
    contacts = [await make_contact(db, account) for _ in range(2)]
    price_list = uuid.UUID(
        (await create(db, "price_list", {"name": "Contract", "account_id": account}))["id"]
    )

    response = await client.delete(f"/accounts/{account}", headers=admin)

    assert response.status_code == 204, response.text
    assert await count(db, "contacts") == 0
    async with db.sessions() as session:
        left = await session.execute(sa.select(PriceList.__table__.c.id))
        assert left.all() == []
    for contact in contacts:
        assert await _tombstoned(db, "contact", contact)
    assert await _tombstoned(db, "price_list", price_list)
    assert await _tombstoned(db, "account", account)
