"""What a push answers a device about its own state: numbers already used, server-set fields."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from server.sync.models import sync_devices
from tests.integration.sync import toy
from tests.integration.sync.toy import make_folder


async def test_a_reused_number_followed_by_new_ones_applies_nothing_and_names_last_mid(
    toy_db, writer, make_device
):
    rep = await make_device(keys={"t:north"})
    folder = await make_folder(toy_db, writer, "t:north")
    first, second = uuid.uuid4(), uuid.uuid4()
    await rep.push(
        [
            rep.mutation("note", first, folder_id=str(folder), title="one"),
            rep.mutation("note", second, folder_id=str(folder), title="two"),
        ]
    )
    rep.next_mid = 2  # a device restored from a backup taken after mutation 1
    third, fourth = uuid.uuid4(), uuid.uuid4()
    response = await rep.push_raw(
        [
            rep.mutation("note", third, folder_id=str(folder), title="three"),  # mid 2: reused
            rep.mutation("note", fourth, folder_id=str(folder), title="four"),  # mid 3: new
        ]
    )

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "mutation_reused" and body["field"] == "mutations"
    assert body["data"] == {"last_mid": 2, "first_reused": 2}
    async with toy_db.sessions() as session:
        titles = (await session.execute(sa.select(toy.notes.c.title))).scalars().all()
        last_mid = (await session.execute(sa.select(sync_devices.c.last_mid))).scalar_one()
    assert sorted(titles) == ["one", "two"] and last_mid == 2
    # the same mutations renumbered above last_mid are applied, in order
    rep.next_mid = 3
    results = await rep.push(
        [
            rep.mutation("note", third, folder_id=str(folder), title="three"),
            rep.mutation("note", fourth, folder_id=str(folder), title="four"),
        ]
    )
    assert [(r["mid"], r["status"]) for r in results] == [(3, "applied"), (4, "applied")]


async def test_a_reused_number_alone_is_rejected_with_the_last_mid(toy_db, writer, make_device):
    rep = await make_device(keys={"t:north"})
    folder = await make_folder(toy_db, writer, "t:north")
    await rep.push([rep.mutation("folder", folder, base_version=1, name="one")])
    rep.next_mid = 1
    response = await rep.push_raw([rep.mutation("folder", folder, base_version=1, name="two")])
    assert response.status_code == 200
    assert response.json()["last_mid"] == 1
    [reused] = response.json()["results"]
    assert reused["status"] == "rejected" and reused["error"]["code"] == "mutation_reused"


async def test_an_applied_result_carries_the_fields_the_server_set(toy_db, writer, make_device):
    rep = await make_device(keys={"t:north"})
    folder = await make_folder(toy_db, writer, "t:north")
    note = uuid.uuid4()
    sent = {"folder_id": str(folder), "title": "visit", "amount": "12.5"}
    [created] = await rep.push([rep.mutation("note", note, **sent)])

    assert created["status"] == "applied" and "record" not in created
    changes = created["server_changes"]
    # defaults, a normalised decimal, timestamps; not what the device sent as stored
    assert changes["status"] == "open" and changes["body"] == "" and changes["score"] == 0
    assert changes["amount"] != "12.5" and "title" not in changes and "folder_id" not in changes
    [pulled] = [c["record"] for c in await rep.pull_all() if c["id"] == str(note)]
    assert {"id": str(note), **sent, **changes, "version": created["version"]} == pulled

    [edited] = await rep.push([rep.mutation("note", note, base_version=1, title="revisit")])
    assert edited["status"] == "applied"
    [pulled_again] = [c["record"] for c in await rep.pull_all() if c["id"] == str(note)]
    device_view = {**pulled, "title": "revisit", **(edited.get("server_changes") or {})}
    assert {**device_view, "version": edited["version"]} == pulled_again
