"""A pushed U+0000 is a rejected mutation naming the field, on both backends; the rest apply."""

from __future__ import annotations

import uuid

from tests.integration.sync.toy import make_folder


async def test_nul_in_a_pushed_change_is_a_rejected_mutation_with_field(
    toy_db, writer, make_device
) -> None:
    rep = await make_device(keys={"t:north"})
    folder = await make_folder(toy_db, writer, "t:north")
    bad, good = uuid.uuid4(), uuid.uuid4()
    results = await rep.push(
        [
            rep.mutation("note", bad, folder_id=str(folder), title="a\u0000b"),
            rep.mutation("note", good, folder_id=str(folder), title="fine"),
        ]
    )
    assert results[0]["status"] == "rejected", results
    assert results[0]["error"]["code"] == "validation_error"
    assert results[0]["error"]["field"] == "title"
    assert results[1]["status"] == "applied", results
    pulled = {(c["id"], c["op"]) for c in await rep.pull_all()}
    assert (str(good), "upsert") in pulled and not any(i == str(bad) for i, _ in pulled)
