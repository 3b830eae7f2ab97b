"""Pull with many scope keys: pages come in log order whatever the number of keys (the per-key
merge and, past the merge's key limit, the position-index walk), catch-up included."""

from __future__ import annotations

import json

import pytest

from server.sync import logreader
from tests.integration.sync.toy import make_folder, make_note


async def _fill(toy_db, writer, keys):
    """One folder per key, then a note in each, so the keys' rows interleave in the log."""
    folders = {key: await make_folder(toy_db, writer, key, name=key) for key in keys}
    notes = {
        key: await make_note(toy_db, writer, folder, title=key) for key, folder in folders.items()
    }
    return folders, notes


@pytest.mark.parametrize("merge_max", [400, 5])
async def test_many_keys_page_in_log_order_and_catch_up(
    toy_db, writer, make_device, scopes, monkeypatch, merge_max
):
    # merge_max 5 forces the IN walk of the position index for the same scenario
    monkeypatch.setattr(logreader, "_MERGE_MAX_KEYS", merge_max)
    logreader._statement.cache_clear()
    keys = [f"t:k{i:02d}" for i in range(60)]
    rep = await make_device(keys=set(keys[:55]))
    folders, notes = await _fill(toy_db, writer, keys)

    seen: list[dict] = []
    while True:
        data = await rep.pull(limit=7)
        seen += data["changes"]
        if not data["has_more"]:
            break
    expected = {str(folders[k]) for k in keys[:55]} | {str(notes[k]) for k in keys[:55]}
    assert [c["id"] for c in seen if c["op"] == "upsert"] == [
        c["id"] for c in seen
    ]  # an initial sync is only upserts
    assert {c["id"] for c in seen} == expected and len(seen) == len(expected)  # each once
    # log order: every folder (written first) before every note
    kinds = [c["entity"] for c in seen]
    assert kinds == ["folder"] * 55 + ["note"] * 55

    # 5 keys removed, 5 added: the added keys' records come, the removed keys' go
    scopes.keys[rep.user.id] = set(keys[5:])
    changes = await rep.pull_all(limit=4)
    evicted = {c["id"] for c in changes if c["op"] == "evict"}
    gained = {c["id"] for c in changes if c["op"] == "upsert"}
    assert evicted == {str(folders[k]) for k in keys[:5]} | {str(notes[k]) for k in keys[:5]}
    assert gained == {str(folders[k]) for k in keys[55:]} | {str(notes[k]) for k in keys[55:]}
    titles = {r.get("title") or r.get("name") for r in rep.copy.values()}
    assert titles == set(keys[5:])
    assert (await rep.pull())["changes"] == []
    logreader._statement.cache_clear()


async def test_added_key_sends_only_upserts_at_or_before_the_stream_position(
    toy_db, writer, make_device, scopes
):
    rep = await make_device(keys={"t:a"})
    a = await make_folder(toy_db, writer, "t:a")
    b = await make_folder(toy_db, writer, "t:b")
    gone = await make_note(toy_db, writer, b, title="gone")
    async with toy_db.transaction() as session:
        await writer.delete(session, "note", gone, principal=None)
    await rep.pull_all()
    scopes.keys[rep.user.id] = {"t:a", "t:b"}
    changes = await rep.pull_all()
    # the deleted note's tombstone is never sent as an upsert (it may stream as a delete)
    assert [(c["id"], c["op"]) for c in changes if c["op"] == "upsert"] == [(str(b), "upsert")]
    assert {c["op"] for c in changes if c["id"] == str(gone)} <= {"delete"}
    assert set(rep.copy) == {("folder", str(a)), ("folder", str(b))}


async def test_json_body_splices_stored_payloads_exactly(toy_db, writer, make_device):
    rep = await make_device(keys={"t:q"})
    folder = await make_folder(toy_db, writer, "t:q", name='quote " and \\ backslash ü')
    await rep.pull()
    async with toy_db.transaction() as session:
        await writer.delete(session, "folder", folder, principal=None)
    response = await rep.client.post(
        "/sync/pull",
        headers=rep.headers,
        json={"device_id": str(rep.device_id), "schema_version": 1, "cursor": None},
    )
    assert response.headers["content-type"].startswith("application/json")
    body = json.loads(response.content)  # strict: the spliced body is valid JSON
    assert set(body) == {"changes", "cursor", "has_more", "progress"}
    assert body["changes"] == [
        {"entity": "folder", "id": str(folder), "op": "delete", "version": 2}
    ]
