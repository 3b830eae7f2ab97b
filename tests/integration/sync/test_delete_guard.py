"""The ``may_delete`` hook of an ``EntitySpec``: a device's delete of a record in a state the
entity forbids is rejected with the hook's refusal and the record, and nothing is written."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import sqlalchemy as sa

from server.errors import Conflict
from server.sync.registry import SyncRegistry
from tests.integration.sync import toy
from tests.integration.sync.toy import make_folder, make_note


def archived_refusal(record: dict[str, Any]) -> Conflict | None:
    if record["status"] != "archived":
        return None
    return Conflict("archived notes stay", field="status", code="invalid_state",
                    data={"status": record["status"]})


@pytest.fixture
def registry(scopes: toy.Scopes) -> SyncRegistry:
    built = toy.build_registry(scopes)
    built.entities["note"] = dataclasses.replace(
        built.entities["note"], may_delete=archived_refusal
    )
    return built


async def test_a_delete_the_hook_refuses_is_rejected_with_its_code_and_the_record(
    toy_db, writer, make_device
):
    rep = await make_device(keys={"t:north"})
    folder = await make_folder(toy_db, writer, "t:north")
    kept = await make_note(toy_db, writer, folder, status="archived")
    gone = await make_note(toy_db, writer, folder)
    await rep.pull_all()

    refused, applied = await rep.push([
        rep.mutation("note", kept, "delete", base_version=1),
        rep.mutation("note", gone, "delete", base_version=1),
    ])

    assert refused["status"] == "rejected"
    assert (refused["error"]["code"], refused["error"]["field"]) == ("invalid_state", "status")
    assert refused["error"]["data"] == {"status": "archived"}
    assert refused["record"]["id"] == str(kept) and refused["record"]["version"] == 1
    assert applied["status"] == "applied"  # the refusal harms only its own mutation
    async with toy_db.sessions() as session:
        left = (await session.execute(sa.select(toy.notes.c.id))).scalars().all()
    assert left == [kept]
