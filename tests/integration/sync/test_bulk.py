"""Bulk statements of the push path (arrays with unnest on PostgreSQL, executemany on SQLite)."""

from __future__ import annotations

import decimal
import uuid

import sqlalchemy as sa

from server.db import utcnow
from server.sync.bulk import any_of, delete_for, insert_rows, update_for
from server.sync.models import sync_log
from tests.integration.sync.toy import folders, notes


def _log_row(n: int, record_id: uuid.UUID) -> dict[str, object]:
    return {
        "txid": 0,
        "entity": "note",
        "record_id": record_id,
        "scope_key": f"k{n % 3}",
        "op": "upsert",
        "version": n,
        "payload": f'{{"n": {n}}}',
        "origin_device": None,
        "created_at": utcnow(),
    }


async def test_insert_rows_assigns_serial_keys_in_the_rows_order(toy_db):
    ids = [uuid.uuid4() for _ in range(1200)]  # more than one chunk
    async with toy_db.transaction() as session:
        await insert_rows(session, sync_log, [_log_row(n, rid) for n, rid in enumerate(ids)])
    async with toy_db.sessions() as session:
        rows = (
            await session.execute(
                sa.select(sync_log.c.record_id, sync_log.c.version).order_by(sync_log.c.seq)
            )
        ).all()
    assert [row.record_id for row in rows] == ids
    assert [row.version for row in rows] == list(range(1200))


async def test_insert_rows_returns_the_stored_rows_with_defaults_filled_in(toy_db):
    folder = uuid.uuid4()
    async with toy_db.transaction() as session:
        await insert_rows(session, folders, [{"id": folder, "scope_key": "t:a", "version": 1}])
        stored = await insert_rows(
            session,
            notes,
            [{"id": uuid.uuid4(), "folder_id": folder, "title": f"n{i}"} for i in range(3)],
            returning=True,
        )
    assert sorted(row.title for row in stored) == ["n0", "n1", "n2"]
    # column defaults the rows left out are the table's, not NULL
    assert {(row.status, row.amount, row.score, row.version) for row in stored} == {
        ("open", decimal.Decimal(0), 0, 1)
    }


async def test_bulk_update_sets_only_the_named_columns_of_the_keyed_rows(toy_db):
    folder = uuid.uuid4()
    note_ids = [uuid.uuid4() for _ in range(5)]
    async with toy_db.transaction() as session:
        await insert_rows(session, folders, [{"id": folder, "scope_key": "t:a", "version": 1}])
        await insert_rows(
            session,
            notes,
            [{"id": rid, "folder_id": folder, "title": "old", "body": "keep"} for rid in note_ids],
        )
        update = update_for(notes, ("id",), frozenset({"title", "amount"}), True)
        returned = await update.run(
            session,
            [
                {"id": rid, "title": f"new {i}", "amount": decimal.Decimal("1.5") * i}
                for i, rid in enumerate(note_ids[:3])
            ],
        )
    async with toy_db.sessions() as session:
        rows = {row.id: row for row in (await session.execute(sa.select(notes))).all()}
    assert [rows[rid].title for rid in note_ids] == ["new 0", "new 1", "new 2", "old", "old"]
    assert rows[note_ids[2]].amount == decimal.Decimal("3.0")
    assert {rows[rid].body for rid in note_ids} == {"keep"}
    if toy_db.dialect == "postgresql":  # the stored rows come back from the same statement
        assert sorted(row.title for row in returned) == ["new 0", "new 1", "new 2"]
    else:
        assert returned == []


async def test_bulk_delete_removes_exactly_the_given_keys(toy_db):
    ids = [uuid.uuid4() for _ in range(6)]
    async with toy_db.transaction() as session:
        await insert_rows(session, sync_log, [_log_row(n, rid) for n, rid in enumerate(ids)])
        await delete_for(sync_log, ("entity", "record_id", "scope_key")).run(
            session,
            [
                {"entity": "note", "record_id": ids[0], "scope_key": "k0"},
                {"entity": "note", "record_id": ids[1], "scope_key": "k1"},
                # the right record under another key: not a match
                {"entity": "note", "record_id": ids[2], "scope_key": "k0"},
            ],
        )
    async with toy_db.sessions() as session:
        left = (await session.execute(sa.select(sync_log.c.record_id))).scalars().all()
    assert sorted(left) == sorted(ids[2:])


async def test_any_of_matches_a_set_of_values_of_any_size(toy_db):
    ids = [uuid.uuid4() for _ in range(20)]
    async with toy_db.transaction() as session:
        await insert_rows(session, sync_log, [_log_row(n, rid) for n, rid in enumerate(ids)])
    async with toy_db.sessions() as session:
        for wanted in (ids[:1], ids[5:15], [uuid.uuid4()]):
            found = (
                (
                    await session.execute(
                        sa.select(sync_log.c.record_id).where(
                            any_of(session, sync_log.c.record_id, wanted)
                        )
                    )
                )
                .scalars()
                .all()
            )
            assert sorted(found) == sorted(set(wanted) & set(ids))
