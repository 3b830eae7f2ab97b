"""Push hardening on the engine (toy registry): unexpected failures, unbounded base versions,
clocks from the future, and the append merge."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
import sqlalchemy as sa

from protocol import hlc
from server.sync.models import sync_records
from server.sync.registry import EntitySpec
from tests.integration.sync import toy
from tests.integration.sync.toy import make_folder, make_note

YEAR_2255_MS = 9_000_000_000_000


async def note_row(db: Any, note_id: uuid.UUID) -> Any:
    async with db.sessions() as session:
        return (await session.execute(sa.select(toy.notes).where(toy.notes.c.id == note_id))).one()


async def test_unexpected_exception_in_one_mutation_is_rejected_internal_error_and_later_apply(
    toy_db, writer, make_device, registry, caplog
):
    spec = registry.entities["note"]

    async def explode(ctx: Any, record: dict[str, Any], old: Any) -> None:
        if record["title"] == "boom":
            raise RuntimeError("secret detail: password=hunter2")
        await toy.validate_note(ctx, record, old)

    registry.entities["note"] = EntitySpec(**{**spec.__dict__, "validate": explode})
    rep = await make_device(keys={"t:north"})
    folder = await make_folder(toy_db, writer, "t:north")
    note = await make_note(toy_db, writer, folder, title="t")
    fresh = uuid.uuid4()
    results = await rep.push(
        [
            rep.mutation("note", note, base_version=1, title="boom"),  # queued path
            rep.mutation("note", fresh, folder_id=str(folder), title="boom"),  # a create
            rep.mutation("note", note, base_version=1, body="after"),
        ]
    )
    assert [(r["status"], (r.get("error") or {}).get("code")) for r in results] == [
        ("rejected", "internal_error"),
        ("rejected", "internal_error"),
        ("applied", None),
    ]
    assert all("hunter2" not in r["error"]["message"] for r in results[:2])
    assert "hunter2" in caplog.text  # the detail is in the server's log
    row = await note_row(toy_db, note)
    assert (row.title, row.body, row.version) == ("t", "after", 2)


async def test_base_version_above_the_current_version_is_rejected(toy_db, writer, make_device):
    a = await make_device(keys={"t:north"})
    b = await make_device(keys={"t:north"})
    folder = await make_folder(toy_db, writer, "t:north")
    note = await make_note(toy_db, writer, folder, title="t")
    [first] = await a.push([a.mutation("note", note, base_version=1, title="from a")])
    assert first["status"] == "applied" and first["version"] == 2
    results = await b.push(
        [
            b.mutation("note", note, base_version=99, title="from b"),
            b.mutation("note", note, "delete", base_version=7),
            b.mutation("note", note, "note.archive", base_version=3),
        ]
    )
    assert [(r["status"], r["error"]["code"], r["error"]["field"]) for r in results] == [
        ("rejected", "base_version_ahead", "base_version")
    ] * 3
    assert results[0]["record"]["title"] == "from a"  # the device can restore its copy
    row = await note_row(toy_db, note)
    assert (row.title, row.status, row.version) == ("from a", "open", 2)


async def test_far_future_client_clock_is_clamped_and_never_adopted_by_the_server(
    toy_db, writer, make_device
):
    skewed = await make_device(keys={"t:north"})
    honest = await make_device(keys={"t:north"})
    folder = await make_folder(toy_db, writer, "t:north")
    note = await make_note(toy_db, writer, folder, title="t")
    future = hlc.encode(YEAR_2255_MS, 0, str(skewed.device_id))
    [r1] = await skewed.push(
        [skewed.mutation("note", note, base_version=1, title="2255", hlc=future)]
    )
    assert r1["status"] == "applied"
    # the server's own clock did not jump: a REST-side stamp is near the wall clock
    now_ms = time.time_ns() // 1_000_000
    assert hlc.decode(writer.clock.tick())[0] < now_ms + 301_000
    async with toy_db.sessions() as session:
        raw = (
            await session.execute(
                sa.select(sync_records.c.clocks).where(sync_records.c.record_id == note)
            )
        ).scalar_one()
    assert str(YEAR_2255_MS) not in raw
    # a later edit is never beaten by the far-future one: past the bound it is clamped as well,
    # to a time at least as late (the counter breaks a tie within one millisecond)
    later = hlc.encode(now_ms + 400_000, 1, str(honest.device_id))
    [r2] = await honest.push(
        [honest.mutation("note", note, base_version=1, title="now", hlc=later)]
    )
    assert r2["status"] == "conflict"
    assert r2["conflicts"][0]["kept"] == "yours"
    assert (await note_row(toy_db, note)).title == "now"


async def test_append_merge_does_not_duplicate_shared_text(toy_db, writer, make_device):
    a = await make_device(keys={"t:north"})
    b = await make_device(keys={"t:north"})
    folder = await make_folder(toy_db, writer, "t:north")
    note = await make_note(toy_db, writer, folder, body="met buyer")
    [ra] = await a.push([a.mutation("note", note, base_version=1, body="met buyer\nsample sent")])
    [rb] = await b.push([b.mutation("note", note, base_version=1, body="met buyer\ncalled back")])
    assert ra["status"] == "applied"
    assert rb["status"] == "conflict" and rb["conflicts"][0]["kept"] == "both"
    assert (await note_row(toy_db, note)).body == "met buyer\nsample sent\ncalled back"


@pytest.mark.parametrize("seconds", ["60"])
def test_clock_skew_bound_is_a_setting(seconds: str) -> None:
    from server.settings import Settings

    settings = Settings.from_env({"OUTPOST_SYNC_MAX_CLOCK_SKEW_SECONDS": seconds})
    assert settings.sync_max_clock_skew_seconds == 60
    assert Settings().sync_max_clock_skew_seconds == 300


async def test_append_merge_is_not_overwritten_by_the_same_devices_next_edit(
    toy_db, writer, make_device
):
    a = await make_device(keys={"t:north"})
    b = await make_device(keys={"t:north"})
    folder = await make_folder(toy_db, writer, "t:north")
    note = await make_note(toy_db, writer, folder, body="met buyer")
    await a.push([a.mutation("note", note, base_version=1, body="met buyer\nsample sent")])
    # b wrote twice offline on version 1; the first is merged, the second must not drop a's line
    first, second = await b.push(
        [
            b.mutation("note", note, base_version=1, body="met buyer\ncalled back"),
            b.mutation("note", note, base_version=1, body="met buyer\ncalled back\nsigned"),
        ]
    )
    assert first["status"] == "conflict" and second["status"] == "conflict"
    assert (await note_row(toy_db, note)).body == "met buyer\nsample sent\ncalled back\nsigned"
