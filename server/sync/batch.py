"""Pending engine writes of one transaction: record states and change-log rows, flushed together.

The writer records every change here; ``flush`` writes the sync_records rows and the sync_log rows
with executemany. A push marks the batch before each mutation and rolls back to the mark when the
mutation is rejected, together with the SAVEPOINT around its domain writes.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from server.db import utcnow
from server.sync.bulk import delete_for, insert_rows, replace_rows, rows_by_id, update_for
from server.sync.models import sync_log, sync_records

RecordKey = tuple[str, uuid.UUID]
_RECORD_KEY = ("entity", "record_id")
_LOG_KEY = ("entity", "record_id", "scope_key")
_STATE_COLUMNS = frozenset({"scope_key", "version", "deleted", "clocks", "updated_at"})
_json = msgspec.json.Encoder(decimal_format="string")
_clock_decoder = msgspec.json.Decoder(dict[str, list[Any]])


@dataclass
class RecordState:
    """The engine's view of one record (a row of sync_records)."""

    entity: str
    record_id: uuid.UUID
    scope_key: str
    version: int
    deleted: bool = False
    clocks: dict[str, list[Any]] = field(default_factory=dict)
    stored: bool = False  # a sync_records row exists in the database

    def clock(self, name: str) -> list[Any] | None:
        """[version, hlc, device] of the last write of ``name`` (else of the record's creation)."""
        return self.clocks.get(name) or self.clocks.get("*")


@dataclass
class LogOp:
    """One change-log row to write: the record's latest state under one scope key."""

    entity: str
    record_id: uuid.UUID
    scope_key: str
    op: str
    version: int
    record: dict[str, Any] | None
    device: uuid.UUID | None


class WriteBatch:
    """States and log rows of the current transaction, written at ``flush``."""

    def __init__(self) -> None:
        self.states: dict[RecordKey, RecordState | None] = {}
        self.dirty: dict[RecordKey, None] = {}
        self.ops: list[LogOp] = []
        self._journal: list[tuple[RecordKey, RecordState | None, bool, bool]] = []
        # engine-state rows this transaction has read under a row lock, in the order taken (a
        # SAVEPOINT rolled back releases the locks taken inside it, so they are journaled too)
        self.locked: dict[RecordKey, None] = {}

    def known(self, key: RecordKey) -> bool:
        """True when the batch already knows the state of ``key`` (possibly: absent)."""
        return key in self.states

    def remember(self, key: RecordKey, state: RecordState | None) -> None:
        """Cache a state read from the database (not a change)."""
        self.states[key] = state

    def put(self, state: RecordState) -> RecordState:
        """Record a new or changed state (journaled so ``rollback`` can undo it); returns it."""
        key = (state.entity, state.record_id)
        self._journal.append((key, self.states.get(key), key in self.states, key in self.dirty))
        self.states[key] = state
        self.dirty[key] = None
        return state

    def edit(self, state: RecordState) -> RecordState:
        """A mutable copy of ``state`` that replaces it in the batch (the original stays intact)."""
        # clock lists are never mutated in place (always replaced), so a shallow copy suffices
        return self.put(dataclasses.replace(state, clocks=dict(state.clocks)))

    def rekey(self, state: RecordState, key: str, wire: dict[str, Any]) -> RecordState:
        """Move a record whose own fields did not change to scope key ``key``: an ``evict``
        under its old key, an ``upsert`` of ``wire`` under the new one; returns the new state."""
        moved = self.edit(state)
        self.log(
            LogOp(
                state.entity, state.record_id, state.scope_key, "evict", state.version, None, None
            )
        )
        moved.scope_key = key
        self.log(LogOp(state.entity, state.record_id, key, "upsert", state.version, wire, None))
        return moved

    def log(self, op: LogOp) -> None:
        """Queue a change-log row."""
        self.ops.append(op)

    def lock(self, key: RecordKey) -> None:
        """Note that the engine-state row of ``key`` is locked by this transaction."""
        self.locked[key] = None

    def is_locked(self, key: RecordKey) -> bool:
        """True when ``key``'s engine-state row was read under a lock, or is this batch's own
        write (a state the transaction itself changes needs no lock to be current)."""
        return key in self.dirty or key in self.locked

    def mark(self) -> tuple[int, int, int]:
        """A point to roll back to."""
        return len(self.ops), len(self._journal), len(self.locked)

    def rollback(self, mark: tuple[int, int, int]) -> None:
        """Forget every change made after ``mark``."""
        ops, journal, locked = mark
        del self.ops[ops:]
        if len(self.locked) > locked:
            self.locked = dict.fromkeys(list(self.locked)[:locked])
        while len(self._journal) > journal:
            key, previous, was_known, was_dirty = self._journal.pop()
            if was_known:
                self.states[key] = previous
            else:
                self.states.pop(key, None)
            if not was_dirty:
                self.dirty.pop(key, None)

    async def flush(self, session: AsyncSession, txid: int) -> None:
        """Write pending record states and log rows (executemany, in batches)."""
        await self._flush_states(session)
        await self._flush_log(session, txid)
        self.dirty.clear()
        self.ops.clear()
        self._journal.clear()

    async def _flush_states(self, session: AsyncSession) -> None:
        now = utcnow()
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        for key in self.dirty:
            state = self.states[key]
            if state is None:
                continue
            row = {
                "scope_key": state.scope_key,
                "version": state.version,
                "deleted": state.deleted,
                "clocks": _json.encode(state.clocks).decode(),
                "updated_at": now,
            }
            if state.stored:
                updates.append({"entity": state.entity, "record_id": state.record_id, **row})
            else:
                inserts.append({"entity": state.entity, "record_id": state.record_id, **row})
                state.stored = True
        await insert_rows(session, sync_records, inserts)
        if updates:
            await update_for(sync_records, _RECORD_KEY, _STATE_COLUMNS).run(session, updates)

    async def _flush_log(self, session: AsyncSession, txid: int) -> None:
        # The latest write per (record, key) survives, positioned by the order of last writes:
        # an evict under the old key gets a lower seq than the upsert under the new one.
        latest: dict[tuple[str, uuid.UUID, str], LogOp] = {}
        for op in self.ops:
            slot = (op.entity, op.record_id, op.scope_key)
            latest.pop(slot, None)
            latest[slot] = op
        if not latest:
            return
        rows = _log_rows(latest.values(), txid)
        if await replace_rows(session, sync_log, rows, _LOG_KEY):
            return  # PostgreSQL: each row replaced in place by one INSERT ... ON CONFLICT
        keys = [{"entity": e, "record_id": r, "scope_key": k} for (e, r, k) in latest]
        await delete_for(sync_log, _LOG_KEY).run(session, keys)
        await insert_rows(session, sync_log, rows)


async def insert_log_rows(session: AsyncSession, ops: Iterable[LogOp], txid: int) -> None:
    """Append log rows in order (each gets the next seq); payloads are encoded once, here."""
    await insert_rows(session, sync_log, _log_rows(ops, txid))


def _log_rows(ops: Iterable[LogOp], txid: int) -> list[dict[str, Any]]:
    now = utcnow()
    return [
        {
            "txid": txid,
            "entity": op.entity,
            "record_id": op.record_id,
            "scope_key": op.scope_key,
            "op": op.op,
            "version": op.version,
            "payload": None if op.record is None else _json.encode(op.record).decode(),
            "origin_device": op.device,
            "created_at": now,
        }
        for op in ops
    ]


def decode_clocks(raw: str | None) -> dict[str, list[Any]]:
    """Per-field clocks from their stored JSON."""
    return _clock_decoder.decode(raw) if raw else {}


@dataclass
class PendingWrite:
    """A domain-table write of a push kept in memory until the next flush."""

    entity: str
    record_id: uuid.UUID
    values: dict[str, Any]  # Python values; "version" always set
    insert: bool
    op: LogOp  # its change-log row; ``record`` is replaced by the stored row at flush


class PendingWrites:
    """Domain inserts and updates of a push, flushed per entity with executemany."""

    def __init__(self) -> None:
        self.items: list[PendingWrite] = []

    def __bool__(self) -> bool:
        return bool(self.items)

    def add(self, write: PendingWrite) -> None:
        """Queue a write."""
        self.items.append(write)

    def mark(self) -> int:
        """A point to roll back to."""
        return len(self.items)

    def rollback(self, mark: int) -> None:
        """Forget the writes queued after ``mark``."""
        del self.items[mark:]

    def take(self) -> tuple[dict[RecordKey, dict[str, Any]], dict[RecordKey, dict[str, Any]]]:
        """The queued writes coalesced per record: (inserts, updates), in first-write order."""
        inserts: dict[RecordKey, dict[str, Any]] = {}
        updates: dict[RecordKey, dict[str, Any]] = {}
        for write in self.items:
            key = (write.entity, write.record_id)
            if write.insert:
                inserts[key] = dict(write.values)
            elif key in inserts:
                inserts[key].update(write.values)
            else:
                updates.setdefault(key, {}).update(write.values)
        return inserts, updates


async def write_pending(
    session: AsyncSession, tables: dict[str, sa.Table], pending: PendingWrites
) -> dict[RecordKey, Any]:
    """Run the queued domain writes (one bulk statement per entity and column set); returns the
    stored rows by record (from RETURNING; on SQLite updates are read back, one query per
    entity)."""
    inserts, updates = pending.take()
    pending.items = []
    stored: dict[RecordKey, Any] = {}
    for entity, rows in _grouped(inserts).items():
        table = tables[entity]
        for shape in _shapes([values for _, values in rows]):
            for row in await insert_rows(session, table, shape, returning=True):
                stored[(entity, row._mapping["id"])] = row
    for entity, rows in _grouped(updates).items():
        table = tables[entity]
        by_shape: dict[frozenset[str], list[dict[str, Any]]] = {}
        for record_id, values in rows:
            by_shape.setdefault(frozenset(values), []).append({"id": record_id, **values})
        unread: list[uuid.UUID] = []
        for names, params in by_shape.items():
            returned = await update_for(table, ("id",), names, True).run(session, params)
            for row in returned:
                stored[(entity, row._mapping["id"])] = row
            if not returned:
                unread.extend(p["id"] for p in params)
        for row in await rows_by_id(session, table, unread):
            stored[(entity, row._mapping["id"])] = row
    return stored


def _grouped(
    writes: dict[RecordKey, dict[str, Any]],
) -> dict[str, list[tuple[uuid.UUID, dict[str, Any]]]]:
    # entities in order of their first write, so a parent created in the push precedes its children
    grouped: dict[str, list[tuple[uuid.UUID, dict[str, Any]]]] = {}
    for (entity, record_id), values in writes.items():
        grouped.setdefault(entity, []).append((record_id, values))
    return grouped


def _shapes(rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    # an executemany binds one column set: rows with other columns go in their own statement
    shapes: dict[frozenset[str], list[dict[str, Any]]] = {}
    for row in rows:
        shapes.setdefault(frozenset(row), []).append(row)
    return list(shapes.values())
