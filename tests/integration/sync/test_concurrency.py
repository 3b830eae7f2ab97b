"""Real concurrency: out-of-order commits on PostgreSQL, and two pushes of one device."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import sqlalchemy as sa

from protocol.sync import Mutation, PushRequest
from server.sync.keysets import KeysetStore
from server.sync.models import sync_log
from server.sync.push import PushService
from tests.integration.sync import toy
from tests.integration.sync.toy import make_folder


async def test_a_cursor_never_passes_a_change_committed_out_of_order(
    backend, toy_db, writer, make_device
):
    if backend != "postgresql":
        pytest.skip("SQLite serializes writers: commit order is seq order")
    rep = await make_device(keys={"t:slow", "t:fast"})
    await rep.pull()
    slow_session = toy_db.sessions()
    slow = await slow_session.begin()
    try:
        # The slow transaction writes first, so it takes the lower sequence number ...
        slow_record = await writer.create(
            slow_session, "folder", {"name": "slow", "scope_key": "t:slow"}, principal=None
        )
        # ... and the fast one commits first.
        fast_id = await make_folder(toy_db, writer, "t:fast", name="fast")
        async with toy_db.sessions() as session:
            rows = {
                r.record_id: (r.txid, r.seq)
                for r in (
                    await session.execute(
                        sa.select(sync_log.c.record_id, sync_log.c.txid, sync_log.c.seq)
                    )
                ).all()
            }
        assert list(rows) == [fast_id]  # only the fast change is committed (visible)
        slow_position = await slow_session.execute(
            sa.select(sync_log.c.txid, sync_log.c.seq).where(
                sync_log.c.record_id == uuid.UUID(slow_record["id"])
            )
        )
        slow_txid, slow_seq = slow_position.one()
        fast_txid, fast_seq = rows[fast_id]
        # A naive "seq > cursor" reader would now serve the fast row and move its cursor to
        # fast_seq; the slow row, committed later with a smaller seq, would never be read.
        assert slow_seq < fast_seq
        assert slow_txid < fast_txid

        during = await rep.pull(wait=False)
        assert during["changes"] == []  # held back: a smaller transaction id is still running
    finally:
        await slow.commit()
        await slow_session.close()
    after = await rep.pull_all()
    assert [c["record"]["name"] for c in after] == ["slow", "fast"]


async def test_edits_that_replace_log_rows_committed_out_of_order_are_never_skipped(
    backend, toy_db, writer, make_device
):
    """The same guarantee when the log rows are replaced in place (an edit of a record already
    in the log: ``INSERT ... ON CONFLICT DO UPDATE`` on PostgreSQL) rather than appended."""
    if backend != "postgresql":
        pytest.skip("SQLite serializes writers: commit order is seq order")
    rep = await make_device(keys={"t:slow", "t:fast"})
    slow_id = await make_folder(toy_db, writer, "t:slow", name="slow v1")
    fast_id = await make_folder(toy_db, writer, "t:fast", name="fast v1")
    await rep.pull_all()
    slow_session = toy_db.sessions()
    slow = await slow_session.begin()
    try:
        # the slow edit replaces its record's log row first (the lower seq) ...
        await writer.update(slow_session, "folder", slow_id, {"name": "slow v2"}, principal=None)
        # ... the fast edit replaces its row and commits first
        async with toy_db.transaction() as session:
            await writer.update(session, "folder", fast_id, {"name": "fast v2"}, principal=None)
        during = await rep.pull(wait=False)
        assert during["changes"] == []  # held back while the slow writer is open
    finally:
        await slow.commit()
        await slow_session.close()
    after = await rep.pull_all()
    assert [c["record"]["name"] for c in after] == ["slow v2", "fast v2"]


async def test_two_concurrent_pushes_of_one_device_apply_each_mutation_once(
    toy_db, settings, registry, writer, make_device
):
    rep = await make_device(keys={"t:north"})
    folder = await make_folder(toy_db, writer, "t:north")
    note = uuid.uuid4()
    mutations = [rep.mutation("note", note, folder_id=str(folder), title="v1")] + [
        rep.mutation("note", note, title=f"v{i}") for i in range(2, 21)
    ]
    request = PushRequest(
        rep.device_id, 1, [Mutation(**{**m, "id": uuid.UUID(m["id"])}) for m in mutations]
    )
    service = PushService(toy_db, settings, registry, writer, KeysetStore())
    first, second = await asyncio.gather(
        service.push(rep.principal, request), service.push(rep.principal, request)
    )
    assert first.results == second.results  # one applied, the other replayed the receipts
    async with toy_db.sessions() as session:
        version, title = (
            await session.execute(
                sa.select(toy.notes.c.version, toy.notes.c.title).where(toy.notes.c.id == note)
            )
        ).one()
    assert (version, title) == (20, "v20")
