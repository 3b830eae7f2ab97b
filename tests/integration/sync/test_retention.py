"""Tombstone retention: pruning, the horizon, and the reset of cursors older than it."""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa

from server.db import utcnow
from server.sync.models import sync_log
from server.sync.retention import prune_log
from tests.integration.sync.toy import make_folder, make_note


async def test_cursor_older_than_the_horizon_resets_and_newer_ones_do_not(
    toy_db, settings, writer, make_device
):
    stale = await make_device(keys={"t:north"})
    fresh = await make_device(keys={"t:north"})
    folder = await make_folder(toy_db, writer, "t:north")
    kept = await make_note(toy_db, writer, folder, title="kept")
    doomed = await make_note(toy_db, writer, folder, title="doomed")
    await stale.pull_all()
    async with toy_db.transaction() as session:
        await writer.delete(session, "note", doomed, principal=None)
    await fresh.pull_all()

    nothing = await prune_log(toy_db, settings, utcnow())  # too recent to prune
    assert nothing.log_rows == 0
    later = utcnow() + dt.timedelta(seconds=settings.tombstone_retention_seconds + 1)
    report = await prune_log(toy_db, settings, later)
    assert report.log_rows == 1
    async with toy_db.sessions() as session:
        ops = (await session.execute(sa.select(sync_log.c.op))).scalars().all()
    assert "delete" not in ops

    reset = await stale.pull()
    assert reset["reset"] is True
    assert {c["id"] for c in reset["changes"]} == {str(folder), str(kept)}
    assert ("note", str(doomed)) not in stale.copy and len(stale.copy) == 2
    assert "reset" not in await stale.pull()  # the new cursor is past the horizon

    quiet = await fresh.pull()
    assert "reset" not in quiet and quiet["changes"] == []


async def test_pruned_receipts_answer_receipt_expired(toy_db, settings, writer, make_device):
    rep = await make_device(keys={"t:north"})
    folder = await make_folder(toy_db, writer, "t:north")
    first = rep.mutation("note", uuid.uuid4(), folder_id=str(folder), title="a")
    [applied] = await rep.push([first])
    assert applied["status"] == "applied"
    later = utcnow() + dt.timedelta(seconds=settings.tombstone_retention_seconds + 1)
    report = await prune_log(toy_db, settings, later)
    assert report.receipts == 1
    [replayed] = await rep.push([first])
    assert replayed["status"] == "rejected"
    assert replayed["error"]["code"] == "receipt_expired"
