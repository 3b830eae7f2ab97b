"""A child written while its parent moves to another scope key ends under the new key.

Real concurrent PostgreSQL transactions, in both orders: the child's writer first (its
transaction held open after its writes), then the move; and the move first (held open), then
the child's writer. SQLite serializes writers, so the race cannot happen there.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
import sqlalchemy as sa

from protocol.sync import Mutation, PushRequest
from server.db import Database
from server.sync import devices
from server.sync.keysets import KeysetStore
from server.sync.models import sync_log, sync_records
from server.sync.push import PushService
from server.sync.writer import ChangeWriter
from tests.integration.sync.toy import make_folder, make_note

OLD, NEW = "t:old", "t:new"
# how long the second transaction gets to run into the first one's locks
OVERLAP = 0.3


@pytest.fixture(autouse=True)
def _postgres_only(backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("SQLite serializes writers: a child's key cannot race its parent's move")


async def _move(db: Database, writer: ChangeWriter, folder: uuid.UUID) -> None:
    async with db.transaction() as session:
        await writer.update(session, "folder", folder, {"scope_key": NEW}, principal=None)


@asynccontextmanager
async def _move_held_open(
    db: Database, writer: ChangeWriter, folder: uuid.UUID
) -> AsyncIterator[None]:
    """The folder moved to NEW in a transaction that commits when the block ends."""
    session = db.sessions()
    transaction = await session.begin()
    try:
        await writer.update(session, "folder", folder, {"scope_key": NEW}, principal=None)
        yield
        await transaction.commit()
    finally:
        await session.close()


@asynccontextmanager
async def push_held_open(
    monkeypatch: pytest.MonkeyPatch, push: Callable[[], Awaitable[Any]]
) -> AsyncIterator[asyncio.Task[Any]]:
    """Run ``push`` until its writes are done, its transaction still open (it stores its
    receipts last); the push commits when the block ends."""
    reached, release = asyncio.Event(), asyncio.Event()
    store = devices.store_receipts

    async def store_then_wait(*args: Any, **kwargs: Any) -> None:
        await store(*args, **kwargs)
        reached.set()
        await release.wait()

    monkeypatch.setattr(devices, "store_receipts", store_then_wait)
    task = asyncio.ensure_future(push())
    await asyncio.wait_for(reached.wait(), 10)
    try:
        yield task
    finally:
        release.set()
        await asyncio.wait_for(task, 10)


async def _placed(db: Database, note: uuid.UUID) -> tuple[str, dict[str, int]]:
    """The note's engine scope key, and the op of its latest log row under each key."""
    async with db.sessions() as session:
        key = (
            await session.execute(
                sa.select(sync_records.c.scope_key).where(
                    sync_records.c.entity == "note", sync_records.c.record_id == note
                )
            )
        ).scalar_one()
        rows = (
            await session.execute(
                sa.select(sync_log.c.scope_key, sync_log.c.op, sync_log.c.payload).where(
                    sync_log.c.entity == "note", sync_log.c.record_id == note
                )
            )
        ).all()
    return key, {k: (op, payload) for k, op, payload in rows}  # type: ignore[misc]


@pytest.fixture
def push_service(toy_db, settings, registry, writer) -> PushService:
    return PushService(toy_db, settings, registry, writer, KeysetStore())


def _request(rep: Any, mutation: dict[str, Any]) -> PushRequest:
    return PushRequest(
        rep.device_id, 1, [Mutation(**{**mutation, "id": uuid.UUID(mutation["id"])})]
    )


async def _assert_under_new_key(db: Database, note: uuid.UUID, title: str) -> None:
    key, rows = await _placed(db, note)
    assert key == NEW
    op, payload = rows[NEW]
    assert op == "upsert" and f'"title":"{title}"' in payload
    assert rows.get(OLD, ("evict", None))[0] == "evict"  # the old key's devices drop it


async def test_child_created_by_push_while_its_parent_moves_ends_under_the_new_key_push_first(
    toy_db, writer, make_device, push_service, monkeypatch
):
    rep = await make_device(keys={OLD, NEW})
    folder = await make_folder(toy_db, writer, OLD)
    note = uuid.uuid4()
    request = _request(rep, rep.mutation("note", note, folder_id=str(folder), title="made"))
    async with push_held_open(monkeypatch, lambda: push_service.push(rep.principal, request)):
        move = asyncio.ensure_future(_move(toy_db, writer, folder))
        await asyncio.sleep(OVERLAP)
        waited = not move.done()  # the move waits for the transaction that derived the key
    await asyncio.wait_for(move, 10)
    await _assert_under_new_key(toy_db, note, "made")
    assert waited


async def test_child_created_by_push_while_its_parent_moves_ends_under_the_new_key_move_first(
    toy_db, writer, make_device, push_service
):
    rep = await make_device(keys={OLD, NEW})
    folder = await make_folder(toy_db, writer, OLD)
    note = uuid.uuid4()
    request = _request(rep, rep.mutation("note", note, folder_id=str(folder), title="made"))
    async with _move_held_open(toy_db, writer, folder):
        push = asyncio.ensure_future(push_service.push(rep.principal, request))
        await asyncio.sleep(OVERLAP)
        waited = not push.done()  # the push waits for the move, then reads the new key
    result = await asyncio.wait_for(push, 10)
    assert result.results[0].status == "applied"
    await _assert_under_new_key(toy_db, note, "made")
    assert waited


async def test_child_edited_by_push_while_its_parent_moves_ends_under_the_new_key_push_first(
    toy_db, writer, make_device, push_service, monkeypatch
):
    rep = await make_device(keys={OLD, NEW})
    folder = await make_folder(toy_db, writer, OLD)
    note = await make_note(toy_db, writer, folder, title="before")
    request = _request(rep, rep.mutation("note", note, base_version=1, title="edited"))
    async with push_held_open(monkeypatch, lambda: push_service.push(rep.principal, request)):
        move = asyncio.ensure_future(_move(toy_db, writer, folder))
        await asyncio.sleep(OVERLAP)
        waited = not move.done()  # the move waits for the edit, then moves the edited note
    await asyncio.wait_for(move, 10)
    await _assert_under_new_key(toy_db, note, "edited")
    assert waited


async def test_child_edited_by_push_while_its_parent_moves_ends_under_the_new_key_move_first(
    toy_db, writer, make_device, push_service
):
    rep = await make_device(keys={OLD, NEW})
    folder = await make_folder(toy_db, writer, OLD)
    note = await make_note(toy_db, writer, folder, title="before")
    request = _request(rep, rep.mutation("note", note, base_version=1, title="edited"))
    async with _move_held_open(toy_db, writer, folder):
        push = asyncio.ensure_future(push_service.push(rep.principal, request))
        await asyncio.sleep(OVERLAP)
        waited = not push.done()  # the push waits for the move, then edits under the new key
    result = await asyncio.wait_for(push, 10)
    assert result.results[0].status == "applied"
    await _assert_under_new_key(toy_db, note, "edited")
    assert waited


async def test_child_created_over_rest_while_its_parent_moves_ends_under_the_new_key(
    toy_db, writer
):
    # the writer's own path (REST services): the child's key is derived under the same lock
    folder = await make_folder(toy_db, writer, OLD)
    async with _move_held_open(toy_db, writer, folder):
        create = asyncio.ensure_future(make_note(toy_db, writer, folder, title="made"))
        await asyncio.sleep(OVERLAP)
        waited = not create.done()
    note = await asyncio.wait_for(create, 10)
    key, rows = await _placed(toy_db, note)
    assert key == NEW and set(rows) == {NEW}
    assert waited


async def test_child_created_by_push_while_a_push_moves_its_parent_ends_under_the_new_key(
    toy_db, writer, make_device, push_service, monkeypatch
):
    # both writers are pushes (the mover locks the parent's row NO KEY UPDATE, so the child's
    # foreign-key check never waits for it): no deadlock, in either order
    rep = await make_device(keys={OLD, NEW})
    mover = await make_device(keys={OLD, NEW})
    for first in ("create", "move"):
        folder = await make_folder(toy_db, writer, OLD)
        note = uuid.uuid4()
        create = _request(rep, rep.mutation("note", note, folder_id=str(folder), title="made"))
        move = _request(mover, mover.mutation("folder", folder, base_version=1, scope_key=NEW))
        pushes = {
            "create": lambda r=create: push_service.push(rep.principal, r),
            "move": lambda r=move: push_service.push(mover.principal, r),
        }
        second = "move" if first == "create" else "create"
        async with push_held_open(monkeypatch, pushes[first]) as held:
            other = asyncio.ensure_future(pushes[second]())
            await asyncio.sleep(OVERLAP)
            waited = not other.done()
        monkeypatch.undo()
        results = [(await held).results[0], (await asyncio.wait_for(other, 10)).results[0]]
        assert [r.status for r in results] == ["applied", "applied"], (first, results)
        await _assert_under_new_key(toy_db, note, "made")
        assert waited, first
