"""What a small push costs in statements: an edit pushed with the caller's scope keys cached
reads neither the territory tree nor the assignment rules, and a lost scope still counts."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from server.sfa.territories.models import TerritoryMember
from tests.builders import make_user
from tests.integration.sfa.core_builders import add_member, make_account, make_tree
from tests.synctools import device_for


async def test_an_edit_push_reads_no_scope_tree_and_no_rules_once_keys_are_cached(
    client: Any, db: Any
) -> None:
    tree = await make_tree(db)
    rep = await make_user(db, "rep")
    await add_member(db, tree["n1a"], rep.id)
    account = await make_account(db, territory_id=tree["n1a"], owner_id=rep.id)
    device = await device_for(client, db, rep)
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        statements.append(statement.lower())

    engine = client.app.state.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        first = await device.push_one("account", account, "upsert", {"notes": "one"}, 1)
        assert first["status"] == "applied", first
        assert any("territory_members" in s for s in statements)  # the keys computed once
        statements.clear()
        second = await device.push_one(
            "account", account, "upsert", {"notes": "two"}, first["version"]
        )
        assert second["status"] == "applied", second
        assert statements and not [s for s in statements if "territory_members" in s]
        assert not [s for s in statements if "territory_rules" in s]
    finally:
        event.remove(engine, "before_cursor_execute", seen)

    async with db.transaction() as session:  # the rep leaves the territory (the epoch moves)
        members = TerritoryMember.__table__
        await session.execute(sa.delete(members).where(members.c.user_id == rep.id))
    third = await device.push_one(
        "account", account, "upsert", {"name": "moved away"}, second["version"]
    )
    assert third["status"] != "applied", third
