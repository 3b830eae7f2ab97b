"""Bulk moves: many records of one entity rewritten at once, their children following.

``ChangeWriter.update`` moves one record and relocates its children with a few queries per
child entity; a realignment of thousands of accounts would pay that per account. Here every
step runs once per chunk of 1,000 records instead: one UPDATE of the domain rows, one read of
their engine states, and per child entity one locking read of the children and one of their
states. The moved records' change-log rows (an ``evict`` under the old key, an ``upsert`` under
the new one) go to the caller's ``WriteBatch``, which writes them in bulk at its flush, in the
same transaction as the domain rows; the children's, whose fields do not change, are copied in
the database on PostgreSQL (``server.sync.rekey``). Per-area work for the rekeyed children
runs in ``records_moved``.

Locks are taken in the order of the single-record path (``ChangeWriter._move_children``), per
level of the tree: the moved rows, then their children's rows, then the moved records' engine
states FOR UPDATE (which waits for every transaction that derived a child's key from them FOR
SHARE), then the children again, so children such a transaction committed move too.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from server.db import utcnow
from server.sync.batch import LogOp, RecordState, WriteBatch
from server.sync.bulk import any_of, chunks, rows_by_id, update_for
from server.sync.models import sync_records
from server.sync.position import is_postgres
from server.sync.registry import EntitySpec
from server.sync.rekey import rekey
from server.sync.writer import ChangeWriter, row_to_wire


async def update_many(
    writer: ChangeWriter,
    session: AsyncSession,
    entity: str,
    changes: Mapping[uuid.UUID, dict[str, Any]],
    *,
    device_id: uuid.UUID | None = None,
) -> dict[uuid.UUID, dict[str, Any]]:
    """Apply ``changes`` (per record id, field -> Python value) to existing records; returns
    their wire dicts. Records that do not exist are left out of the answer. The engine rows are
    written at the end of the writer's batch (the caller's, when one is open)."""
    async with writer.batch(session) as batch:
        return await _update_many(writer, session, batch, entity, changes, device_id)


async def _update_many(
    writer: ChangeWriter,
    session: AsyncSession,
    batch: WriteBatch,
    entity: str,
    changes: Mapping[uuid.UUID, dict[str, Any]],
    device_id: uuid.UUID | None,
) -> dict[uuid.UUID, dict[str, Any]]:
    spec = writer.spec(entity)
    ids = sorted(changes)
    rows = await _update_rows(session, spec, ids, changes)
    states = await writer.states(session, entity, ids)
    stamp_hlc = writer.clock.tick()
    device = None if device_id is None else str(device_id)
    wires: dict[uuid.UUID, dict[str, Any]] = {}
    moved: dict[uuid.UUID, str] = {}
    for record_id in ids:
        if record_id in rows:
            wires[record_id] = row_to_wire(spec, rows[record_id])
    keys = await writer.scopes_of(session, spec, list(wires.values()))
    for (record_id, wire), key in zip(wires.items(), keys, strict=True):
        version = int(rows[record_id]._mapping["version"])
        previous = states.get(record_id)
        if previous is None:  # a row written outside the engine: tracked from now on
            state = batch.put(RecordState(entity, record_id, key, version))
            old_key = key
        else:
            state = batch.edit(previous)
            old_key = state.scope_key
        stamp = [version, stamp_hlc, device]
        for name in changes[record_id]:
            state.clocks[name] = stamp
        state.version, state.scope_key = version, key
        if old_key != key:
            batch.log(LogOp(entity, record_id, old_key, "evict", version, None, device_id))
            moved[record_id] = key
        batch.log(LogOp(entity, record_id, key, "upsert", version, wire, device_id))
    await relocate_children(writer, session, batch, entity, moved)
    return wires


async def _update_rows(
    session: AsyncSession,
    spec: EntitySpec,
    ids: list[uuid.UUID],
    changes: Mapping[uuid.UUID, dict[str, Any]],
) -> dict[uuid.UUID, Any]:
    # one bulk UPDATE per set of changed columns (version bumped); the stored rows by id
    now = utcnow()
    by_shape: dict[frozenset[str], list[dict[str, Any]]] = {}
    for record_id in ids:
        values = dict(changes[record_id])
        if "updated_at" in spec.table.c:
            values["updated_at"] = now
        by_shape.setdefault(frozenset(values), []).append({"id": record_id, **values})
    stored: dict[uuid.UUID, Any] = {}
    unread: list[uuid.UUID] = []
    for names, params in by_shape.items():
        update = update_for(spec.table, ("id",), names, True, bump_version=True)
        returned = await update.run(session, params)
        stored.update((row._mapping["id"], row) for row in returned)
        if not returned:
            unread.extend(p["id"] for p in params)
    for row in await rows_by_id(session, spec.table, unread):
        stored[row._mapping["id"]] = row
    return stored


async def relocate_children(
    writer: ChangeWriter,
    session: AsyncSession,
    batch: WriteBatch,
    entity: str,
    moved: Mapping[uuid.UUID, str],
) -> None:
    """Give every child (recursively) of the records in ``moved`` its parent's new scope key
    (``moved``: record id -> new key): an ``evict`` under the child's old key, an ``upsert``
    under the new one. The parents' engine states must already be written to the batch."""
    children = writer.registry.children_of(entity)
    if not children or not moved:
        return
    parents = sorted(moved)
    for child, fk in children:  # 1. the children's rows, before the parents' states
        await _children(session, child, fk, parents)
    t = sync_records.c
    for chunk in chunks(parents):  # 2. the parents' states: waits for children's key readers
        await session.execute(
            sa.select(t.record_id)
            .where(t.entity == entity, any_of(session, t.record_id, chunk))
            .order_by(t.record_id)
            .with_for_update()
        )
    for child, fk in children:  # 3. the children again, with those committed meanwhile
        rows = await _children(session, child, fk, parents)
        keys = await rekey(writer, session, batch, child, {c: moved[p] for c, p in rows})
        await records_moved(writer, session, child.name, keys)
        await relocate_children(writer, session, batch, child.name, keys)


async def records_moved(
    writer: ChangeWriter, session: AsyncSession, entity: str, moved: Mapping[uuid.UUID, str]
) -> None:
    """The one place where per-area work for records a bulk move rekeyed runs (``moved``:
    record id -> new key; each level of children, once per level): the move observers the
    areas registered (``SyncRegistry.observe_moves``), such as a read model that copies the
    account's territory. The records moved top-level (``update_many``) are rewritten, so
    their ``WriteObserver``s see them instead."""
    await writer.registry.notify_moved(session, entity, moved)


async def _children(
    session: AsyncSession, child: EntitySpec, fk: str, parents: list[uuid.UUID]
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    # (id, parent id) of the rows of ``child`` under ``parents``, locked NO KEY UPDATE (their
    # own children may still be inserted) in id order within each chunk of parents
    table = child.table
    found: list[tuple[uuid.UUID, uuid.UUID]] = []
    for chunk in chunks(parents):
        statement = (
            sa.select(table.c.id, table.c[fk])
            .where(any_of(session, table.c[fk], chunk))
            .order_by(table.c.id)
        )
        if is_postgres(session):
            statement = statement.with_for_update(key_share=True)
        found.extend((row[0], row[1]) for row in (await session.execute(statement)).all())
    return found
