"""What the domain tells the engine about each syncable entity.

The engine never imports ``server.sfa``: areas build ``EntitySpec`` objects and register them
with the ``SyncRegistry`` that ``create_app`` hands them.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from protocol.entities.definition import ENGINE_FIELDS, EntityDef
from protocol.sync import Mutation
from server.errors import DomainError

if TYPE_CHECKING:
    from server.sync.writer import ChangeWriter

GLOBAL_KEY = "global"


def user_key(user_id: uuid.UUID) -> str:
    """The scope key of records private to one user (calendar, conflicts shown to the pusher)."""
    return f"u:{user_id}"


class Policy(enum.StrEnum):
    """How a field changed on both sides since the device's base version is resolved."""

    LWW = "lww"  # the later hybrid logical clock wins
    SERVER_WINS = "server_wins"  # the server's value stays; the device's is kept in the conflict
    APPEND = "append"  # text: the server's, then on new lines what the device added (merge.py)


@dataclass(frozen=True)
class Rule:
    """A named domain rule for a field changed on both sides: ``resolve(yours, theirs)`` gets
    the device's and the server's values (Python values) and returns the one to keep, which may
    be made of both (a union, the earlier of two dates). It must be pure and return a value the
    field accepts; the conflict record names the rule."""

    name: str
    resolve: Callable[[Any, Any], Any]


FieldPolicy = Policy | Rule


@dataclass(frozen=True)
class Principal:
    """Who is calling: the user, their role, and the device the token is bound to."""

    user_id: uuid.UUID
    role: str
    device_id: uuid.UUID | None = None
    active: bool = True


# (entity, values in Python types with the ``id``) -> the new record's wire dict
RecordCreator = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class ActionContext:
    """Given to domain validators and action handlers.

    ``repriced``: a validator or action that priced a document differently from the device's
    figures appends one wire dict per line; the engine puts them on the mutation's result.
    ``writer``: the push's change writer, for an action that writes other syncable records
    (its writes join the push's batch and the action's SAVEPOINT).
    ``create``: an action that makes another syncable record (``quote.convert`` makes an
    order) writes it with this, in the mutation's transaction and SAVEPOINT, with its
    change-log row, under the pusher's scope (refused ``out_of_scope`` otherwise); None where
    no push runs the action.
    """

    session: AsyncSession
    principal: Principal
    hlc: str
    repriced: list[dict[str, Any]] = field(default_factory=list)
    writer: ChangeWriter | None = None
    create: RecordCreator | None = None


# (ctx, current record as a wire dict, the mutation's changes) -> field changes to write
ActionHandler = Callable[[ActionContext, dict[str, Any], dict[str, Any]], Awaitable[dict[str, Any]]]
# (ctx, record after the merge as a wire dict, record before or None on create); raises DomainError.
# It may fill in or recompute fields of the new record in place: the engine writes them too.
Validator = Callable[[ActionContext, dict[str, Any], dict[str, Any] | None], Awaitable[None]]
# whether the validator may write rows of its own for this mutation (see validator_writes)
WritesProbe = Callable[[AsyncSession, Mutation], Awaitable[bool]]
# (session, wire dicts of the records created or changed, ids of the records deleted): called
# in the writing transaction, just before its change-log rows, with each record's last state
WriteObserver = Callable[[AsyncSession, list[dict[str, Any]], list[uuid.UUID]], Awaitable[None]]
# (session, {record id: new scope key}): records a bulk move gave a new scope key without
# rewriting them (``server.sync.relocation``), called in the moving transaction
MoveObserver = Callable[[AsyncSession, Mapping[uuid.UUID, str]], Awaitable[None]]
# (current record as a wire dict) -> why a device may not delete it now (raised as the
# mutation's rejection, with the record), or None when it may
DeleteGuard = Callable[[dict[str, Any]], DomainError | None]
# (session, record as a wire dict) -> the record's scope key
ScopeResolver = Callable[[AsyncSession, Mapping[str, Any]], Awaitable[str]]
# (session, principal) -> every scope key the user may hold
ScopeProvider = Callable[[AsyncSession, Principal], Awaitable[frozenset[str]]]


class PushBatch(Protocol):
    """What an area prepared for one push's mutations of its entity: the rows it read (and
    locked) once for all of them, and the writes its actions queue instead of running one by
    one. The engine rolls the queue back with a rejected mutation and has it written whenever
    it flushes its own queued writes (before a read, a guarded mutation, the end of the push)."""

    def queues(self, mutation: Mutation, current: dict[str, Any] | None) -> bool:
        """True when applying ``mutation`` (an action on ``current``) only queues writes here:
        it then runs without a SAVEPOINT. Asked right before the mutation is applied."""
        ...

    def mark(self) -> int:
        """A point to roll the queue back to."""
        ...

    def rollback(self, mark: int) -> None:
        """Forget what was queued after ``mark`` (a rejected mutation's writes)."""
        ...

    async def flush(self, session: AsyncSession) -> None:
        """Write what is queued, in the push's transaction."""
        ...


# (session, principal, the push's new mutations of the entity, their records as the push loaded
# them, None when missing) -> the entity's batch for this push, or None (nothing to prepare)
BatchPreparer = Callable[
    [AsyncSession, Principal, list[Mutation], Mapping[uuid.UUID, dict[str, Any] | None]],
    Awaitable[PushBatch | None],
]

__all__ = ["ENGINE_FIELDS", "EntityDef", "EntitySpec", "PushBatch", "SyncRegistry"]


@dataclass(frozen=True)
class EntitySpec:
    """A syncable entity. Its table has a UUID ``id`` primary key and an integer ``version``.

    ``record_type`` is the msgspec Struct of the record on the wire (every column the device
    sees); device input is converted through it, so wrong types and unknown fields are refused.
    An SFA entity is built with ``EntitySpec.of`` from its shared ``protocol.entities``
    definition (kept in ``definition``), so the server and the SDK check the same Struct.
    """

    name: str
    table: sa.Table
    record_type: type[msgspec.Struct]
    scope: ScopeResolver
    writable: bool = True
    deletable: bool = True
    server_fields: frozenset[str] = ENGINE_FIELDS
    # server-owned fields a device may set when it creates a record (the validator polices them)
    create_fields: frozenset[str] = frozenset()
    policies: Mapping[str, FieldPolicy] = field(default_factory=dict)
    actions: Mapping[str, ActionHandler] = field(default_factory=dict)
    validate: Validator | None = None
    # the validator writes rows of its own (an audit or history table): the mutation then runs
    # in its own SAVEPOINT, so a rejection after the validator leaves none of them behind. A
    # function tells it per mutation (it may read the push's session), so mutations that write
    # nothing of their own stay queued and batched: a SAVEPOINT each costs the batch its flushes
    validator_writes: bool | WritesProbe = False
    # the record this one lives under: (parent entity name, foreign-key column in this table);
    # a child shares its parent's scope key and moves with it when the parent's scope changes
    parent: tuple[str, str] | None = None
    # what deleting the parent does to this child: True, the child is deleted with it (a
    # tombstone each); False (the default), the parent cannot be deleted while a child exists
    # (409 / rejected ``in_use``). Commercial history (orders, quotes, visits, opportunities)
    # is never deleted by a cascade.
    cascade_delete: bool = False
    # the fields ``scope`` reads (None: unknown); an edit that changes none of them keeps the
    # record's scope key without asking the resolver. A child's is its foreign key.
    scope_fields: frozenset[str] | None = None
    # the shared wire definition this spec was built from (None: an engine or test entity)
    definition: EntityDef | None = None
    # how a stored record reads when a pull serves it, if that depends on the time (a quote
    # past its validity reads expired): a pure function of the wire dict, returning it
    # unchanged (the same object) or a changed copy; None serves records as stored
    served_as: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    # whether a device may delete this record in its current state (an order past draft holds
    # stock and history): a pure function of the record under the push's row lock; None: any
    # record of a ``deletable`` entity may be deleted
    may_delete: DeleteGuard | None = None
    # called once per push that carries mutations of this entity, after the engine loaded their
    # records and before the first is applied: the area reads what they need in bulk and may
    # return a ``PushBatch`` whose queued writes the engine flushes and rolls back
    prepare: BatchPreparer | None = None

    @classmethod
    def of(cls, definition: EntityDef, **engine: Any) -> EntitySpec:
        """The spec of a shared entity: its name, record Struct, read-only flags, server-owned
        and create-only fields come from ``definition``; ``engine`` gives the rest (table,
        scope, policies, action handlers, validator, parent)."""
        return cls(
            name=definition.name,
            record_type=definition.record,
            writable=definition.writable,
            deletable=definition.deletable,
            server_fields=definition.server_fields,
            create_fields=definition.create_fields,
            definition=definition,
            **engine,
        )

    def scope_may_change(self, fields: Iterable[str]) -> bool:
        """Could writing ``fields`` move the record to another scope key?"""
        depends = frozenset({self.parent[1]}) if self.parent is not None else self.scope_fields
        return depends is None or not depends.isdisjoint(fields)

    def policy(self, field_name: str) -> FieldPolicy:
        """The conflict policy of one field (last writer wins unless declared)."""
        return self.policies.get(field_name, Policy.LWW)


class SyncRegistry:
    """Entities by wire name, and the function that says which scope keys a user holds."""

    def __init__(self) -> None:
        self.entities: dict[str, EntitySpec] = {}
        self._scope_provider: ScopeProvider | None = None
        self.scope_cacheable = False
        self.observers: dict[str, list[WriteObserver]] = {}
        self.move_observers: dict[str, list[MoveObserver]] = {}

    def register(self, spec: EntitySpec) -> None:
        """Add an entity; a name may be registered once."""
        if spec.name in self.entities:
            raise ValueError(f"entity {spec.name!r} registered twice")
        if spec.definition is not None and set(spec.actions) != set(spec.definition.actions):
            raise ValueError(f"entity {spec.name!r}: actions differ from its wire definition")
        self.entities[spec.name] = spec

    @property
    def served_as(self) -> dict[str, Callable[[dict[str, Any]], dict[str, Any]]]:
        """The ``served_as`` hooks of the entities that have one, by entity name."""
        return {name: s.served_as for name, s in self.entities.items() if s.served_as}

    def observe(self, entity: str, observer: WriteObserver) -> None:
        """Call ``observer`` with every write of ``entity`` in the writing transaction (a
        read model kept in step with the records, such as order statistics)."""
        self.observers.setdefault(entity, []).append(observer)

    def observe_moves(self, entity: str, observer: MoveObserver) -> None:
        """Call ``observer`` with the records of ``entity`` a bulk move rekeyed in the database
        (their fields unchanged, so no ``WriteObserver`` sees them): a read model that copies
        something of the scope follows here."""
        self.move_observers.setdefault(entity, []).append(observer)

    async def notify_moved(
        self, session: AsyncSession, entity: str, moved: Mapping[uuid.UUID, str]
    ) -> None:
        """Tell the move observers of ``entity`` which records moved (nothing when none did)."""
        if moved:
            for observer in self.move_observers.get(entity, ()):
                await observer(session, moved)

    async def notify(
        self,
        session: AsyncSession,
        entity: str,
        upserted: list[dict[str, Any]],
        deleted: list[uuid.UUID],
    ) -> None:
        """Tell the observers of ``entity`` what was written (nothing when nobody listens)."""
        if upserted or deleted:
            for observer in self.observers.get(entity, ()):
                await observer(session, upserted, deleted)

    def set_scope_provider(self, provider: ScopeProvider, *, cacheable: bool = False) -> None:
        """Install the domain's answer to "which scope keys may this user hold".

        ``cacheable``: the answer changes only with writes that bump the ``scope`` cache epoch
        (``server.cache_epochs``), so pulls may answer it from ``server.sync.scope_cache``.
        """
        self._scope_provider = provider
        self.scope_cacheable = cacheable

    async def scope_keys(self, session: AsyncSession, principal: Principal) -> frozenset[str]:
        """Every key the user may hold; always includes their own user key and ``global``."""
        if not principal.active:
            return frozenset()
        provider = self._scope_provider
        keys = await provider(session, principal) if provider else frozenset()
        return keys | {user_key(principal.user_id), GLOBAL_KEY}

    def children_of(self, name: str) -> list[tuple[EntitySpec, str]]:
        """Entities declared as living under ``name``, each with its foreign-key column."""
        return [
            (spec, spec.parent[1])
            for spec in self.entities.values()
            if spec.parent is not None and spec.parent[0] == name
        ]

    def get(self, name: str) -> EntitySpec | None:
        """The entity registered under ``name``, if any."""
        return self.entities.get(name)
