"""A sync delete of a parent follows the children's declared policy: cascade or in_use."""

from __future__ import annotations

import dataclasses

import pytest
import sqlalchemy as sa

from server.sync.registry import SyncRegistry
from tests.integration.sync import toy
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
