"""The one path by which a syncable record is written, from REST services and from pushes.

Every write, in the caller's transaction: the domain row (SQLAlchemy Core on the entity's table,
``version`` bumped), the record's engine state (scope key, version, per-field clocks) and its
change-log row under its scope key. When a record's scope key changes, the old key gets an
``evict`` row and the record (and its children, recursively) an ``upsert`` under the new key.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, Literal

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from protocol import hlc as hlcs
from protocol.errors import IN_USE
from server.db import new_id, utcnow
from server.errors import Conflict, NotFound, PreconditionFailed
from server.sync.batch import LogOp, RecordState, WriteBatch, decode_clocks, insert_log_rows
from server.sync.bulk import any_of, chunks, rows_by_id, update_for
from server.sync.models import sync_records
from server.sync.position import current_txid
from server.sync.registry import EntitySpec, Principal, SyncRegistry

Lock = Literal["share", "update"]

_BATCH_KEY = "sync_batch"
_json = msgspec.json.Encoder(decimal_format="string")


# per record type and result shape: the record's fields among the row's columns, and where
_row_shapes: dict[tuple[type[msgspec.Struct], Any], tuple[tuple[str, ...], tuple[int, ...]]] = {}
_SHAPES_KEPT = 1024


def _row_shape(
    record_type: type[msgspec.Struct], row: sa.Row[Any]
) -> tuple[tuple[str, ...], tuple[int, ...]]:
    # Worked out once per result shape (rows of one statement share their metadata object):
    # reading columns by position is several times cheaper than by name or attribute.
    key = (record_type, row._parent)
    shape = _row_shapes.get(key)
    if shape is None:
        fields = row._fields
        names = tuple(k for k in record_type.__struct_fields__ if k in fields)
        shape = (names, tuple(fields.index(k) for k in names))
        if len(_row_shapes) >= _SHAPES_KEPT:
            _row_shapes.clear()
        _row_shapes[key] = shape
    return shape


def row_to_wire(spec: EntitySpec, row: Any) -> dict[str, Any]:
    """A table row as the record's wire dict (JSON-ready builtins)."""
    if isinstance(row, sa.Row):
        names, positions = _row_shape(spec.record_type, row)
        values = dict(zip(names, [row[i] for i in positions], strict=True))
    else:
        values = {k: row[k] for k in spec.record_type.__struct_fields__ if k in row}
    return msgspec.to_builtins(msgspec.convert(values, spec.record_type))  # type: ignore[no-any-return]


def batch_state(
    session: AsyncSession, entity: str, record_id: uuid.UUID
) -> tuple[bool, RecordState | None]:
    """(whether the write batch open on ``session`` knows the record, its state there: None
    when it knows the record is absent). A push's batch knows every record its mutations name,
    so a ``validator_writes`` probe can tell a create from an edit without a query."""
    batch: WriteBatch | None = session.info.get(_BATCH_KEY)
    if batch is None or not batch.known((entity, record_id)):
        return False, None
    return True, batch.states[(entity, record_id)]


class ChangeWriter:
    """Create, update and delete syncable records, keeping versions, clocks and the change log."""

    def __init__(self, registry: SyncRegistry) -> None:
        self.registry = registry
        self.clock = hlcs.Clock(hlcs.process_node())  # distinct per process
        self._updates: dict[tuple[str, frozenset[str]], sa.Update] = {}

    def spec(self, entity: str) -> EntitySpec:
        """The registered entity ``entity``; KeyError if unknown."""
        spec = self.registry.get(entity)
        if spec is None:
            raise KeyError(entity)
        return spec

    def open_batch(self, session: AsyncSession) -> WriteBatch | None:
        """The batch open on ``session``, if any."""
        return session.info.get(_BATCH_KEY)

    @asynccontextmanager
    async def batch(self, session: AsyncSession) -> AsyncIterator[WriteBatch]:
        """Collect every write in the block and flush the engine rows once at its end."""
        current = session.info.get(_BATCH_KEY)
        if current is not None:
            yield current
            return
        batch = WriteBatch()
        session.info[_BATCH_KEY] = batch
        try:
            yield batch
            await self._notify(session, batch.ops)
            await batch.flush(session, await current_txid(session))
        finally:
            session.info.pop(_BATCH_KEY, None)

    async def _notify(self, session: AsyncSession, ops: Sequence[LogOp]) -> None:
        """Hand each observed entity's written records (their last state) to its observers."""
        observed = self.registry.observers
        if not observed:
            return
        last: dict[tuple[str, uuid.UUID], LogOp] = {}
        for op in ops:
            if op.entity in observed and op.op in ("upsert", "delete"):
                last.pop((op.entity, op.record_id), None)
                last[(op.entity, op.record_id)] = op
        for entity in observed:
            mine = [op for (name, _), op in last.items() if name == entity]
            upserted = [op.record for op in mine if op.op == "upsert" and op.record is not None]
            deleted = [op.record_id for op in mine if op.op == "delete"]
            await self.registry.notify(session, entity, upserted, deleted)

    async def create(
        self,
        session: AsyncSession,
        entity: str,
        values: dict[str, Any],
        *,
        principal: Principal | None,
        hlc: str | None = None,
        device_id: uuid.UUID | None = None,
    ) -> dict[str, Any]:
        """Insert a record (``values`` in Python types, ``id`` optional); returns its wire dict."""
        spec = self.spec(entity)
        async with self.batch(session) as batch:
            row = self.prepare(spec, values)
            parent_id = _uuid(row.get(spec.parent[1])) if spec.parent is not None else None
            if spec.parent is not None and parent_id is not None:
                # the parent's state is share-locked before the insert (whose foreign-key check
                # shares the parent's row), in the order a push takes them: no deadlock with a
                # delete or a move of the parent
                await self.states(session, spec.parent[0], [parent_id], lock="share")
            result = await session.execute(
                sa.insert(spec.table).values(**row).returning(*spec.table.c)
            )
            wire = row_to_wire(spec, result.one())
            key = await self.scope_of(session, spec, wire)
            clock = [1, hlc or self.clock.tick(), _str(device_id)]
            previous = await self.state(session, entity, row["id"])  # a tombstone to reuse
            state = batch.put(
                RecordState(
                    entity,
                    row["id"],
                    key,
                    1,
                    clocks={"*": clock},
                    stored=previous is not None and previous.stored,
                )
            )
            batch.log(LogOp(entity, state.record_id, key, "upsert", 1, wire, device_id))
            return wire

    async def create_many(
        self,
        session: AsyncSession,
        entity: str,
        rows: list[dict[str, Any]],
        *,
        principal: Principal | None,
    ) -> int:
        """Insert many new records at once (seeding, imports), in batches; returns how many."""
        spec = self.spec(entity)
        txid = await current_txid(session)
        clock = {"*": [1, self.clock.tick(), None]}
        clocks = _json.encode(clock).decode()
        statement = sa.insert(spec.table).returning(*spec.table.c, sort_by_parameter_order=True)
        for chunk in chunks(rows):
            prepared = [self.prepare(spec, values) for values in chunk]
            result = await session.execute(statement, prepared)
            wires = [row_to_wire(spec, row) for row in result]
            keys = await self._scopes_of(session, spec, wires)
            now = utcnow()
            await session.execute(
                sa.insert(sync_records),
                [
                    {
                        "entity": entity,
                        "record_id": row["id"],
                        "scope_key": key,
                        "version": 1,
                        "deleted": False,
                        "clocks": clocks,
                        "updated_at": now,
                    }
                    for row, key in zip(prepared, keys, strict=True)
                ],
            )
            await self.registry.notify(session, entity, wires, [])
            await insert_log_rows(
                session,
                (
                    LogOp(entity, row["id"], key, "upsert", 1, wire, None)
                    for row, key, wire in zip(prepared, keys, wires, strict=True)
                ),
                txid,
            )
        return len(rows)

    async def update(
        self,
        session: AsyncSession,
        entity: str,
        record_id: uuid.UUID,
        changes: dict[str, Any],
        *,
        principal: Principal | None,
        hlc: str | None = None,
        device_id: uuid.UUID | None = None,
    ) -> dict[str, Any]:
        """Change some fields of a record; returns its wire dict. NotFound if it is missing."""
        spec = self.spec(entity)
        async with self.batch(session) as batch:
            values = dict(changes)
            if "updated_at" in spec.table.c:
                values["updated_at"] = utcnow()
            params = {f"v_{name}": value for name, value in values.items()}
            params["b_id"] = record_id
            result = await session.execute(self._update_statement(spec, values), params)
            row = result.first()
            if row is None:
                raise NotFound(f"{entity} {record_id} not found", field="id")
            wire = row_to_wire(spec, row)
            version = int(row._mapping["version"])
            previous = await self.state(session, entity, record_id)
            key = await self.scope_of(session, spec, wire)
            if previous is None:  # a row written outside the engine: start tracking it now
                state = batch.put(RecordState(entity, record_id, key, version))
                old_key = key
            else:
                state = batch.edit(previous)
                old_key = state.scope_key
            stamp = [version, hlc or self.clock.tick(), _str(device_id)]
            for name in changes:
                state.clocks[name] = stamp
            state.version, state.scope_key = version, key
            if old_key != key:
                batch.log(LogOp(entity, record_id, old_key, "evict", version, None, device_id))
            batch.log(LogOp(entity, record_id, key, "upsert", version, wire, device_id))
            if old_key != key:
                await self._move_children(session, batch, entity, record_id, key)
            return wire

    async def update_many(
        self,
        session: AsyncSession,
        entity: str,
        changes: dict[uuid.UUID, dict[str, Any]],
        *,
        principal: Principal | None,
    ) -> list[dict[str, Any]]:
        """``update`` of many records of one entity at once, each with the same set of fields
        (one executemany, not one statement per record); their wire dicts. The records must
        exist and be tracked by the engine (a child keeps its parent: no scope move here)."""
        if not changes:
            return []
        spec = self.spec(entity)
        names = frozenset(next(iter(changes.values())))
        if any(frozenset(values) != names for values in changes.values()):
            raise ValueError("update_many: every record must change the same fields")
        async with self.batch(session) as batch:
            states = await self.states(session, entity, list(changes))
            wires = [  # rows written outside the engine: tracked from now on, one by one
                await self.update(session, entity, rid, values, principal=principal)
                for rid, values in changes.items()
                if rid not in states
            ]
            ids = [rid for rid in changes if rid in states]
            if not ids:
                return wires
            now = utcnow()
            timed = {"updated_at": now} if "updated_at" in spec.table.c else {}
            rows = [
                {"id": rid, **changes[rid], **timed, "version": states[rid].version + 1}
                for rid in ids
            ]
            bulk = update_for(spec.table, ("id",), names | set(timed) | {"version"}, True)
            stored = await bulk.run(session, rows) or await rows_by_id(session, spec.table, ids)
            for row in stored:
                wire = row_to_wire(spec, row)
                state = batch.edit(states[row._mapping["id"]])
                state.version = int(row._mapping["version"])
                stamp = [state.version, self.clock.tick(), None]
                for name in names:
                    state.clocks[name] = stamp
                batch.log(
                    LogOp(
                        entity,
                        state.record_id,
                        state.scope_key,
                        "upsert",
                        state.version,
                        wire,
                        None,
                    )
                )
                wires.append(wire)
            return wires

    async def delete(
        self,
        session: AsyncSession,
        entity: str,
        record_id: uuid.UUID,
        *,
        principal: Principal | None,
        hlc: str | None = None,
        device_id: uuid.UUID | None = None,
    ) -> int:
        """Delete a record and the children declared ``cascade_delete``, leaving tombstones;
        returns the tombstone version. Conflict ``in_use`` (nothing written) while a child that
        does not cascade exists, at any depth; ``data.held_by`` counts them per entity."""
        self.spec(entity)
        # The record's engine state FOR UPDATE first: a transaction creating a child derives
        # its key from that state FOR SHARE before inserting it, so it either committed before
        # (and is counted below) or waits and then fails its foreign key.
        await session.execute(
            sa.select(sync_records.c.record_id)
            .where(sync_records.c.entity == entity, sync_records.c.record_id == record_id)
            .with_for_update()
        )
        held = await self._held_by(session, entity, record_id)
        if held:
            names = ", ".join(f"{count} {name}" for name, count in sorted(held.items()))
            raise Conflict(
                f"{entity} {record_id} still has {names}; they are never deleted with it",
                field="id",
                code=IN_USE,
                data={"held_by": held},
            )
        async with self.batch(session) as batch:
            return await self._delete_tree(session, batch, entity, record_id, hlc, device_id)

    async def _held_by(
        self, session: AsyncSession, entity: str, record_id: uuid.UUID
    ) -> dict[str, int]:
        # children that would block the delete, counted per entity, through cascading children
        held: dict[str, int] = {}
        for child, fk in self.registry.children_of(entity):
            column = child.table.c[fk]
            if not child.cascade_delete:
                count = (
                    await session.execute(
                        sa.select(sa.func.count())
                        .select_from(child.table)
                        .where(column == record_id)
                    )
                ).scalar_one()
                if count:
                    held[child.name] = held.get(child.name, 0) + int(count)
                continue
            ids = await session.execute(sa.select(child.table.c.id).where(column == record_id))
            for child_id in ids.scalars().all():
                for name, count in (await self._held_by(session, child.name, child_id)).items():
                    held[name] = held.get(name, 0) + count
        return held

    async def _delete_tree(
        self,
        session: AsyncSession,
        batch: WriteBatch,
        entity: str,
        record_id: uuid.UUID,
        hlc: str | None,
        device_id: uuid.UUID | None,
    ) -> int:
        spec = self.spec(entity)
        for child, fk in self.registry.children_of(entity):
            if not child.cascade_delete:
                continue  # none exists (``_held_by``); a foreign key guards a concurrent insert
            ids = await session.execute(
                sa.select(child.table.c.id).where(child.table.c[fk] == record_id)
            )
            for child_id in ids.scalars().all():
                await self._delete_tree(session, batch, child.name, child_id, hlc, device_id)
        result = await session.execute(
            sa.delete(spec.table)
            .where(spec.table.c.id == record_id)
            .returning(spec.table.c.version)
        )
        version = result.scalar_one_or_none()
        if version is None:
            raise NotFound(f"{entity} {record_id} not found", field="id")
        previous = await self.state(session, entity, record_id)
        if previous is None:
            return int(version) + 1
        state = batch.edit(previous)
        state.version, state.deleted = int(version) + 1, True
        state.clocks = {"*": [state.version, hlc or self.clock.tick(), _str(device_id)]}
        batch.log(
            LogOp(entity, record_id, state.scope_key, "delete", state.version, None, device_id)
        )
        return state.version

    async def check_version(
        self,
        session: AsyncSession,
        entity: str,
        record_id: uuid.UUID,
        expected: frozenset[int] | None,
    ) -> None:
        """Refuse a write unless the record is at one of the ``expected`` versions (None: any).

        The row is locked (on PostgreSQL; SQLite serializes writers) until the transaction ends,
        so a concurrent write cannot slip in between this check and the write that follows.
        """
        if expected is None:
            return
        table = self.spec(entity).table
        statement = sa.select(table.c.version).where(table.c.id == record_id).with_for_update()
        current = (await session.execute(statement)).scalar_one_or_none()
        if current is None:
            raise NotFound(f"{entity} {record_id} not found", field="id")
        if current not in expected:
            raise PreconditionFailed(
                f"{entity} {record_id} has changed: it is at version {current}",
                field="version",
                data={"version": current},
            )

    async def load(
        self, session: AsyncSession, entity: str, record_id: uuid.UUID
    ) -> dict[str, Any]:
        """The current wire dict of a record."""
        found = await self.load_many(session, entity, [record_id])
        if record_id not in found:
            raise NotFound(f"{entity} {record_id} not found", field="id")
        return found[record_id]

    async def load_many(
        self, session: AsyncSession, entity: str, ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, dict[str, Any]]:
        """Wire dicts of the records among ``ids`` that exist."""
        spec = self.spec(entity)
        rows = await rows_by_id(session, spec.table, ids)
        return {row._mapping["id"]: row_to_wire(spec, row) for row in rows}

    async def state(
        self, session: AsyncSession, entity: str, record_id: uuid.UUID
    ) -> RecordState | None:
        """The engine state of a record (pending writes of this transaction included)."""
        batch: WriteBatch | None = session.info.get(_BATCH_KEY)
        if batch is not None and batch.known((entity, record_id)):
            return batch.states[(entity, record_id)]
        states = await self.states(session, entity, [record_id])
        return states.get(record_id)

    async def states(
        self,
        session: AsyncSession,
        entity: str,
        ids: Sequence[uuid.UUID],
        *,
        lock: Lock | None = None,
    ) -> dict[uuid.UUID, RecordState]:
        """Engine states of many records in one query per 1,000 (cached in the open batch).

        ``lock`` (``"share"`` or ``"update"``): the states are read under a row lock held to the
        end of the transaction (PostgreSQL; taken in record-id order), unless this transaction
        already holds one or wrote the state itself. A child's scope key is derived from its
        parent's state read this way, so it cannot be derived from a key a concurrent move is
        replacing (see ``_move_children``)."""
        batch: WriteBatch | None = session.info.get(_BATCH_KEY)
        found: dict[uuid.UUID, RecordState] = {}
        missing = []
        for record_id in ids:
            key = (entity, record_id)
            if batch is not None and batch.known(key) and (lock is None or batch.is_locked(key)):
                state = batch.states[key]
                if state is not None:
                    found[record_id] = state
            else:
                missing.append(record_id)
        t = sync_records.c
        for chunk in chunks(sorted(missing) if lock else missing):
            statement = sa.select(t.record_id, t.scope_key, t.version, t.deleted, t.clocks).where(
                t.entity == entity, any_of(session, t.record_id, chunk)
            )
            if lock is not None:
                statement = statement.order_by(t.record_id).with_for_update(read=lock == "share")
            for rid, key, version, deleted, clocks in await session.execute(statement):
                found[rid] = RecordState(
                    entity, rid, key, version, deleted, decode_clocks(clocks), stored=True
                )
            if batch is not None:
                for record_id in chunk:
                    batch.remember((entity, record_id), found.get(record_id))
                    if lock is not None:
                        batch.lock((entity, record_id))
        return found

    async def scope_of(self, session: AsyncSession, spec: EntitySpec, wire: dict[str, Any]) -> str:
        """The scope key of a record: its parent's for a child, else the entity's resolver."""
        return (await self._scopes_of(session, spec, [wire]))[0]

    async def scopes_of(
        self, session: AsyncSession, spec: EntitySpec, wires: list[dict[str, Any]]
    ) -> list[str]:
        """Scope keys of many records (children's from their parents' states, read at once)."""
        return await self._scopes_of(session, spec, wires)

    async def _scopes_of(
        self, session: AsyncSession, spec: EntitySpec, wires: list[dict[str, Any]]
    ) -> list[str]:
        if spec.parent is not None:
            parent, fk = spec.parent
            parent_ids = {_uuid(w.get(fk)) for w in wires} - {None}
            # FOR SHARE: a move of the parent (which locks this row FOR UPDATE) waits for this
            # transaction, and this read waits for a move in progress and sees its new key
            states = await self.states(
                session, parent, [p for p in parent_ids if p is not None], lock="share"
            )
            keys: list[str] = []
            for wire in wires:
                parent_id = _uuid(wire.get(fk))
                state = states.get(parent_id) if parent_id is not None else None
                keys.append(state.scope_key if state else await spec.scope(session, wire))
            return keys
        return [await spec.scope(session, wire) for wire in wires]

    async def _move_children(
        self,
        session: AsyncSession,
        batch: WriteBatch,
        entity: str,
        record_id: uuid.UUID,
        key: str,
    ) -> None:
        """Relocate the record's children (recursively) to its new scope key ``key``.

        Serialized with concurrent writers of the children (PostgreSQL; SQLite has one writer):
        the children's rows are locked first (a push locks the rows it edits before anything
        else), then the record's engine state FOR UPDATE, which waits for every transaction
        that derived a child's key from it (they hold it FOR SHARE, see ``states``), then the
        children are read again, locked, so that children such a transaction committed are
        moved too. A writer arriving later waits for this transaction and reads the new key."""
        children = self.registry.children_of(entity)
        if not children:
            return
        for child, fk in children:
            await session.execute(
                self._children_statement(child, fk, ids_only=True), {"p": record_id}
            )
        await session.execute(
            sa.select(sync_records.c.record_id)
            .where(sync_records.c.entity == entity, sync_records.c.record_id == record_id)
            .with_for_update()
        )
        for child, fk in children:
            rows = (
                await session.execute(self._children_statement(child, fk), {"p": record_id})
            ).all()
            states = await self.states(
                session, child.name, [r._mapping["id"] for r in rows], lock="update"
            )
            for row in rows:
                child_id = row._mapping["id"]
                previous = states.get(child_id)
                if previous is None or previous.deleted or previous.scope_key == key:
                    continue
                state = batch.edit(previous)
                batch.log(
                    LogOp(child.name, child_id, state.scope_key, "evict", state.version, None, None)
                )
                state.scope_key = key
                batch.log(
                    LogOp(
                        child.name,
                        child_id,
                        key,
                        "upsert",
                        state.version,
                        row_to_wire(child, row),
                        None,
                    )
                )
                await self._move_children(session, batch, child.name, child_id, key)

    @staticmethod
    def _children_statement(
        child: EntitySpec, fk: str, *, ids_only: bool = False
    ) -> sa.Select[Any]:
        # the rows of ``child`` under parent :p, locked in id order (no deadlock between two
        # transactions locking overlapping sets)
        table = child.table
        columns = [table.c.id] if ids_only else list(table.c)
        return (
            sa.select(*columns)
            .where(table.c[fk] == sa.bindparam("p"))
            .order_by(table.c.id)
            .with_for_update(key_share=True)  # NO KEY UPDATE: their own children may still be added
        )

    def _update_statement(self, spec: EntitySpec, values: dict[str, Any]) -> sa.Update:
        # Built once per entity and set of columns: composing and hashing a fresh statement
        # for every write costs more than the write itself on the push path.
        shape = (spec.name, frozenset(values))
        statement = self._updates.get(shape)
        if statement is None:
            table = spec.table
            statement = (
                sa.update(table)
                .where(table.c.id == sa.bindparam("b_id"))
                .values({name: sa.bindparam(f"v_{name}") for name in values})
                .values(version=table.c.version + 1)
                .returning(*table.c)
            )
            self._updates[shape] = statement
        return statement

    def prepare(self, spec: EntitySpec, values: dict[str, Any]) -> dict[str, Any]:
        """Row values of a new record: id, version 1 and timestamps added."""
        now = utcnow()
        row = {**values, "id": values.get("id") or new_id(), "version": 1}
        if "created_at" in spec.table.c:
            row.setdefault("created_at", now)
        if "updated_at" in spec.table.c:
            row["updated_at"] = now
        return row


def _str(value: uuid.UUID | None) -> str | None:
    return None if value is None else str(value)


def _uuid(value: Any) -> uuid.UUID | None:
    if value is None or isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None
