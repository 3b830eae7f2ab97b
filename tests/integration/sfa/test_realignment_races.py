"""A realignment applied while an account it moves is being edited (real concurrent PostgreSQL
transactions): the apply waits for the edit, then refuses the plan as stale, moving nothing.
SQLite serializes writers, so the race cannot happen there."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from server.errors import Conflict
from server.sfa.territories.realignment import RealignmentService
from tests.builders import auth_headers, make_user
from tests.integration.sfa.core_builders import make_tree
from tests.synctools import principal, writer

OVERLAP = 0.3


async def test_an_account_edited_while_the_plan_applies_makes_it_stale(
    client, db, backend, settings
):
    if backend != "postgresql":
        pytest.skip("SQLite serializes writers: an edit cannot overlap the apply")
    tree = await make_tree(db)
    admin = await make_user(db, "admin")
    headers = await auth_headers(db, admin)
    await client.post(
        f"/territories/{tree['n1a']}/rules", json={"kind": "city", "value": "Lyon"}, headers=headers
    )
    ids = [
        (await client.post("/accounts", json={"name": n, "city": "Lyon"}, headers=headers)).json()[
            "id"
        ]
        for n in ("first", "second")
    ]
    await client.post(
        f"/territories/{tree['n1b']}/rules",
        json={"kind": "city", "value": "Lyon", "priority": 1},
        headers=headers,
    )
    plan = (await client.post("/territories/realignments", json={}, headers=headers)).json()
    assert sorted(m["account_id"] for m in plan["moves"]) == sorted(ids)

    session = db.sessions()
    transaction = await session.begin()
    try:  # an edit of the second account, its transaction held open
        await writer().update(session, "account", uuid.UUID(ids[1]), {"name": "x"}, principal=None)
        # the service on this test's loop (the test client would block it while it waits)
        service = RealignmentService(db, writer(), principal(admin), settings)
        apply = asyncio.ensure_future(service.apply(uuid.UUID(plan["id"])))
        await asyncio.sleep(OVERLAP)
        waited = not apply.done()  # the apply waits for the edit's row lock
        await transaction.commit()
    finally:
        await session.close()
    with pytest.raises(Conflict) as refused:
        await asyncio.wait_for(apply, 10)
    assert waited and refused.value.code == "plan_stale"
    for account_id in ids:  # nothing moved, not even the account nobody edited
        row = (await client.get(f"/accounts/{account_id}", headers=headers)).json()
        assert row["territory_id"] == str(tree["n1a"])
