"""A pull page is bounded in bytes as well as in changes (``OUTPOST_SYNC_PULL_MAX_BYTES``).

Before, a page was built from ``limit`` records whatever their size: 5,000 big records made one
response of hundreds of megabytes in the server's memory.
"""

from __future__ import annotations

import msgspec
import pytest

from server.settings import Settings
from tests.integration.sync.toy import make_folder, make_note

BUDGET = 20_000
BODY = "b" * 6_000  # about three records per page


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return msgspec.structs.replace(settings, sync_pull_max_bytes=BUDGET)


async def test_pull_pages_are_built_within_the_byte_budget(toy_db, writer, make_device):
    rep = await make_device(keys={"t:north"})
    folder = await make_folder(toy_db, writer, "t:north")
    notes = {str(await make_note(toy_db, writer, folder, body=BODY)) for _ in range(10)}

    pages = []
    while True:
        page = await rep.pull(limit=1000)
        pages.append(page)
        if not page["has_more"]:
            break

    received = [c["id"] for p in pages for c in p["changes"]]
    assert set(received) == notes | {str(folder)} and len(received) == len(set(received))
    assert len(pages) >= 4  # not one page of 11 records
    for page in pages:
        records = sum(len(msgspec.json.encode(c.get("record"))) for c in page["changes"])
        assert records <= BUDGET
    assert pages[-1]["progress"] == {"total": 11, "sent": 11}


async def test_a_record_bigger_than_the_budget_still_travels_alone(toy_db, writer, make_device):
    rep = await make_device(keys={"t:north"})
    folder = await make_folder(toy_db, writer, "t:north")
    big = await make_note(toy_db, writer, folder, body="x" * (2 * BUDGET))
    small = await make_note(toy_db, writer, folder, body="small")

    first = await rep.pull(limit=1000)
    second = await rep.pull(limit=1000)

    assert [c["id"] for c in first["changes"]] == [str(folder)]
    assert first["has_more"] is True
    assert [c["id"] for c in second["changes"]] == [str(big)]  # alone, but never stuck
    assert second["has_more"] is True
    third = await rep.pull(limit=1000)
    assert [c["id"] for c in third["changes"]] == [str(small)] and third["has_more"] is False


async def test_a_catch_up_is_bounded_in_bytes_too(toy_db, writer, make_device, scopes):
    rep = await make_device(keys={"t:north"})
    await make_folder(toy_db, writer, "t:north")
    # logged before the device's position: a key gained later sends them in its catch-up
    south = await make_folder(toy_db, writer, "t:south")
    notes = {str(await make_note(toy_db, writer, south, body=BODY)) for _ in range(6)}
    assert not (await rep.pull())["has_more"]
    scopes.keys[rep.user.id] = {"t:north", "t:south"}

    pages = []
    while True:
        page = await rep.pull(limit=1000)
        pages.append(page)
        if not page["has_more"]:
            break

    assert {c["id"] for p in pages for c in p["changes"]} == notes | {str(south)}
    assert len(pages) >= 2
    for page in pages:
        records = sum(len(msgspec.json.encode(c.get("record"))) for c in page["changes"])
        assert records <= BUDGET
