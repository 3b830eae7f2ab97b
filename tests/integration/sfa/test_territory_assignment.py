"""Accounts placed by the assignment rules (REST and sync), manual overrides, and the
effective-dated ownership history (both backends)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from server.sfa.accounts.assignment import AssignmentRepository
from tests.builders import auth_headers, make_user
from tests.integration.sfa.core_builders import add_member, make_contact, make_tree
from tests.synctools import device_for


async def _rule(client: Any, headers: dict[str, str], territory: uuid.UUID, **body: Any) -> str:
    response = await client.post(f"/territories/{territory}/rules", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def _history(client: Any, headers: dict[str, str], account_id: str) -> list[dict[str, Any]]:
    response = await client.get(f"/accounts/{account_id}/ownership", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]  # type: ignore[no-any-return]


async def test_new_account_is_placed_by_the_first_matching_rule(client, db) -> None:
    tree = await make_tree(db)
    manager = await make_user(db, "manager")
    await add_member(db, tree["north"], manager.id)
    headers = await auth_headers(db, manager)
    rep = await make_user(db, "rep")
    await _rule(client, headers, tree["n1b"], kind="city", value="Paris", priority=50)
    winner = await _rule(
        client,
        headers,
        tree["n1a"],
        kind="postal_prefix",
        value="75",
        priority=10,
        owner_id=str(rep.id),
    )
    created = await client.post(
        "/accounts", json={"name": "Café", "city": "Paris", "postal_code": "75011"}, headers=headers
    )
    assert created.status_code == 201, created.text
    account = created.json()
    assert account["territory_id"] == str(tree["n1a"]) and account["owner_id"] == str(rep.id)
    [period] = await _history(client, headers, account["id"])
    assert period["cause"] == "rule" and period["rule_id"] == winner
    assert period["assigned_by"] == str(manager.id) and period["valid_to"] is None
    assert period["territory_id"] == str(tree["n1a"]) and not period["excluded_from_realignment"]

    # no rule matches: the account keeps what the creator gave, recorded as "default"
    plain = await client.post("/accounts", json={"name": "Elsewhere"}, headers=headers)
    assert plain.json()["territory_id"] is None
    assert [p["cause"] for p in await _history(client, headers, plain.json()["id"])] == ["default"]


async def test_rule_outside_the_writers_reach_does_not_move_the_account(client, db) -> None:
    tree = await make_tree(db)
    admin_headers = await auth_headers(db, await make_user(db, "admin"))
    await _rule(client, admin_headers, tree["s1a"], kind="city", value="Lyon")
    manager = await make_user(db, "manager")
    await add_member(db, tree["north"], manager.id)
    headers = await auth_headers(db, manager)
    created = await client.post(
        "/accounts",
        json={"name": "A", "territory_id": str(tree["n1a"])},
        headers=headers,
    )
    moved = await client.patch(
        f"/accounts/{created.json()['id']}", json={"city": "Lyon"}, headers=headers
    )
    # the manager cannot reach s1a: the account stays in their subtree
    assert moved.status_code == 200 and moved.json()["territory_id"] == str(tree["n1a"])


async def test_manual_assignment_overrides_rules_and_is_excluded(client, db) -> None:
    tree = await make_tree(db)
    manager = await make_user(db, "manager")
    await add_member(db, tree["north"], manager.id)
    headers = await auth_headers(db, manager)
    await _rule(client, headers, tree["n1b"], kind="city", value="Lyon")
    created = await client.post("/accounts", json={"name": "A", "city": "Nice"}, headers=headers)
    account_id = created.json()["id"]

    manual = await client.patch(
        f"/accounts/{account_id}", json={"territory_id": str(tree["n1a"])}, headers=headers
    )
    assert manual.json()["territory_id"] == str(tree["n1a"])
    # an edit the rule matches no longer moves it: the manual assignment is excluded
    edited = await client.patch(f"/accounts/{account_id}", json={"city": "Lyon"}, headers=headers)
    assert edited.json()["territory_id"] == str(tree["n1a"])
    history = await _history(client, headers, account_id)
    assert [p["cause"] for p in history] == ["default", "manual"]
    assert history[1]["excluded_from_realignment"] and history[1]["assigned_by"] == str(manager.id)
    assert history[0]["valid_to"] == history[1]["valid_from"]


async def test_edit_moves_the_account_by_rule_and_history_answers_who_owned_it_when(
    client, db
) -> None:
    tree = await make_tree(db)
    headers = await auth_headers(db, await make_user(db, "admin"))
    rule_b = await _rule(client, headers, tree["n1b"], kind="city", value="Lyon")
    rule_a = await _rule(client, headers, tree["n1a"], kind="city", value="Nice")
    created = await client.post("/accounts", json={"name": "A", "city": "Nice"}, headers=headers)
    account_id = created.json()["id"]
    assert created.json()["territory_id"] == str(tree["n1a"])
    moved = await client.patch(f"/accounts/{account_id}", json={"city": "Lyon"}, headers=headers)
    assert moved.json()["territory_id"] == str(tree["n1b"])
    # an edit of a field no rule reads records nothing
    await client.patch(f"/accounts/{account_id}", json={"notes": "hello"}, headers=headers)

    history = await _history(client, headers, account_id)
    assert [(p["rule_id"], p["territory_id"]) for p in history] == [
        (rule_a, str(tree["n1a"])),
        (rule_b, str(tree["n1b"])),
    ]
    first, second = ((dt.datetime.fromisoformat(p["valid_from"]), p["valid_to"]) for p in history)
    assert second[1] is None and dt.datetime.fromisoformat(first[1]) == second[0]

    async with db.sessions() as session:
        repo = AssignmentRepository(session)
        aid = uuid.UUID(account_id)
        assert await repo.owner_on(aid, first[0] - dt.timedelta(seconds=1)) is None
        during = await repo.owner_on(aid, first[0])
        assert during is not None and during.territory_id == tree["n1a"]
        after = await repo.owner_on(aid, second[0])
        assert after is not None and after.territory_id == tree["n1b"]
        later = await repo.owner_on(aid, second[0] + dt.timedelta(days=365))
        assert later is not None and later.territory_id == tree["n1b"]

    # paged like every list
    page = await client.get(f"/accounts/{account_id}/ownership?limit=1", headers=headers)
    assert len(page.json()["items"]) == 1 and page.json()["next_cursor"]


async def test_ownership_of_a_foreign_account_is_not_found(client, db) -> None:
    tree = await make_tree(db)
    admin_headers = await auth_headers(db, await make_user(db, "admin"))
    foreign = await client.post(
        "/accounts", json={"name": "S", "territory_id": str(tree["s1a"])}, headers=admin_headers
    )
    manager = await make_user(db, "manager")
    await add_member(db, tree["north"], manager.id)
    headers = await auth_headers(db, manager)
    response = await client.get(f"/accounts/{foreign.json()['id']}/ownership", headers=headers)
    assert response.status_code == 404


async def _ids(device: Any, cursor: str) -> tuple[dict[str, set[str]], str]:
    changes, cursor = await device.pull_all(cursor)
    ops: dict[str, set[str]] = {}
    for change in changes:
        ops.setdefault(change["op"], set()).add(f"{change['entity']}:{change['id']}")
    return ops, cursor


async def _two_reps(client: Any, db: Any, tree: dict[str, uuid.UUID]) -> tuple[Any, Any]:
    rep_a, rep_b = await make_user(db, "rep"), await make_user(db, "rep")
    await add_member(db, tree["n1a"], rep_a.id)
    await add_member(db, tree["n1b"], rep_b.id)
    return await device_for(client, db, rep_a), await device_for(client, db, rep_b)


async def test_rule_move_over_rest_evicts_from_old_holders_and_delivers_to_new(client, db) -> None:
    tree = await make_tree(db)
    headers = await auth_headers(db, await make_user(db, "admin"))
    await _rule(client, headers, tree["n1a"], kind="postal_prefix", value="10")
    await _rule(client, headers, tree["n1b"], kind="postal_prefix", value="69")
    created = await client.post(
        "/accounts", json={"name": "A", "postal_code": "10001"}, headers=headers
    )
    account_id = created.json()["id"]
    assert created.json()["territory_id"] == str(tree["n1a"])
    contact_id = await make_contact(db, uuid.UUID(account_id))
    device_a, device_b = await _two_reps(client, db, tree)
    snap_a, cursor_a = await device_a.snapshot()
    snap_b, cursor_b = await device_b.snapshot()
    assert ("account", account_id) in snap_a and ("contact", str(contact_id)) in snap_a
    assert ("account", account_id) not in snap_b

    moved = await client.patch(
        f"/accounts/{account_id}", json={"postal_code": "69002"}, headers=headers
    )
    assert moved.json()["territory_id"] == str(tree["n1b"])
    expected = {f"account:{account_id}", f"contact:{contact_id}"}
    assert (await _ids(device_a, cursor_a))[0] == {"evict": expected}
    assert (await _ids(device_b, cursor_b))[0] == {"upsert": expected}


async def test_rule_move_over_sync_push_evicts_and_delivers(client, db) -> None:
    tree = await make_tree(db)
    headers = await auth_headers(db, await make_user(db, "admin"))
    await _rule(client, headers, tree["n1a"], kind="city", value="Nice")
    rule_b = await _rule(client, headers, tree["n1b"], kind="city", value="Lyon")
    created = await client.post("/accounts", json={"name": "A", "city": "Nice"}, headers=headers)
    account_id = created.json()["id"]
    contact_id = await make_contact(db, uuid.UUID(account_id))
    device_a, device_b = await _two_reps(client, db, tree)
    _, cursor_a = await device_a.snapshot()
    _, cursor_b = await device_b.snapshot()

    # rep_a reaches n1a only: their edit is applied, the rule's n1b is out of reach, it stays
    kept = await device_a.push_one(
        "account", account_id, "upsert", {"city": "Lyon"}, base_version=1
    )
    assert kept["status"] == "applied", kept
    ops_a, cursor_a = await _ids(device_a, cursor_a)
    assert "evict" not in ops_a
    assert (await _ids(device_b, cursor_b))[0] == {}

    # a rep of the whole area n1 reaches both: their edit lets the rule move the account
    area_rep = await make_user(db, "rep")
    await add_member(db, tree["n1"], area_rep.id)
    device_c = await device_for(client, db, area_rep)
    await device_c.snapshot()
    moved = await device_c.push_one(
        "account", account_id, "upsert", {"city": " lyon", "region": "R"}, base_version=2
    )
    assert moved["status"] == "applied", moved
    expected = {f"account:{account_id}", f"contact:{contact_id}"}
    assert (await _ids(device_a, cursor_a))[0] == {"evict": expected}
    ops_b, _ = await _ids(device_b, cursor_b)
    assert ops_b == {"upsert": expected}
    history = await _history(client, headers, account_id)
    assert history[-1]["rule_id"] == rule_b and history[-1]["assigned_by"] == str(area_rep.id)


async def test_pushed_create_is_placed_by_rule_and_a_rejected_one_leaves_no_history(
    client, db
) -> None:
    tree = await make_tree(db)
    headers = await auth_headers(db, await make_user(db, "admin"))
    rule_a = await _rule(client, headers, tree["n1a"], kind="segment", value="education")
    rep = await make_user(db, "rep")
    await add_member(db, tree["n1a"], rep.id)
    device = await device_for(client, db, rep)
    new_id = str(uuid.uuid4())
    made = await device.push_one(
        "account", new_id, "upsert", {"name": "School", "segment": "education"}
    )
    assert made["status"] == "applied", made
    [period] = await _history(client, headers, new_id)
    assert period["cause"] == "rule" and period["rule_id"] == rule_a
    assert period["territory_id"] == str(tree["n1a"]) and period["owner_id"] == str(rep.id)

    # a create naming a foreign territory (no rule matches it) is refused: no history row stays
    refused_id = uuid.uuid4()
    refused = await device.push_one(
        "account", refused_id, "upsert", {"name": "X", "territory_id": str(tree["s1a"])}
    )
    assert refused["status"] == "rejected" and refused["error"]["code"] == "out_of_scope"
    async with db.sessions() as session:
        assert await AssignmentRepository(session).current(refused_id) is None
