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
from server.sync.models import sync_log, sync_records

RecordKey = tuple[str, uuid.UUID]
CHUNK = 1000
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

    def log(self, op: LogOp) -> None:
        """Queue a change-log row."""
        self.ops.append(op)

    def mark(self) -> tuple[int, int]:
        """A point to roll back to."""
        return len(self.ops), len(self._journal)

    def rollback(self, mark: tuple[int, int]) -> None:
        """Forget every change made after ``mark``."""
        ops, journal = mark
        del self.ops[ops:]
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
                updates.append({"b_entity": state.entity, "b_record_id": state.record_id, **row})
            else:
                inserts.append({"entity": state.entity, "record_id": state.record_id, **row})
                state.stored = True
        for chunk in _chunks(inserts):
            await session.execute(sa.insert(sync_records), chunk)
        statement = (
            sa.update(sync_records)
            .where(sync_records.c.entity == sa.bindparam("b_entity"))
            .where(sync_records.c.record_id == sa.bindparam("b_record_id"))
        )
        for chunk in _chunks(updates):
            await session.execute(
                statement, chunk, execution_options={"synchronize_session": False}
            )

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
        delete = sa.delete(sync_log).where(
            sync_log.c.entity == sa.bindparam("b_entity"),
            sync_log.c.record_id == sa.bindparam("b_record_id"),
            sync_log.c.scope_key == sa.bindparam("b_scope_key"),
        )
        keys = [{"b_entity": e, "b_record_id": r, "b_scope_key": k} for (e, r, k) in latest]
        for chunk in _chunks(keys):
            await session.execute(delete, chunk, execution_options={"synchronize_session": False})
        await insert_log_rows(session, latest.values(), txid)


async def insert_log_rows(session: AsyncSession, ops: Iterable[LogOp], txid: int) -> None:
    """Append log rows in order (each gets the next seq); payloads are encoded once, here."""
    now = utcnow()
    rows = [
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
    for chunk in _chunks(rows):
        await session.execute(sa.insert(sync_log), chunk)


def decode_clocks(raw: str | None) -> dict[str, list[Any]]:
    """Per-field clocks from their stored JSON."""
    return _clock_decoder.decode(raw) if raw else {}


def _chunks(rows: list[dict[str, Any]]) -> Iterable[list[dict[str, Any]]]:
    for start in range(0, len(rows), CHUNK):
        yield rows[start : start + CHUNK]
