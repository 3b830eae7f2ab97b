"""Helpers for sync-facing tests: seed records, run actions like the engine, and drive devices
through ``/sync/push`` and ``/sync/pull`` (snapshots and the zulip-style convergence check)."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import msgspec
import sqlalchemy as sa

from protocol.hlc import Clock
from protocol.ids import uuid7
from protocol.sync import SCHEMA_VERSION
from server.app import build_registry
from server.auth.models import User
from server.db import Database
from server.sfa.accounts.models import Account
from server.sync.conflicts import register_engine_entities
from server.sync.position import ceiling_sql
from server.sync.registry import ActionContext, Principal, SyncRegistry
from server.sync.writer import ChangeWriter

RecordKey = tuple[str, str]
Snapshot = dict[RecordKey, dict[str, Any]]

_registry: SyncRegistry | None = None


def registry() -> SyncRegistry:
    """The app's registry, engine entities included (built once per test session)."""
    global _registry
    if _registry is None:
        _registry = build_registry()
        register_engine_entities(_registry)
    return _registry


def writer() -> ChangeWriter:
    """A change writer over the app's registry."""
    return ChangeWriter(registry())


def principal(user: User, device_id: uuid.UUID | None = None) -> Principal:
    """The ``Principal`` of a test user."""
    return Principal(user_id=user.id, role=str(user.role), device_id=device_id)


async def insert_account(db: Database, **overrides: Any) -> uuid.UUID:
    """Insert an account row (outside the change log) and return its id."""
    values: dict[str, Any] = {
        "id": uuid7(),
        "name": "Acme Trading",
        "credit_limit": Decimal("10000"),
        "arrears": Decimal("0"),
        "blacklisted": False,
        **overrides,
    }
    async with db.transaction() as session:
        await session.execute(sa.insert(Account.__table__).values(**values))
    return values["id"]  # type: ignore[no-any-return]


def python_values(entity: str, record: dict[str, Any]) -> dict[str, Any]:
    """A wire dict as the Python values the writer takes (through the entity's record type)."""
    spec = registry().entities[entity]
    typed = msgspec.convert({"id": str(uuid7()), **record}, spec.record_type, strict=False)
    return {
        name: getattr(typed, name) for name in record if name in spec.record_type.__struct_fields__
    }


async def create_as(
    db: Database, user: User, entity: str, record: dict[str, Any], w: ChangeWriter | None = None
) -> dict[str, Any]:
    """Create a record as a device push would: validate (which may derive fields), then write."""
    w = w or writer()
    spec = w.registry.entities[entity]
    record = {"id": str(uuid7()), **record}
    async with db.transaction() as session:
        ctx = ActionContext(
            session=session, principal=principal(user), hlc=Clock("t").tick(), writer=w
        )
        if spec.validate is not None:
            await spec.validate(ctx, record, None)
        return await w.create(
            session, entity, python_values(entity, record), principal=ctx.principal
        )


async def update_as(
    db: Database,
    user: User,
    entity: str,
    record_id: Any,
    changes: dict[str, Any],
    w: ChangeWriter | None = None,
) -> dict[str, Any]:
    """Merge ``changes`` into a record as an uncontested push would, validate, then write."""
    w = w or writer()
    spec = w.registry.entities[entity]
    async with db.transaction() as session:
        old = await w.load(session, entity, uuid.UUID(str(record_id)))
        new = {**old, **changes}
        ctx = ActionContext(
            session=session, principal=principal(user), hlc=Clock("t").tick(), writer=w
        )
        if spec.validate is not None:
            await spec.validate(ctx, new, old)
        typed_new = python_values(entity, new)
        written = {k: typed_new[k] for k, v in new.items() if v != old.get(k)}
        return await w.update(
            session,
            entity,
            uuid.UUID(str(record_id)),
            written,
            principal=ctx.principal,
        )


async def act_as(
    db: Database,
    user: User,
    entity: str,
    record_id: Any,
    action: str,
    params: dict[str, Any],
    w: ChangeWriter | None = None,
) -> dict[str, Any]:
    """Run a domain action like the engine: the handler's changes are written in its transaction."""
    w = w or writer()
    spec = w.registry.entities[entity]
    async with db.transaction() as session:
        current = await w.load(session, entity, uuid.UUID(str(record_id)))
        ctx = ActionContext(
            session=session, principal=principal(user), hlc=Clock("t").tick(), writer=w
        )
        changes = await spec.actions[action](ctx, current, params)
        return await w.update(
            session, entity, uuid.UUID(str(record_id)), changes, principal=ctx.principal
        )


async def delete_as(
    db: Database, user: User, entity: str, record_id: Any, w: ChangeWriter | None = None
) -> None:
    """Delete a record (and its children) through the writer, leaving tombstones."""
    w = w or writer()
    async with db.transaction() as session:
        await w.delete(session, entity, uuid.UUID(str(record_id)), principal=principal(user))


async def device_for(client: Any, db: Database, user: User) -> Device:
    """A fresh device of ``user`` with its bearer token, talking to ``client``."""
    from tests.builders import issue_token

    token, device_id = await issue_token(db, user)
    return Device(client, {"Authorization": f"Bearer {token}"}, device_id, db)


async def settle(db: Database, *, timeout: float = 30.0) -> None:
    """Wait until every committed change is below PostgreSQL's visibility floor.

    The floor (the oldest running transaction id) is cluster-wide: a transaction of another
    process on the same server holds pulls back for a moment; tests wait instead of flaking.
    """
    if db.dialect != "postgresql":
        return
    # the engine's own ceiling expression, so the wait matches what a pull will serve
    query = sa.text(f"SELECT coalesce(max(txid), 0) < {ceiling_sql(True)} FROM sync_log")
    for _ in range(int(timeout / 0.025)):
        async with db.engine.connect() as conn:
            if (await conn.execute(query)).scalar_one():
                return
        await asyncio.sleep(0.025)
    raise AssertionError(f"a PostgreSQL transaction stayed open for {timeout:.0f} s")


@dataclass
class Device:
    """One device of a user talking to the sync API: numbers its mutations, keeps a clock."""

    client: Any
    headers: dict[str, str]
    device_id: uuid.UUID
    db: Database | None = None
    clock: Clock = field(init=False)
    mids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        self.clock = Clock(str(self.device_id)[:8])

    def mutation(
        self,
        entity: str,
        record_id: Any,
        op: str,
        changes: dict[str, Any] | None = None,
        base_version: int = 0,
    ) -> dict[str, Any]:
        """A mutation with the next number and a fresh clock reading."""
        return {
            "mid": next(self.mids),
            "entity": entity,
            "id": str(record_id),
            "op": op,
            "hlc": self.clock.tick(),
            "base_version": base_version,
            "changes": changes or {},
        }

    async def push(self, *mutations: dict[str, Any]) -> list[dict[str, Any]]:
        """Push mutations; returns their results (asserting the request itself succeeded)."""
        response = await self.client.post(
            "/sync/push",
            json={
                "device_id": str(self.device_id),
                "schema_version": SCHEMA_VERSION,
                "mutations": list(mutations),
            },
            headers=self.headers,
        )
        assert response.status_code == 200, response.text
        return response.json()["results"]  # type: ignore[no-any-return]

    async def push_one(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """Push a single mutation built by ``mutation``; returns its result."""
        return (await self.push(self.mutation(*args, **kwargs)))[0]

    async def pull(self, cursor: str | None, limit: int = 500) -> dict[str, Any]:
        """One pull page (after waiting for PostgreSQL's visibility floor)."""
        if self.db is not None:
            await settle(self.db)
        response = await self.client.post(
            "/sync/pull",
            json={
                "device_id": str(self.device_id),
                "schema_version": SCHEMA_VERSION,
                "cursor": cursor,
                "limit": limit,
            },
            headers=self.headers,
        )
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    async def pull_all(self, cursor: str | None) -> tuple[list[dict[str, Any]], str]:
        """Every change after ``cursor`` (following ``has_more``) and the final cursor."""
        changes: list[dict[str, Any]] = []
        while True:
            page = await self.pull(cursor)
            changes.extend(page["changes"])
            cursor = page["cursor"]
            if not page["has_more"]:
                return changes, cursor  # type: ignore[return-value]

    async def snapshot(self) -> tuple[Snapshot, str]:
        """The device's whole scope from a full pull (cursor null), and the cursor after it."""
        changes, cursor = await self.pull_all(None)
        return apply_changes({}, changes), cursor


def apply_changes(snapshot: Snapshot, changes: list[dict[str, Any]]) -> Snapshot:
    """Apply pulled changes to a copy of ``snapshot`` as a device would (version-guarded)."""
    result = dict(snapshot)
    for change in changes:
        key = (change["entity"], change["id"])
        if change["op"] == "upsert":
            held = result.get(key)
            if held is None or held.get("version", 0) <= change["version"]:
                result[key] = change["record"]
        else:  # delete / evict
            result.pop(key, None)
    return result


async def assert_converges(device: Device, act: Callable[[], Awaitable[Any]]) -> Snapshot:
    """Snapshot, act, pull from the snapshot's cursor and apply: equal to a fresh snapshot."""
    stale, cursor = await device.snapshot()
    await act()
    changes, _ = await device.pull_all(cursor)
    caught_up = apply_changes(stale, changes)
    fresh, _ = await device.snapshot()
    assert caught_up == fresh, _diff(caught_up, fresh)
    return fresh


def _diff(left: Snapshot, right: Snapshot) -> str:
    lines = []
    for key in sorted(set(left) | set(right)):
        if left.get(key) != right.get(key):
            lines.append(f"{key}: caught-up={left.get(key)!r} fresh={right.get(key)!r}")
    return "\n".join(lines[:20])
