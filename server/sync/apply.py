"""Applying one pushed mutation: upsert (create or three-way merge), delete, or a domain action."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from typing import Any, cast

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from protocol import errors as codes
from protocol import hlc as hlcs
from protocol.errors import ErrorBody
from protocol.sync import FieldConflict, Mutation, MutationResult
from server.db import utcnow
from server.errors import DomainError
from server.sync import devices, logreader, patches
from server.sync.batch import (
    LogOp,
    PendingWrite,
    PendingWrites,
    RecordKey,
    RecordState,
    WriteBatch,
    write_pending,
)
from server.sync.bulk import rows_by_id
from server.sync.conflicts import FIELD, OUT_OF_SCOPE, record_conflict
from server.sync.merge import merge_fields, written_by_others
from server.sync.registry import (
    ENGINE_FIELDS,
    ActionContext,
    EntitySpec,
    Principal,
    PushBatch,
    SyncRegistry,
    user_key,
)
from server.sync.staged import FlushingSession, as_uuid, filled_in, new_record, server_values
from server.sync.writer import ChangeWriter, Lock, row_to_wire
from server.text import UNSTORABLE_MESSAGE, unstorable_path

Record = dict[str, Any]


class Rejected(Exception):
    """A mutation refused by the engine, with its code."""

    def __init__(
        self, code: str, message: str, *, field: str | None = None, with_record: bool = True
    ) -> None:
        super().__init__(message)
        self.code, self.message, self.field, self.with_record = code, message, field, with_record


class MutationApplier:
    """Applies the mutations of one push, with the batch's records cached in memory.

    Creates and edits are computed in memory and queued (``pending``); ``flush`` writes them with
    executemany per entity. Deletes and actions flush first (the push does it before their
    SAVEPOINT); validators and actions see a session that flushes before reading.
    """

    def __init__(
        self,
        session: AsyncSession,
        registry: SyncRegistry,
        writer: ChangeWriter,
        principal: Principal,
        keys: frozenset[str],
        served: frozenset[str],
        *,
        max_clock_skew_ms: int = 300_000,
    ) -> None:
        self.session, self.registry, self.writer = session, registry, writer
        self.principal, self.keys, self.served = principal, keys, served
        self.max_clock_skew_ms = max_clock_skew_ms
        # records this device named in an earlier mutation (this push, or a stored receipt):
        # an upsert of such a record that does not exist is an edit of a refused create
        self.named: set[uuid.UUID] = set()
        self.device = str(principal.device_id) if principal.device_id else None
        self.records: dict[tuple[str, uuid.UUID], Record | None] = {}
        self.wrote = False  # set before anything is written for the current mutation
        self.pending = PendingWrites()
        self.stored: dict[RecordKey, Record] = {}  # rows as last flushed
        self._with_record: list[tuple[MutationResult, RecordKey]] = []
        # applied upserts: (result, record key, what the device expects, the record as computed)
        self._applied: list[tuple[MutationResult, RecordKey, Record, Record]] = []
        self.batches: dict[str, PushBatch] = {}  # what areas prepared for this push (prepare)

    @property
    def batch(self) -> WriteBatch:
        """The open write batch of the push."""
        batch = self.writer.open_batch(self.session)
        assert batch is not None, "mutations are applied inside writer.batch()"
        return batch

    async def risky(self, mutation: Mutation) -> bool:
        """True when applying writes directly before it can fail: deletes and actions (an
        action handler may write other tables) and upserts whose validator may write
        (``validator_writes``, a flag or a per-mutation probe); other creates and edits are
        only queued."""
        spec = self.registry.entities.get(mutation.entity)
        if spec is None:
            return False
        if mutation.op != "upsert":
            batch = self.batches.get(spec.name)
            return batch is None or not batch.queues(
                mutation, await self.current(spec, mutation.id)
            )
        probe = spec.validator_writes
        return probe if isinstance(probe, bool) else await probe(self.session, mutation)

    async def flush(self) -> None:
        """Write the queued creates and edits, then what areas queued in their batches."""
        await self._flush_pending()
        for batch in self.batches.values():
            await batch.flush(self.session)

    def mark(self) -> tuple[int, dict[str, int]]:
        """A point to roll the queued writes back to (the engine's and the areas')."""
        return self.pending.mark(), {name: b.mark() for name, b in self.batches.items()}

    def rollback(self, mark: tuple[int, dict[str, int]]) -> None:
        """Forget the writes a rejected mutation queued."""
        self.pending.rollback(mark[0])
        for name, batch_mark in mark[1].items():
            self.batches[name].rollback(batch_mark)

    async def _flush_pending(self) -> None:
        # their log rows get the stored records
        if not self.pending:
            return
        items = list(self.pending.items)
        tables = {spec.name: spec.table for spec in self.registry.entities.values()}
        rows = await write_pending(self.session, tables, self.pending)
        wires = {key: row_to_wire(self.registry.entities[key[0]], row) for key, row in rows.items()}
        for write in items:
            key = (write.entity, write.record_id)
            wire = wires.get(key)
            if wire is not None and int(wire["version"]) == write.op.version:
                write.op.record = wire
                cached = self.records.get(key)
                if cached is not None and int(cached["version"]) == write.op.version:
                    self.records[key] = wire
        self.stored.update(wires)

    async def finish(self) -> None:
        """Flush, and give results the records as stored (when not written again since)."""
        await self.flush()
        for result, key in self._with_record:
            wire = self.stored.get(key)
            if wire is not None and result.version == int(wire["version"]):
                result.record = wire
        for result, key, expected, computed in self._applied:
            wire = self.stored.get(key)
            if wire is None or result.version != int(wire["version"]):
                wire = computed
            result.server_changes = server_changes(wire, expected)

    async def prefetch(
        self, mutations: Iterable[Mutation], replayed: Iterable[Mutation] = ()
    ) -> None:
        """Load (and on PostgreSQL lock, in id order) every record the batch names; note the
        records the device named before (``replayed`` mutations of this request, receipts)."""
        mutations = list(mutations)
        by_entity: dict[str, set[uuid.UUID]] = defaultdict(set)
        for mutation in mutations:
            if mutation.entity in self.registry.entities:
                by_entity[mutation.entity].add(mutation.id)
        for entity, id_set in by_entity.items():
            spec = self.registry.entities[entity]
            ids = sorted(id_set)
            for row in await rows_by_id(self.session, spec.table, ids, lock=True):
                self.records[(entity, row._mapping["id"])] = row_to_wire(spec, row)
            for record_id in ids:
                self.records.setdefault((entity, record_id), None)
            await self.writer.states(self.session, entity, ids)
        self.named.update(m.id for m in replayed)
        missing = {
            m.id
            for m in mutations
            if m.op == "upsert" and self.records.get((m.entity, m.id), False) is None
        }
        if missing and self.principal.device_id is not None:
            self.named |= await devices.records_named(
                self.session, self.principal.device_id, sorted(missing - self.named)
            )
        await self._prefetch_parents(mutations)
        await self._prepare(mutations)

    async def _prepare(self, mutations: list[Mutation]) -> None:
        # each entity with a ``prepare`` hook reads in bulk for its mutations of this push
        by_entity: dict[str, list[Mutation]] = defaultdict(list)
        for mutation in mutations:
            by_entity[mutation.entity].append(mutation)
        for entity, named in by_entity.items():
            spec = self.registry.entities.get(entity)
            if spec is None or spec.prepare is None:
                continue
            records = {m.id: self.records.get((entity, m.id)) for m in named}
            batch = await spec.prepare(self.session, self.principal, named, records)
            if batch is not None:
                self.batches[entity] = batch

    async def _prefetch_parents(self, mutations: Iterable[Mutation]) -> None:
        # a child's scope key is its parent's: load those states now rather than one at a time;
        # a create or a change of the parent reference derives the key from the parent's state,
        # so that state is read FOR SHARE (a concurrent move of the parent is serialized with it)
        derived: dict[str, set[uuid.UUID]] = defaultdict(set)
        parents: dict[str, set[uuid.UUID]] = defaultdict(set)
        for mutation in mutations:
            spec = self.registry.entities.get(mutation.entity)
            if spec is None or spec.parent is None:
                continue
            parent, fk = spec.parent
            record = self.records.get((spec.name, mutation.id))
            into = derived if record is None or fk in mutation.changes else parents
            for value in (record or {}).get(fk), mutation.changes.get(fk):
                parent_id = as_uuid(value)
                if parent_id is not None:
                    into[parent].add(parent_id)
        steps: list[tuple[Lock | None, dict[str, set[uuid.UUID]]]] = [
            ("share", derived),
            (None, parents),
        ]
        for lock, by_parent in steps:
            for parent, id_set in by_parent.items():
                if parent in self.registry.entities:
                    await self.writer.states(self.session, parent, sorted(id_set), lock=lock)

    def remember(self, ops: Iterable[LogOp]) -> None:
        """Keep the cache in step with what a successful mutation wrote."""
        for op in ops:
            if op.op == "upsert":
                self.records[(op.entity, op.record_id)] = op.record
            elif op.op == "delete":
                self.records[(op.entity, op.record_id)] = None

    def forget(self) -> None:
        """Nothing to undo: the cache only changes after a mutation succeeded."""

    async def current(self, spec: EntitySpec, record_id: uuid.UUID) -> Record | None:
        """The record's wire dict, None if it does not exist."""
        key = (spec.name, record_id)
        if key not in self.records:
            found = await self.writer.load_many(self.session, spec.name, [record_id])
            self.records[key] = found.get(record_id)
        return self.records[key]

    async def apply(self, mutation: Mutation) -> MutationResult:
        """Apply one mutation; raises Rejected or DomainError to refuse it."""
        try:
            return await self._apply(mutation)
        finally:
            self.named.add(mutation.id)

    async def _apply(self, mutation: Mutation) -> MutationResult:
        spec = self.registry.get(mutation.entity)
        if spec is None:
            raise Rejected(
                codes.UNKNOWN_ENTITY,
                f"unknown entity {mutation.entity!r}",
                field="entity",
                with_record=False,
            )
        unstorable = unstorable_path(mutation.changes) or unstorable_path(
            {"op": mutation.op, "hlc": mutation.hlc}
        )
        if unstorable is not None:  # PostgreSQL text cannot hold it; SQLite would store it
            raise Rejected(
                codes.VALIDATION_ERROR, f"{unstorable} {UNSTORABLE_MESSAGE}", field=unstorable
            )
        if not hlcs.is_valid(mutation.hlc):
            raise Rejected(codes.VALIDATION_ERROR, "malformed hybrid logical clock", field="hlc")
        bounded = hlcs.clamp(mutation.hlc, self.writer.clock.physical_ms() + self.max_clock_skew_ms)
        if bounded != mutation.hlc:  # a device clock too far ahead: it wins nothing by it
            mutation = msgspec.structs.replace(mutation, hlc=bounded)
        self.writer.clock.observe(mutation.hlc)
        if mutation.op in ("upsert", "delete") and not spec.writable:
            raise Rejected(codes.READ_ONLY_ENTITY, f"{spec.name} is read-only on devices")
        if mutation.op == "upsert":
            return await self._upsert(spec, mutation)
        if mutation.op == "delete":
            return await self._delete(spec, mutation)
        prefix, _, action = mutation.op.partition(".")
        if prefix != spec.name or action not in spec.actions:
            raise Rejected(codes.UNKNOWN_ACTION, f"unknown operation {mutation.op!r}", field="op")
        return await self._action(spec, mutation, action)

    async def rejection(self, mutation: Mutation, exc: Exception) -> MutationResult:
        """A refused mutation's result, with the server's record when the device may hold it."""
        if isinstance(exc, Rejected):
            error = ErrorBody(code=exc.code, message=exc.message, field=exc.field)
            with_record = exc.with_record
        else:
            assert isinstance(exc, DomainError)
            error = ErrorBody(code=exc.code, message=exc.message, field=exc.field, data=exc.data)
            with_record = True
        result = MutationResult(mid=mutation.mid, status="rejected", error=error)
        spec = self.registry.get(mutation.entity)
        if with_record and spec is not None:
            record = await self.current(spec, mutation.id)
            state = await self.writer.state(self.session, spec.name, mutation.id)
            if record is not None and state is not None and state.scope_key in self.keys:
                result.record, result.version = record, int(record["version"])
        return result

    def _context(self, mutation: Mutation) -> ActionContext:
        session = cast(AsyncSession, FlushingSession(self.session, self.flush))

        async def create(entity: str, values: dict[str, Any]) -> Record:
            return await self._create_other(mutation, entity, values)

        return ActionContext(
            session, self.principal, mutation.hlc, writer=self.writer, create=create
        )

    async def _create_other(self, mutation: Mutation, entity: str, values: Record) -> Record:
        """A record an action makes besides its own (written now, in the mutation's SAVEPOINT:
        actions are always guarded); it must fall in the pusher's scope."""
        spec = self.registry.get(entity)
        if spec is None:
            raise KeyError(entity)
        key = await self._scope(spec, msgspec.to_builtins(values))
        if key not in self.keys:
            raise Rejected(codes.OUT_OF_SCOPE, f"the new {entity} would be outside your scope")
        await self.flush()
        self.wrote = True
        return await self.writer.create(
            self.session,
            entity,
            values,
            principal=self.principal,
            hlc=mutation.hlc,
            device_id=self.principal.device_id,
        )

    def _device_changes(
        self, spec: EntitySpec, mutation: Mutation, creating: bool
    ) -> dict[str, Any]:
        changes = dict(mutation.changes)
        if "id" in changes and str(changes["id"]) == str(mutation.id):
            del changes["id"]  # a full record sent on create names its own id: harmless
        allowed = spec.create_fields if creating else frozenset()
        for name in changes:
            if name in spec.server_fields and name not in allowed:
                raise Rejected(codes.SERVER_OWNED_FIELD, f"{name} is set by the server", field=name)
        return changes

    async def _upsert(self, spec: EntitySpec, mutation: Mutation) -> MutationResult:
        current = await self.current(spec, mutation.id)
        changes = self._device_changes(spec, mutation, creating=current is None)
        values = patches.to_python(spec, changes)
        state = await self.writer.state(self.session, spec.name, mutation.id)
        if current is None:
            return await self._create(spec, mutation, values, state)
        _check_base_version(mutation, current)
        out_of_scope = await self._scope_check(spec, mutation, state, current, changes)
        if out_of_scope is not None:
            return out_of_scope
        current_values = patches.to_python(spec, {k: current[k] for k in values if k in current})
        outcome = merge_fields(
            changes=values,
            current=current_values,
            clock_of=state.clock if state else (lambda _name: None),
            base_version=mutation.base_version,
            device=self.device or "",
            hlc=mutation.hlc,
            policy=spec.policy,
            to_wire=msgspec.to_builtins,
        )
        foreign = (
            written_by_others(state.clocks, mutation.base_version, self.device or "")
            if state
            else mutation.base_version < int(current["version"])
        )
        status = outcome.status(foreign)
        record = current
        context = self._context(mutation)
        if outcome.writes:
            writes = dict(outcome.writes)
            if any(c.kept == "both" for c in outcome.conflicts):
                # a value made of both sides (an ``append``, a domain rule) is held to the
                # field's limits like the device's own, which were checked when converted
                patches.to_python(spec, msgspec.to_builtins(writes))
            if spec.validate is not None:
                merged = {**current, **msgspec.to_builtins(writes)}
                before = dict(merged)
                await spec.validate(context, merged, current)
                writes.update(filled_in(spec, merged, before))
            record = await self._update(spec, mutation, state, current, writes)
            self._unattribute(
                spec, mutation.id, [c.field for c in outcome.conflicts if c.kept == "both"]
            )
        result = MutationResult(
            mid=mutation.mid,
            status=status,  # type: ignore[arg-type]
            version=int(record["version"]),
            repriced=context.repriced or None,
        )
        if status != "applied":
            result.record = record
            self._with_record.append((result, (spec.name, mutation.id)))
        else:
            expected = {**current, **mutation.changes}
            self._applied.append((result, (spec.name, mutation.id), expected, record))
        if outcome.conflicts:
            self.wrote = True
            result.conflicts = outcome.conflicts
            result.conflict_id = await record_conflict(
                self.writer,
                self.session,
                entity=spec.name,
                record_id=mutation.id,
                principal=self.principal,
                mid=mutation.mid,
                kind=FIELD,
                fields=outcome.conflicts,
                scope_key=user_key(self.principal.user_id),
            )
        return result

    def _unattribute(self, spec: EntitySpec, record_id: uuid.UUID, names: list[str]) -> None:
        """A value made of both sides is not this device's alone: its clock names no device, so
        the device's next edit made before it saw that value merges with it again (an append
        is not overwritten by the device's own older text)."""
        state = self.batch.states.get((spec.name, record_id))
        if state is None:
            return
        for name in names:
            clock = state.clocks.get(name)
            if clock is not None:
                state.clocks[name] = [clock[0], clock[1], None]

    async def _create(
        self,
        spec: EntitySpec,
        mutation: Mutation,
        values: dict[str, Any],
        state: RecordState | None,
    ) -> MutationResult:
        if state is not None and state.deleted:
            raise Rejected(
                codes.RECORD_DELETED, "this record was deleted", field="id", with_record=False
            )
        if mutation.base_version != 0:
            raise Rejected(
                codes.NOT_FOUND,
                "no such record (a create carries base_version 0)",
                field="base_version",
                with_record=False,
            )
        if mutation.id in self.named:
            raise Rejected(
                codes.NOT_FOUND,
                "no such record: this device's earlier mutation of it was not applied",
                field="id",
                with_record=False,
            )
        record = new_record(spec, mutation.id, values)
        context = self._context(mutation)
        if spec.validate is not None:
            before = dict(record)
            await spec.validate(context, record, None)
            values = {**values, **filled_in(spec, record, before)}
        values.update(server_values(spec, record, values))
        key = await self._scope(spec, record)
        if key not in self.keys:
            raise Rejected(
                codes.OUT_OF_SCOPE, "the new record would be outside your scope", with_record=False
            )
        row = self.writer.prepare(spec, {**values, "id": mutation.id})
        wire = {
            **record,
            **msgspec.to_builtins({k: row[k] for k in ENGINE_FIELDS if k in row}),
        }
        wire["id"] = str(mutation.id)
        clock = [1, mutation.hlc, self.device]
        self.batch.put(
            RecordState(
                spec.name,
                mutation.id,
                key,
                1,
                clocks={"*": clock},
                stored=state is not None and state.stored,
            )
        )
        op = LogOp(spec.name, mutation.id, key, "upsert", 1, wire, self.principal.device_id)
        self.batch.log(op)
        self.pending.add(PendingWrite(spec.name, mutation.id, row, True, op))
        result = MutationResult(
            mid=mutation.mid, status="applied", version=1, repriced=context.repriced or None
        )
        expected = {**mutation.changes, "id": str(mutation.id)}
        self._applied.append((result, (spec.name, mutation.id), expected, wire))
        return result

    async def _scope(self, spec: EntitySpec, record: Record) -> str:
        """The scope key a record would have; a missing or unknown parent is refused."""
        if spec.parent is not None and record.get(spec.parent[1]) is None:
            fk = spec.parent[1]
            raise Rejected(codes.VALIDATION_ERROR, f"{fk} is required", field=fk)
        try:
            return await self.writer.scope_of(self.session, spec, record)
        except sa.exc.NoResultFound as exc:  # the resolver found no row the record points to
            raise Rejected(
                codes.VALIDATION_ERROR, "a record this one refers to does not exist"
            ) from exc
        except KeyError as exc:  # the resolver needs a field the record lacks
            name = str(exc.args[0]) if exc.args else None
            raise Rejected(codes.VALIDATION_ERROR, f"{name} is required", field=name) from exc

    async def _update(
        self,
        spec: EntitySpec,
        mutation: Mutation,
        state: RecordState | None,
        current: Record,
        writes: dict[str, Any],
    ) -> Record:
        """Queue an edit computed in memory; returns the new wire dict. A record changing scope
        (or untracked by the engine) is written at once through the writer instead."""
        version = int(current["version"]) + 1
        values = {**writes, "version": version}
        if "updated_at" in spec.table.c:
            values["updated_at"] = utcnow()
        record = {**current, **msgspec.to_builtins(values)}
        if state is not None and not spec.scope_may_change(writes):
            key = state.scope_key
        else:
            key = await self._scope(spec, record)
            if (state is None or key != state.scope_key) and key not in self.keys:
                # an edit may move a record only between keys its user holds (guarantee 5)
                raise Rejected(
                    codes.OUT_OF_SCOPE,
                    "the edit would move the record outside your scope",
                    field=_scope_field(spec, writes),
                )
        if state is None or state.deleted or key != state.scope_key:
            await self.flush()
            self.wrote = True
            return await self.writer.update(
                self.session,
                spec.name,
                mutation.id,
                writes,
                principal=self.principal,
                hlc=mutation.hlc,
                device_id=self.principal.device_id,
            )
        edited = self.batch.edit(state)
        stamp = [version, mutation.hlc, self.device]
        for name in writes:
            edited.clocks[name] = stamp
        edited.version = version
        op = LogOp(spec.name, mutation.id, key, "upsert", version, record, self.principal.device_id)
        self.batch.log(op)
        self.pending.add(PendingWrite(spec.name, mutation.id, values, False, op))
        return record

    async def _delete(self, spec: EntitySpec, mutation: Mutation) -> MutationResult:
        if not spec.deletable:
            raise Rejected(codes.NOT_DELETABLE, f"{spec.name} cannot be deleted from a device")
        state = await self.writer.state(self.session, spec.name, mutation.id)
        current = await self.current(spec, mutation.id)
        if current is None:
            if state is not None and state.deleted:  # already gone: deleting again is a no-op
                return MutationResult(mid=mutation.mid, status="applied", version=state.version)
            raise Rejected(codes.NOT_FOUND, "no such record", field="id", with_record=False)
        _check_base_version(mutation, current)
        out_of_scope = await self._scope_check(spec, mutation, state, current, {"_deleted": True})
        if out_of_scope is not None:
            return out_of_scope
        refusal = spec.may_delete(current) if spec.may_delete is not None else None
        if refusal is not None:  # the record's state forbids it (an order past draft)
            raise refusal
        version = await self.writer.delete(
            self.session,
            spec.name,
            mutation.id,
            principal=self.principal,
            hlc=mutation.hlc,
            device_id=self.principal.device_id,
        )
        return MutationResult(mid=mutation.mid, status="applied", version=version)

    async def _action(self, spec: EntitySpec, mutation: Mutation, action: str) -> MutationResult:
        state = await self.writer.state(self.session, spec.name, mutation.id)
        current = await self.current(spec, mutation.id)
        if current is None:
            deleted = state is not None and state.deleted
            raise Rejected(
                codes.RECORD_DELETED if deleted else codes.NOT_FOUND,
                "no such record",
                field="id",
                with_record=False,
            )
        _check_base_version(mutation, current)
        out_of_scope = await self._scope_check(spec, mutation, state, current, mutation.changes)
        if out_of_scope is not None:
            return out_of_scope
        context = self._context(mutation)
        changes = await spec.actions[action](context, current, mutation.changes)
        record = current
        if changes:
            writes = patches.to_python(spec, changes)
            record = await self._update(spec, mutation, state, current, writes)
        result = MutationResult(
            mid=mutation.mid,
            status="applied",
            version=int(record["version"]),
            record=record,
            repriced=context.repriced or None,
        )
        self._with_record.append((result, (spec.name, mutation.id)))
        return result

    async def _scope_check(
        self,
        spec: EntitySpec,
        mutation: Mutation,
        state: RecordState | None,
        current: Record,
        changes: dict[str, Any],
    ) -> MutationResult | None:
        """None when the user holds the record; else a rejected result (with a routed conflict
        when the user or this device held it before)."""
        key = state.scope_key if state else await self.writer.scope_of(self.session, spec, current)
        if key in self.keys:
            return None
        held = await logreader.held_before(
            self.session, spec.name, mutation.id, sorted(self.keys | self.served)
        )
        if not held:
            raise Rejected(codes.NOT_HELD, "you never held this record", with_record=False)
        self.wrote = True
        fields = [
            FieldConflict(field=name, yours=value, theirs=current.get(name), kept="theirs")
            for name, value in changes.items()
        ]
        conflict_id = await record_conflict(
            self.writer,
            self.session,
            entity=spec.name,
            record_id=mutation.id,
            principal=self.principal,
            mid=mutation.mid,
            kind=OUT_OF_SCOPE,
            fields=fields,
            scope_key=key,
        )
        message = "the record left your scope; your edit was kept as a conflict for its owner"
        return MutationResult(
            mid=mutation.mid,
            status="rejected",
            conflict_id=conflict_id,
            error=ErrorBody(code=codes.OUT_OF_SCOPE, message=message),
        )


def _scope_field(spec: EntitySpec, writes: dict[str, Any]) -> str | None:
    """The written field that moved a record to another scope key (a child's foreign key)."""
    depends = {spec.parent[1]} if spec.parent is not None else spec.scope_fields or set()
    return next((name for name in writes if name in depends), None)


def server_changes(stored: Record, expected: Record) -> Record | None:
    """The fields of a stored record that are not what the device expects (its base with its
    changes): defaults, computed totals, status, normalised values, timestamps."""
    changed = {
        name: value
        for name, value in stored.items()
        if name != "version" and (name not in expected or expected[name] != value)
    }
    return changed or None


def _check_base_version(mutation: Mutation, current: Record) -> None:
    """A device cannot have edited a version the server never wrote."""
    version = int(current["version"])
    if mutation.base_version > version:
        raise Rejected(
            codes.BASE_VERSION_AHEAD,
            f"base_version {mutation.base_version} is above the record's version {version}",
            field="base_version",
        )
