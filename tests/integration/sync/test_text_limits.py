"""Every text field has a maximum length, enforced on the wire (push and REST).

Before, a 7 MB note on a visit, an order, a quote or a calendar event was applied.
"""

from __future__ import annotations

import uuid

import pytest

from protocol.entities.fields import NOTES_MAX
from protocol.ids import uuid7
from tests.builders import auth_headers, make_user
from tests.synctools import device_for, insert_account, writer

AT = "2030-05-06T12:00:00Z"
SEVEN_MB = "x" * 7_000_000


def creates(account_id: uuid.UUID, owner_id: uuid.UUID) -> dict[str, dict[str, object]]:
    """A valid create of each entity that carries notes."""
    return {
        "visit": {"account_id": str(account_id), "planned_at": AT},
        "order": {"account_id": str(account_id)},
        "quote": {"account_id": str(account_id)},
        "calendar_event": {
            "owner_id": str(owner_id),
            "title": "Call",
            "starts_at": AT,
            "ends_at": "2030-05-06T13:00:00Z",
        },
    }


async def stored(db, entity: str, record_id: str) -> dict[str, object] | None:
    async with db.transaction() as session:
        found = await writer().load_many(session, entity, [uuid.UUID(record_id)])
    return found.get(uuid.UUID(record_id))


@pytest.mark.parametrize("entity", ["visit", "order", "quote", "calendar_event"])
async def test_a_7_mb_note_is_rejected_on_push_not_applied(client, db, entity) -> None:
    rep = await make_user(db, "rep")
    account_id = await insert_account(db, owner_id=rep.id)
    phone = await device_for(client, db, rep)
    fields = creates(account_id, rep.id)[entity]
    record_id = str(uuid7())

    too_long = await phone.push_one(entity, record_id, "upsert", {**fields, "notes": SEVEN_MB})

    assert too_long["status"] == "rejected"
    assert (too_long["error"]["code"], too_long["error"]["field"]) == ("validation_error", "notes")
    assert await stored(db, entity, record_id) is None
    # the limit itself is accepted, one character more is not, on an edit as on a create (a
    # new id: this device's refused create makes its id's later upserts edits, not_found)
    record_id = str(uuid7())
    created = await phone.push_one(entity, record_id, "upsert", {**fields, "notes": "ok"})
    assert created["status"] == "applied", created
    at_limit = await phone.push_one(
        entity, record_id, "upsert", {"notes": "y" * NOTES_MAX}, base_version=1
    )
    assert at_limit["status"] == "applied", at_limit
    over = await phone.push_one(
        entity, record_id, "upsert", {"notes": "y" * (NOTES_MAX + 1)}, base_version=2
    )
    assert (over["status"], over["error"]["field"]) == ("rejected", "notes")
    assert (await stored(db, entity, record_id))["notes"] == "y" * NOTES_MAX  # type: ignore[index]


async def test_a_too_long_action_text_is_rejected(client, db) -> None:
    rep = await make_user(db, "rep")
    account_id = await insert_account(db, owner_id=rep.id)
    phone = await device_for(client, db, rep)
    visit_id = str(uuid7())
    fields = creates(account_id, rep.id)["visit"]
    await phone.push_one("visit", visit_id, "upsert", {**fields, "notes": "n" * NOTES_MAX})

    reason = await phone.push_one("visit", visit_id, "visit.cancel", {"reason": "r" * 501})
    # the reason fits, but appended to the notes it would pass their limit
    appended = await phone.push_one("visit", visit_id, "visit.cancel", {"reason": "late"})

    assert (reason["status"], reason["error"]["field"]) == ("rejected", "reason")
    assert (appended["status"], appended["error"]["field"]) == ("rejected", "notes")
    assert (await stored(db, "visit", visit_id))["status"] == "planned"  # type: ignore[index]


async def test_an_appended_note_over_the_limit_is_rejected(client, db) -> None:
    rep = await make_user(db, "rep")
    account_id = await insert_account(db, owner_id=rep.id)
    phone = await device_for(client, db, rep)
    tablet = await device_for(client, db, rep)
    contact_id = str(uuid7())
    await phone.push_one(
        "contact", contact_id, "upsert", {"account_id": str(account_id), "name": "Ann"}
    )
    half = NOTES_MAX // 2 + 1
    first = await phone.push_one(
        "contact", contact_id, "upsert", {"notes": "a" * half}, base_version=1
    )
    # edited concurrently from version 1: the append policy would keep both, over the limit
    second = await tablet.push_one(
        "contact", contact_id, "upsert", {"notes": "b" * half}, base_version=1
    )

    assert first["status"] == "applied"
    assert (second["status"], second["error"]["code"], second["error"]["field"]) == (
        "rejected",
        "validation_error",
        "notes",
    )
    assert (await stored(db, "contact", contact_id))["notes"] == "a" * half  # type: ignore[index]


async def test_rest_refuses_a_text_over_its_limit_with_the_field(client, db) -> None:
    headers = await auth_headers(db, await make_user(db, "admin"))
    created = await client.post("/accounts", json={"name": "Acme"}, headers=headers)
    assert created.status_code == 201, created.text

    patched = await client.patch(
        f"/accounts/{created.json()['id']}", json={"notes": "x" * (NOTES_MAX + 1)}, headers=headers
    )

    assert patched.status_code == 422
    assert (patched.json()["code"], patched.json()["field"]) == ("validation_error", "notes")
