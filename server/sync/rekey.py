"""Rekeying: records whose own fields do not change get a new scope key (a bulk move's children).

Each moved record gets two change-log rows, an ``evict`` under its old key and an ``upsert``
under the new one carrying the record as every holder last received it (the payload of its
latest upsert under the old key), and its engine state a new ``scope_key``. On PostgreSQL that
is done in the database, per chunk of 1,000 records: one ``INSERT ... SELECT`` copies the
payloads into the new rows (evict then upsert per record, numbered in that order, each
replacing the row of its (record, key) in place, as ``WriteBatch`` does) and one ``UPDATE``
sets the keys; no record is decoded or encoded in Python. Records the transaction's
``WriteBatch`` already changed (their rows are not written yet), records with no upsert to copy
(written outside the engine), and every record on SQLite (where a serial key cannot be
renumbered in place) go through the batch instead: ``WriteBatch.rekey`` with the wire dict.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from server.db import UTCDateTime, utcnow
from server.sync.batch import WriteBatch
from server.sync.bulk import any_of, chunks, rows_by_id, update_for
from server.sync.models import sync_log, sync_records
from server.sync.position import current_txid, is_postgres
from server.sync.registry import EntitySpec
from server.sync.writer import ChangeWriter, row_to_wire

_decode = msgspec.json.Decoder(dict[str, Any]).decode
_KEY_COLUMNS = frozenset({"scope_key", "updated_at"})

# evict (s.i = 0) then upsert (s.i = 1) of each record, in the order of the arrays; a record
# without an upsert under its old key to copy is left out (the caller sees it missing from
# RETURNING). ON CONFLICT takes the number drawn for the row, so a replaced row is positioned
# as a deleted-then-inserted one (see ``bulk.replace_rows``).
_COPY_LOG = sa.text(
    "INSERT INTO sync_log (txid, entity, record_id, scope_key, op, version, payload,"
    " origin_device, created_at)"
    " SELECT :txid, :entity, m.id, CASE WHEN s.i = 0 THEN m.old_key ELSE m.new_key END,"
    " CASE WHEN s.i = 0 THEN 'evict' ELSE 'upsert' END, m.version,"
    " CASE WHEN s.i = 0 THEN NULL ELSE l.payload END, NULL, :now"
    " FROM unnest(:ids, :old_keys, :new_keys, :versions) WITH ORDINALITY"
    " AS m(id, old_key, new_key, version, n)"
    # LATERAL ... LIMIT 1 (never flattened into a join): one probe of the unique key per record
    " JOIN LATERAL (SELECT l.payload FROM sync_log AS l WHERE l.entity = :entity"
    " AND l.record_id = m.id AND l.scope_key = m.old_key AND l.op = 'upsert'"
    " AND l.payload IS NOT NULL LIMIT 1) AS l ON true"
    " CROSS JOIN (VALUES (0), (1)) AS s(i)"
    " ORDER BY m.n, s.i"
    " ON CONFLICT (entity, record_id, scope_key) DO UPDATE SET seq = excluded.seq,"
    " txid = excluded.txid, op = excluded.op, version = excluded.version,"
    " payload = excluded.payload, origin_device = NULL, created_at = excluded.created_at"
    " RETURNING record_id"
).bindparams(
    sa.bindparam("txid", type_=sa.BigInteger),
    sa.bindparam("entity", type_=sa.String),
    sa.bindparam("now", type_=UTCDateTime),
    sa.bindparam("ids", type_=postgresql.ARRAY(sa.Uuid)),
    sa.bindparam("old_keys", type_=postgresql.ARRAY(sa.String)),
    sa.bindparam("new_keys", type_=postgresql.ARRAY(sa.String)),
    sa.bindparam("versions", type_=postgresql.ARRAY(sa.Integer)),
)


@dataclasses.dataclass(frozen=True)
class Current:
    """What a rekey needs of a record's engine state."""

    scope_key: str
    version: int


async def rekey(
    writer: ChangeWriter,
    session: AsyncSession,
    batch: WriteBatch,
    spec: EntitySpec,
    targets: Mapping[uuid.UUID, str],
) -> dict[uuid.UUID, str]:
    """Move the records of ``spec`` in ``targets`` (id -> new key) to their new keys; their
    engine states are locked FOR UPDATE first, in id order. Returns those that moved (not
    deleted, and not already under the key)."""
    if not targets:
        return {}
    if not is_postgres(session):
        return await _rekey_in_batch(writer, session, batch, spec, targets)
    current = await _locked_states(session, batch, spec.name, sorted(targets))
    moving = {i: key for i, key in targets.items() if i in current and current[i].scope_key != key}
    pending = {i: k for i, k in moving.items() if (spec.name, i) in batch.dirty}
    copied = await _rekey_in_database(
        session, batch, spec.name, {i: k for i, k in moving.items() if i not in pending}, current
    )
    leftover = {i: k for i, k in moving.items() if i not in copied}
    await _rekey_in_batch(writer, session, batch, spec, leftover)
    return moving


async def _locked_states(
    session: AsyncSession, batch: WriteBatch, entity: str, ids: list[uuid.UUID]
) -> dict[uuid.UUID, Current]:
    # key and version of the live records among ``ids``, locked FOR UPDATE in id order (the
    # batch's own pending state wins over the stored one)
    t = sync_records.c
    found: dict[uuid.UUID, Current] = {}
    for chunk in chunks(ids):
        statement = (
            sa.select(t.record_id, t.scope_key, t.version, t.deleted)
            .where(t.entity == entity, any_of(session, t.record_id, chunk))
            .order_by(t.record_id)
            .with_for_update()
        )
        for record_id, key, version, deleted in (await session.execute(statement)).all():
            if not deleted:
                found[record_id] = Current(key, version)
    for record_id in ids:
        if (entity, record_id) in batch.dirty:
            state = batch.states[(entity, record_id)]
            if state is None or state.deleted:
                found.pop(record_id, None)
            else:
                found[record_id] = Current(state.scope_key, state.version)
    return found


async def _rekey_in_database(
    session: AsyncSession,
    batch: WriteBatch,
    entity: str,
    moving: Mapping[uuid.UUID, str],
    current: Mapping[uuid.UUID, Current],
) -> set[uuid.UUID]:
    """PostgreSQL: the log rows copied and the keys set in the database; the ids done."""
    if not moving:
        return set()
    txid, now = await current_txid(session), utcnow()
    done: set[uuid.UUID] = set()
    for chunk in chunks(sorted(moving)):
        params = {
            "txid": txid,
            "entity": entity,
            "now": now,
            "ids": list(chunk),
            "old_keys": [current[i].scope_key for i in chunk],
            "new_keys": [moving[i] for i in chunk],
            "versions": [current[i].version for i in chunk],
        }
        done.update(row[0] for row in (await session.execute(_COPY_LOG, params)).all())
    rows = [
        {"entity": entity, "record_id": i, "scope_key": moving[i], "updated_at": now}
        for i in sorted(done)
    ]
    await update_for(sync_records, ("entity", "record_id"), _KEY_COLUMNS).run(session, rows)
    for record_id in done:  # a state the batch read earlier is no longer current
        key = (entity, record_id)
        state = batch.states.get(key) if batch.known(key) else None
        if state is not None:
            batch.remember(key, dataclasses.replace(state, scope_key=moving[record_id]))
    return done


async def _rekey_in_batch(
    writer: ChangeWriter,
    session: AsyncSession,
    batch: WriteBatch,
    spec: EntitySpec,
    targets: Mapping[uuid.UUID, str],
) -> dict[uuid.UUID, str]:
    """Through the batch: an evict and an upsert of the wire dict per record, written at its
    flush with the states."""
    if not targets:
        return {}
    states = await writer.states(session, spec.name, list(targets), lock="update")
    keys: dict[uuid.UUID, str] = {}
    for record_id, key in targets.items():
        previous = states.get(record_id)
        if previous is not None and not previous.deleted and previous.scope_key != key:
            keys[record_id] = key
    wires = await _current_wires(session, batch, spec, {i: states[i] for i in keys})
    for record_id, key in keys.items():
        batch.rekey(states[record_id], key, wires[record_id])
    return keys


async def _current_wires(
    session: AsyncSession, batch: WriteBatch, spec: EntitySpec, states: dict[uuid.UUID, Any]
) -> dict[uuid.UUID, dict[str, Any]]:
    """The wire dicts of records whose fields a move does not change: the payload of their
    latest upsert under their current key (what every holder received; a record is only
    written through the writer, which logs it), else read from the table."""
    wires: dict[uuid.UUID, dict[str, Any]] = {}
    log = sync_log.c
    ids = [i for i in states if (spec.name, i) not in batch.dirty]  # pending: not logged yet
    for chunk in chunks(ids):
        statement = sa.select(log.record_id, log.scope_key, log.payload).where(
            log.entity == spec.name, log.op == "upsert", any_of(session, log.record_id, chunk)
        )
        for record_id, key, payload in await session.execute(statement):
            if key == states[record_id].scope_key and payload is not None:
                wires[record_id] = _decode(payload)
    missing = [i for i in states if i not in wires]
    for row in await rows_by_id(session, spec.table, missing):
        wires[row._mapping["id"]] = row_to_wire(spec, row)
    return wires
