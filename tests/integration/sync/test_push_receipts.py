"""Push receipts: one row per push, replayed per mutation across pushes; refused ids kept."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from server.sync.models import sync_receipts, sync_refused
from tests.integration.sync.toy import make_folder, make_note


async def _receipts(db) -> list[tuple[int, int]]:
    async with db.sessions() as session:
        rows = await session.execute(
            sa.select(sync_receipts.c.first_mid, sync_receipts.c.last_mid).order_by(
                sync_receipts.c.first_mid
            )
        )
        return [(int(a), int(b)) for a, b in rows]


async def _refused(db) -> set[uuid.UUID]:
    async with db.sessions() as session:
        return set((await session.execute(sa.select(sync_refused.c.record_id))).scalars())


async def test_one_receipt_row_per_push_replays_each_mutation_across_pushes(
    toy_db, writer, make_device
):
    rep = await make_device(keys={"t:north"})
    folder = await make_folder(toy_db, writer, "t:north")
    note = await make_note(toy_db, writer, folder, title="t")
    first = [rep.mutation("note", note, base_version=1, title=f"a{n}") for n in range(3)]
    second = [rep.mutation("note", note, base_version=1, body=f"b{n}") for n in range(2)]
    answered = await rep.push(first) + await rep.push(second)
    assert await _receipts(toy_db) == [(1, 3), (4, 5)]

    # a retry spanning both pushes (mids 2..5) returns each stored result, unchanged
    replayed = await rep.push(first[1:] + second)
    assert replayed == answered[1:]
    assert await _receipts(toy_db) == [(1, 3), (4, 5)]
    # one body changed under a used number: that one is mutation_reused, the others replay
    changed = {**second[0], "changes": {"body": "other"}}
    mixed = await rep.push([first[0], changed])
    assert mixed[0] == answered[0]
    assert (mixed[1]["status"], mixed[1]["error"]["code"]) == ("rejected", "mutation_reused")


async def test_only_missing_records_of_rejected_mutations_are_kept_as_named(
    toy_db, writer, make_device
):
    rep = await make_device(keys={"t:north"})
    folder = await make_folder(toy_db, writer, "t:north")
    note = await make_note(toy_db, writer, folder, title="t")
    missing, created = uuid.uuid4(), uuid.uuid4()
    results = await rep.push(
        [
            rep.mutation("note", missing, folder_id=str(uuid.uuid4()), title="x"),  # FK refused
            rep.mutation("note", note, base_version=1, score=5),  # rejected, but exists
            rep.mutation("note", created, folder_id=str(folder), title="new"),  # applied
        ]
    )
    assert [r["status"] for r in results] == ["rejected", "rejected", "applied"]
    assert await _refused(toy_db) == {missing}
    # a later push's create of the refused id is an edit of a refused create: not_found, id
    [later] = await rep.push([rep.mutation("note", missing, folder_id=str(folder), title="y")])
    assert (later["status"], later["error"]["code"], later["error"]["field"]) == (
        "rejected",
        "not_found",
        "id",
    )
