"""Push: exactly once, in order; merge; conflicts; rejections that never block."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from server.sync.models import sync_conflicts, sync_log, sync_receipts
from tests.integration.sync import toy
from tests.integration.sync.toy import make_folder, make_note


async def count(db, table) -> int:
    async with db.sessions() as session:
        return int(
            (await session.execute(sa.select(sa.func.count()).select_from(table))).scalar_one()
        )


async def note_row(db, note_id):
    async with db.sessions() as session:
        return (await session.execute(sa.select(toy.notes).where(toy.notes.c.id == note_id))).one()


async def test_create_then_edit_from_the_same_outbox_merges_cleanly(toy_db, writer, make_device):
    rep = await make_device(keys={"t:north"})
    folder = await make_folder(toy_db, writer, "t:north")
    note = uuid.uuid4()
    results = await rep.push(
        [
            rep.mutation("note", note, folder_id=str(folder), title="draft", amount="12.50"),
            rep.mutation("note", note, title="final", body="text"),  # base_version 0: same outbox
        ]
    )
    assert [(r["mid"], r["status"], r["version"]) for r in results] == [
        (1, "applied", 1),
        (2, "applied", 2),
    ]
    row = await note_row(toy_db, note)
    assert (row.title, row.body, str(row.amount.normalize())) == ("final", "text", "12.5")
    assert await count(toy_db, sync_conflicts) == 0


async def test_replay_returns_stored_results_and_applies_nothing_again(toy_db, writer, make_device):
    rep = await make_device(keys={"t:north"})
    folder = await make_folder(toy_db, writer, "t:north")
    note = uuid.uuid4()
    batch = [
        rep.mutation("note", note, folder_id=str(folder), title="a"),
        rep.mutation("note", note, title="b"),
    ]
    first = await rep.push(batch)
    log_rows, receipts = await count(toy_db, sync_log), await count(toy_db, sync_receipts)
    second = await rep.push(batch)  # the response was lost; the device retries
    assert second == first
    assert (await note_row(toy_db, note)).version == 2
    assert (await count(toy_db, sync_log), await count(toy_db, sync_receipts)) == (
        log_rows,
        receipts,
    )
    # a retry that overlaps old and new mutations: old replay, new apply
    mixed = await rep.push(batch[1:] + [rep.mutation("note", note, title="c")])
    assert [(r["mid"], r["status"]) for r in mixed] == [(2, "applied"), (3, "applied")]
    assert (await note_row(toy_db, note)).title == "c"


async def test_gap_is_refused_with_resend_from_and_nothing_applied(toy_db, writer, make_device):
    rep = await make_device(keys={"t:north"})
    folder = await make_folder(toy_db, writer, "t:north")
    await rep.push([rep.mutation("folder", folder, base_version=1, name="one")])
    rep.next_mid = 3  # mutation 2 is missing
    note = uuid.uuid4()
    response = await rep.push_raw([rep.mutation("note", note, folder_id=str(folder), title="x")])
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "mutation_gap" and body["data"] == {"resend_from": 2}
    async with toy_db.sessions() as session:
        assert (await session.execute(sa.select(toy.notes.c.id))).all() == []


async def test_reused_mutation_number_with_another_body_is_refused(toy_db, writer, make_device):
    rep = await make_device(keys={"t:north"})
    folder = await make_folder(toy_db, writer, "t:north")
    [applied] = await rep.push([rep.mutation("folder", folder, base_version=1, name="one")])
    rep.next_mid = 1
    [reused] = await rep.push([rep.mutation("folder", folder, base_version=1, name="two")])
    assert applied["status"] == "applied"
    assert reused["status"] == "rejected" and reused["error"]["code"] == "mutation_reused"
    async with toy_db.sessions() as session:
        name = (await session.execute(sa.select(toy.folders.c.name))).scalar_one()
    assert name == "one"


async def test_a_rejected_mutation_uses_its_number_and_never_blocks_later_ones(
    toy_db, writer, make_device
):
    rep = await make_device(keys={"t:north"})
    folder = await make_folder(toy_db, writer, "t:north")
    note = await make_note(toy_db, writer, folder, title="t")
    results = await rep.push(
        [
            rep.mutation("note", note, base_version=1, title="ok"),
            rep.mutation("note", note, base_version=1, title="forbidden"),  # domain rule
            rep.mutation("note", note, base_version=1, score=5),  # server-owned
            rep.mutation("note", note, base_version=1, nope=1),  # unknown field
            rep.mutation("note", note, base_version=1, amount="abc"),  # wrong type
            rep.mutation("gizmo", note),  # unknown entity
            rep.mutation("note", note, "note.fly"),  # unknown action
            rep.mutation("note", note, base_version=1, folder_id=str(uuid.uuid4())),  # FK refused
            rep.mutation("note", note, base_version=1, body="last"),
        ]
    )
    assert [r["status"] for r in results] == ["applied"] + ["rejected"] * 7 + ["applied"]
    assert [(r["error"]["code"], r["error"].get("field")) for r in results[1:8]] == [
        ("domain_rule", "title"),
        ("server_owned_field", "score"),
        ("unknown_field", "nope"),
        ("validation_error", "amount"),
        ("unknown_entity", "entity"),
        ("unknown_action", "op"),
        ("validation_error", None),
    ]
    assert results[1]["record"]["title"] == "ok"  # the server's copy, to restore the device's
    row = await note_row(toy_db, note)
    assert (row.title, row.body, row.score, row.version) == ("ok", "last", 0, 3)
    again = await rep.push([rep.mutation("note", note, base_version=3, title="next")])
    assert again[0]["mid"] == 10 and again[0]["status"] == "applied"


async def test_two_devices_editing_different_fields_are_both_kept(toy_db, writer, make_device):
    a = await make_device(keys={"t:north"})
    b = await make_device(keys={"t:north"})
    folder = await make_folder(toy_db, writer, "t:north")
    note = await make_note(toy_db, writer, folder, title="t", body="b")
    [ra] = await a.push([a.mutation("note", note, base_version=1, title="from a")])
    [rb] = await b.push([b.mutation("note", note, base_version=1, body="from b")])
    assert ra["status"] == "applied"
    assert rb["status"] == "merged" and rb["record"]["title"] == "from a"
    row = await note_row(toy_db, note)
    assert (row.title, row.body) == ("from a", "from b")
    assert await count(toy_db, sync_conflicts) == 0


async def test_same_field_conflict_lww_by_hlc_and_server_wins_and_append(
    toy_db, writer, make_device
):
    a = await make_device(keys={"t:north"})
    b = await make_device(keys={"t:north"})
    folder = await make_folder(toy_db, writer, "t:north")
    note = await make_note(toy_db, writer, folder, title="t", body="base", status="open")
    early, late = "1700000000001-00000-x", "1700000000009-00000-y"
    await a.push(
        [
            a.mutation(
                "note",
                note,
                base_version=1,
                hlc=late,
                title="a wins",
                status="a-status",
                body="from a",
            )
        ]
    )
    [rb] = await b.push(
        [
            b.mutation(
                "note",
                note,
                base_version=1,
                hlc=early,
                title="b loses",
                status="b-status",
                body="from b",
            )
        ]
    )
    assert rb["status"] == "conflict"
    kept = {c["field"]: (c["yours"], c["theirs"], c["kept"]) for c in rb["conflicts"]}
    assert kept == {
        "title": ("b loses", "a wins", "theirs"),
        "status": ("b-status", "a-status", "theirs"),
        "body": ("from b", "from a", "both"),
    }
    row = await note_row(toy_db, note)
    assert (row.title, row.status, row.body) == ("a wins", "a-status", "from a\nfrom b")
    # a later clock wins a LWW field, while a server-wins field still keeps the server's value
    [rc] = await b.push(
        [
            b.mutation(
                "note",
                note,
                base_version=1,
                hlc="1700000000099-00000-y",
                title="b later",
                status="again",
            )
        ]
    )
    assert {c["field"]: c["kept"] for c in rc["conflicts"]} == {
        "title": "yours",
        "status": "theirs",
    }
    row = await note_row(toy_db, note)
    assert (row.title, row.status) == ("b later", "a-status")
    async with toy_db.sessions() as session:
        conflicts = (await session.execute(sa.select(sync_conflicts))).all()
    assert len(conflicts) == 2
    assert {c.scope_key for c in conflicts} == {f"u:{b.user.id}"}
    assert rb["conflict_id"] in {str(c.id) for c in conflicts}


async def test_conflicts_sync_to_the_pusher_and_are_listed_for_a_manager(
    toy_db, writer, make_device, scopes
):
    rep = await make_device(keys={"t:north"})
    other = await make_device(keys={"t:north"})
    manager = await make_device("manager", keys={"t:north"})
    scopes.keys[manager.user.id] |= {f"u:{rep.user.id}"}
    folder = await make_folder(toy_db, writer, "t:north")
    note = await make_note(toy_db, writer, folder, title="t")
    await other.push(
        [other.mutation("note", note, base_version=1, title="other", hlc="1700000000009-00000-o")]
    )
    [result] = await rep.push(
        [rep.mutation("note", note, base_version=1, title="mine", hlc="1700000000001-00000-r")]
    )
    conflict_id = result["conflict_id"]
    await rep.pull_all()
    held = rep.copy[("conflict", conflict_id)]
    assert held["kind"] == "field" and held["fields"][0]["yours"] == "mine"
    await other.pull_all()
    assert ("conflict", conflict_id) not in other.copy  # only the pusher receives it

    listed = await manager.client.get(
        "/sync/conflicts", headers=manager.headers, params={"entity": "note", "resolved": "false"}
    )
    assert listed.status_code == 200
    assert [c["id"] for c in listed.json()["items"]] == [conflict_id]
    hidden = await other.client.get("/sync/conflicts", headers=other.headers)
    assert hidden.json()["items"] == []
    resolved = await manager.client.post(
        f"/sync/conflicts/{conflict_id}/resolve", headers=manager.headers
    )
    assert resolved.status_code == 200 and resolved.json()["resolved_by"] == str(manager.user.id)
    open_ones = await manager.client.get(
        "/sync/conflicts", headers=manager.headers, params={"resolved": "false"}
    )
    assert open_ones.json()["items"] == []
    changes = await rep.pull_all()
    assert [c["record"]["resolved_at"] is not None for c in changes] == [True]
    forbidden = await other.client.post(
        f"/sync/conflicts/{conflict_id}/resolve", headers=other.headers
    )
    assert forbidden.status_code == 404


async def test_conflicts_list_pages(toy_db, writer, make_device):
    rep = await make_device(keys={"t:north"})
    folder = await make_folder(toy_db, writer, "t:north")
    note = await make_note(toy_db, writer, folder, title="t")
    async with toy_db.transaction() as session:
        await writer.update(session, "note", note, {"title": "server"}, principal=None)
    for i in range(3):
        await rep.push(
            [
                rep.mutation(
                    "note", note, base_version=1, title=f"mine {i}", hlc="1600000000000-00000-r"
                )
            ]
        )
    first = await rep.client.get("/sync/conflicts", headers=rep.headers, params={"limit": 2})
    assert len(first.json()["items"]) == 2 and first.json()["next_cursor"]
    second = await rep.client.get(
        "/sync/conflicts",
        headers=rep.headers,
        params={"limit": 2, "cursor": first.json()["next_cursor"]},
    )
    assert len(second.json()["items"]) == 1 and second.json()["next_cursor"] is None


async def test_action_writes_server_fields_and_domain_state_errors_reject(
    toy_db, writer, make_device
):
    rep = await make_device(keys={"t:north"})
    folder = await make_folder(toy_db, writer, "t:north")
    note = await make_note(toy_db, writer, folder, title="t")
    first, second = await rep.push(
        [rep.mutation("note", note, "note.archive"), rep.mutation("note", note, "note.archive")]
    )
    assert first["status"] == "applied" and first["record"]["status"] == "archived"
    assert first["record"]["score"] == 10
    assert second["status"] == "rejected" and second["error"]["code"] == "invalid_state"
    assert second["record"]["version"] == 2


async def test_delete_wins_and_a_deleted_id_cannot_be_recreated(toy_db, writer, make_device):
    a = await make_device(keys={"t:north"})
    b = await make_device(keys={"t:north"})
    folder = await make_folder(toy_db, writer, "t:north")
    note = await make_note(toy_db, writer, folder, title="t")
    await a.push([a.mutation("note", note, base_version=1, title="edited")])
    [deleted] = await b.push([b.mutation("note", note, "delete", base_version=1)])
    assert deleted == {"mid": 1, "status": "applied", "version": 3}
    [edit, again, create] = await a.push(
        [
            a.mutation("note", note, base_version=2, title="late edit"),
            a.mutation("note", note, "delete", base_version=2),
            a.mutation("note", note, base_version=0, folder_id=str(folder), title="new"),
        ]
    )
    assert edit["error"]["code"] == "record_deleted"
    assert again["status"] == "applied"  # deleting twice is harmless
    assert create["error"]["code"] == "record_deleted"
    changes = await b.pull_all()
    assert ("note", str(note)) not in b.copy
    assert {"entity": "note", "id": str(note), "op": "delete", "version": 3} in changes


async def test_read_only_entity_and_create_outside_scope_are_refused(toy_db, writer, make_device):
    rep = await make_device(keys={"t:north"})
    south = await make_folder(toy_db, writer, "t:south")
    results = await rep.push(
        [
            rep.mutation("conflict", uuid.uuid4(), kind="field"),
            rep.mutation("note", uuid.uuid4(), folder_id=str(south), title="sneaky"),
            rep.mutation("note", uuid.uuid4(), folder_id=str(uuid.uuid4()), title="no folder"),
        ]
    )
    assert [r["error"]["code"] for r in results] == [
        "read_only_entity",
        "out_of_scope",
        "validation_error",
    ]
    assert await count(toy_db, toy.notes) == 0


async def test_never_held_record_is_not_held(toy_db, writer, make_device):
    rep = await make_device(keys={"t:north"})
    south = await make_folder(toy_db, writer, "t:south")
    note = await make_note(toy_db, writer, south, title="secret")
    [result] = await rep.push([rep.mutation("note", note, base_version=1, title="hack")])
    assert result["status"] == "rejected" and result["error"]["code"] == "not_held"
    assert "record" not in result
    assert (await note_row(toy_db, note)).title == "secret"
    assert await count(toy_db, sync_conflicts) == 0


async def test_edit_of_a_record_that_left_scope_is_routed_to_its_new_owner(
    toy_db, writer, make_device
):
    rep = await make_device(keys={"t:north"})
    owner = await make_device(keys={"t:south"})
    folder = await make_folder(toy_db, writer, "t:north")
    note = await make_note(toy_db, writer, folder, title="t")
    await rep.pull_all()
    async with toy_db.transaction() as session:  # reassigned while the rep is offline
        await writer.update(session, "folder", folder, {"scope_key": "t:south"}, principal=None)
    [result] = await rep.push([rep.mutation("note", note, base_version=1, title="offline edit")])
    assert result["status"] == "rejected" and result["error"]["code"] == "out_of_scope"
    assert (await note_row(toy_db, note)).title == "t"
    await owner.pull_all()
    conflict = owner.copy[("conflict", result["conflict_id"])]
    assert conflict["kind"] == "out_of_scope"
    assert conflict["fields"] == [
        {"field": "title", "yours": "offline edit", "theirs": "t", "kept": "theirs"}
    ]
    assert conflict["user_id"] == str(rep.user.id)
    mine = await rep.client.get("/sync/conflicts", headers=rep.headers)
    assert [c["id"] for c in mine.json()["items"]] == [result["conflict_id"]]
