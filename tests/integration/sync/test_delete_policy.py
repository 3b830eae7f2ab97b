"""A sync delete of a parent follows the children's declared policy: cascade or in_use."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid

import pytest
import sqlalchemy as sa

from protocol.sync import Mutation, PushRequest
from server.errors import Conflict
from server.sync.keysets import KeysetStore
from server.sync.push import PushService
from server.sync.registry import SyncRegistry
from tests.integration.sync import toy
from tests.integration.sync.test_parent_move_races import push_held_open
from tests.integration.sync.toy import make_folder, make_note


@pytest.fixture
def registry(scopes: toy.Scopes) -> SyncRegistry:
    # notes declared as history their folder cannot take with it
    built = toy.build_registry(scopes)
    built.entities["note"] = dataclasses.replace(built.entities["note"], cascade_delete=False)
    return built


async def test_sync_delete_of_a_parent_with_children_that_do_not_cascade_is_rejected_in_use(
    toy_db, writer, make_device
):
    rep = await make_device(keys={"t:north"})
    folder = await make_folder(toy_db, writer, "t:north")
    notes = [await make_note(toy_db, writer, folder) for _ in range(2)]
    await rep.pull_all()

    [result] = await rep.push([rep.mutation("folder", folder, "delete", base_version=1)])

    assert result["status"] == "rejected"
    assert result["error"]["code"] == "in_use" and result["error"]["field"] == "id"
    assert result["error"]["data"] == {"held_by": {"note": 2}}
    async with toy_db.sessions() as session:
        assert (
            await session.execute(sa.select(sa.func.count()).select_from(toy.notes))
        ).scalar_one() == 2
        assert (await session.execute(sa.select(toy.folders.c.id))).scalars().all() == [folder]
    assert await rep.pull_all() == []  # nothing was written, nothing to pull
    assert {key[1] for key in rep.copy} >= {str(n) for n in notes}
    # the mutation used up its number and blocks nothing behind it
    [after] = await rep.push([rep.mutation("folder", folder, base_version=1, name="kept")])
    assert after["status"] == "applied"


@pytest.fixture
def push_service(toy_db, settings, registry, writer) -> PushService:
    return PushService(toy_db, settings, registry, writer, KeysetStore())


def _create_note(rep, folder):
    mutation = rep.mutation("note", uuid.uuid4(), folder_id=str(folder), title="late")
    return PushRequest(
        rep.device_id, 1, [Mutation(**{**mutation, "id": uuid.UUID(mutation["id"])})]
    )


async def _delete(db, writer, folder) -> None:
    async with db.transaction() as session:
        await writer.delete(session, "folder", folder, principal=None)


async def _notes(db) -> int:
    async with db.sessions() as session:
        return (
            await session.execute(sa.select(sa.func.count()).select_from(toy.notes))
        ).scalar_one()


async def test_a_child_created_while_its_parent_is_deleted_blocks_the_delete_child_first(
    backend, toy_db, writer, make_device, push_service, monkeypatch
):
    if backend != "postgresql":
        pytest.skip("SQLite serializes writers")
    rep = await make_device(keys={"t:north"})
    folder = await make_folder(toy_db, writer, "t:north")
    request = _create_note(rep, folder)
    async with push_held_open(monkeypatch, lambda: push_service.push(rep.principal, request)):
        delete = asyncio.ensure_future(_delete(toy_db, writer, folder))
        await asyncio.sleep(0.3)
        waited = not delete.done()
    with pytest.raises(Conflict) as refused:
        await asyncio.wait_for(delete, 10)
    assert refused.value.code == "in_use" and refused.value.data == {"held_by": {"note": 1}}
    assert waited and await _notes(toy_db) == 1


async def test_a_child_created_while_its_parent_is_deleted_blocks_the_delete_delete_first(
    backend, toy_db, writer, make_device, push_service
):
    if backend != "postgresql":
        pytest.skip("SQLite serializes writers")
    rep = await make_device(keys={"t:north"})
    folder = await make_folder(toy_db, writer, "t:north")
    session = toy_db.sessions()
    transaction = await session.begin()
    try:
        await writer.delete(session, "folder", folder, principal=None)
        push = asyncio.ensure_future(push_service.push(rep.principal, _create_note(rep, folder)))
        await asyncio.sleep(0.3)
        waited = not push.done()
        await transaction.commit()
    finally:
        await session.close()
    result = await asyncio.wait_for(push, 10)
    assert waited and result.results[0].status == "rejected"
    assert await _notes(toy_db) == 0  # no orphan, nothing deleted without a tombstone
