"""Scope on push: an edit never moves a record out of its user's keys, an out-of-scope conflict
never shows its pusher the record's current values, and holding survives a lost pull answer."""

from __future__ import annotations

import sqlalchemy as sa

from tests.integration.sync import toy
from tests.integration.sync.toy import make_folder, make_note


async def note_row(db, note_id):
    async with db.sessions() as session:
        return (await session.execute(sa.select(toy.notes).where(toy.notes.c.id == note_id))).one()


async def test_edit_cannot_move_record_into_foreign_scope(toy_db, writer, make_device):
    rep = await make_device(keys={"t:north"})
    other = await make_device(keys={"t:south"})
    mine = await make_folder(toy_db, writer, "t:north")
    also_mine = await make_folder(toy_db, writer, "t:north")
    foreign = await make_folder(toy_db, writer, "t:south")
    note = await make_note(toy_db, writer, mine, title="t")
    await other.pull_all()

    [moved] = await rep.push([rep.mutation("note", note, base_version=1, folder_id=str(foreign))])
    assert moved["status"] == "rejected"
    assert moved["error"]["code"] == "out_of_scope" and moved["error"]["field"] == "folder_id"
    assert moved["record"]["folder_id"] == str(mine)  # the device may restore its copy
    assert (await note_row(toy_db, note)).folder_id == mine
    await other.pull_all()
    assert ("note", str(note)) not in other.copy

    # between two keys the user holds, a move is an ordinary edit
    [kept] = await rep.push([rep.mutation("note", note, base_version=1, folder_id=str(also_mine))])
    assert kept["status"] == "applied", kept
    assert (await note_row(toy_db, note)).folder_id == also_mine


async def test_out_of_scope_conflict_never_shows_current_values_to_the_pusher(
    toy_db, writer, make_device
):
    rep = await make_device(keys={"t:north"})
    owner = await make_device(keys={"t:south"})
    folder = await make_folder(toy_db, writer, "t:north")
    note = await make_note(toy_db, writer, folder, title="before", body="old")
    await rep.pull_all()
    async with toy_db.transaction() as session:  # reassigned, then edited by its new owner
        await writer.update(session, "folder", folder, {"scope_key": "t:south"}, principal=None)
        await writer.update(session, "note", note, {"title": "secret"}, principal=None)

    [result] = await rep.push(
        [rep.mutation("note", note, base_version=1, title="mine", body="x", status="open")]
    )
    assert result["status"] == "rejected" and result["error"]["code"] == "out_of_scope"
    assert "record" not in result and "conflicts" not in result

    mine = (await rep.client.get("/sync/conflicts", headers=rep.headers)).json()["items"]
    assert [c["id"] for c in mine] == [result["conflict_id"]]
    assert {f["field"]: f["theirs"] for f in mine[0]["fields"]} == {
        "title": None,
        "body": None,
        "status": None,
    }
    assert {f["field"]: f["yours"] for f in mine[0]["fields"]} == {
        "title": "mine",
        "body": "x",
        "status": "open",
    }

    resolved = await rep.client.post(
        f"/sync/conflicts/{result['conflict_id']}/resolve", headers=rep.headers
    )
    assert resolved.status_code in (200, 201), resolved.text
    assert resolved.json()["resolved_at"] is not None
    assert [f["theirs"] for f in resolved.json()["fields"]] == [None, None, None]

    # the record's current holders see the values the edit met, over REST and sync
    theirs = (await owner.client.get("/sync/conflicts", headers=owner.headers)).json()["items"]
    assert {f["field"]: f["theirs"] for f in theirs[0]["fields"]}["title"] == "secret"
    await owner.pull_all()
    synced = owner.copy[("conflict", result["conflict_id"])]
    assert {f["field"]: f["theirs"] for f in synced["fields"]}["title"] == "secret"


async def test_lost_pull_answer_keeps_a_moved_away_edit_as_a_conflict(
    toy_db, writer, make_device, scopes
):
    rep = await make_device(keys={"t:north"})
    owner = await make_device(keys={"t:north"})
    folder = await make_folder(toy_db, writer, "t:north")
    note = await make_note(toy_db, writer, folder, title="t")
    await rep.pull_all()
    assert ("note", str(note)) in rep.copy

    scopes.keys[rep.user.id] = {"t:elsewhere"}  # the rep leaves the territory
    proven = rep.cursor
    await rep.pull_all()  # the answer (evicting the note) is lost on the way
    rep.cursor = proven

    [result] = await rep.push([rep.mutation("note", note, base_version=1, title="offline")])
    assert result["status"] == "rejected" and result["error"]["code"] == "out_of_scope", result
    assert result["conflict_id"]
    await owner.pull_all()
    conflict = owner.copy[("conflict", result["conflict_id"])]
    assert conflict["kind"] == "out_of_scope"
    assert conflict["fields"][0]["yours"] == "offline"

    # once the device presents a cursor past the eviction and the keyset moves on, a record it
    # never held again is refused as before
    await rep.pull_all()
    scopes.keys[rep.user.id] = {"t:elsewhere", "t:more"}
    await rep.pull_all()
    await rep.pull_all()
    [late] = await rep.push([rep.mutation("note", note, base_version=1, title="later")])
    assert late["error"]["code"] == "not_held", late
