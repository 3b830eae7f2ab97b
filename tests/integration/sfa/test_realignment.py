"""Realignment: a previewed plan, applied in one transaction, delivers and evicts exactly what
it announced to two reps' devices; a stale plan is refused (both backends)."""

from __future__ import annotations

import uuid
from typing import Any

from tests.builders import auth_headers, make_user
from tests.integration.sfa.core_builders import add_member, count, make_contact, make_tree
from tests.synctools import device_for


async def _changes(device: Any, cursor: str) -> tuple[dict[str, set[str]], str]:
    changes, cursor = await device.pull_all(cursor)
    ops: dict[str, set[str]] = {}
    for change in changes:
        ops.setdefault(change["op"], set()).add(f"{change['entity']}:{change['id']}")
    return ops, cursor


async def test_preview_then_apply_moves_exactly_what_was_announced(client, db) -> None:
    tree = await make_tree(db)
    admin = await make_user(db, "admin")
    headers = await auth_headers(db, admin)
    rep_a, rep_b = await make_user(db, "rep"), await make_user(db, "rep")
    await add_member(db, tree["n1a"], rep_a.id)
    await add_member(db, tree["n1b"], rep_b.id)
    device_a, device_b = await device_for(client, db, rep_a), await device_for(client, db, rep_b)

    def account(name: str, city: str) -> dict[str, Any]:
        return {"name": name, "city": city, "territory_id": str(tree["n1a"])}

    # placed by hand in n1a: manual assignments, which no plan moves
    lyon, nice = [
        (await client.post("/accounts", json=account(n, c), headers=headers)).json()["id"]
        for n, c in (("L", "Lyon"), ("N", "Nice"))
    ]
    for _ in range(2):  # records under an account that stays are in no device's counts
        await make_contact(db, uuid.UUID(lyon))
    # placed in n1a by a rule; that rule is then retired and a new one points Lyon at n1b
    rule_a = await client.post(
        f"/territories/{tree['n1a']}/rules", json={"kind": "city", "value": "Lyon"}, headers=headers
    )
    fresh = (
        await client.post("/accounts", json={"name": "F", "city": "Lyon"}, headers=headers)
    ).json()
    assert fresh["territory_id"] == str(tree["n1a"])
    fresh_contact = await make_contact(db, uuid.UUID(fresh["id"]))
    await client.patch(
        f"/territories/{tree['n1a']}/rules/{rule_a.json()['id']}",
        json={"active": False},
        headers=headers,
    )
    rule_b = await client.post(
        f"/territories/{tree['n1b']}/rules", json={"kind": "city", "value": "Lyon"}, headers=headers
    )
    _, cursor_a = await device_a.snapshot()
    _, cursor_b = await device_b.snapshot()

    preview = await client.post("/territories/realignments", json={}, headers=headers)
    assert preview.status_code == 201, preview.text
    plan = preview.json()
    # the manual ones (lyon, nice) stay; the rule-driven one moves with its contact
    assert [m["account_id"] for m in plan["moves"]] == [fresh["id"]]
    [move] = plan["moves"]
    assert move["records"] == 2 and move["rule_id"] == rule_b.json()["id"]
    assert {t["id"]: (t["gained"], t["lost"]) for t in plan["territories"]} == {
        str(tree["n1a"]): ([], [fresh["id"]]),
        str(tree["n1b"]): ([fresh["id"]], []),
    }
    devices = {d["device_id"]: (d["receive"], d["evict"]) for d in plan["devices"]}
    assert devices[str(device_a.device_id)] == (0, 2)
    assert devices[str(device_b.device_id)] == (2, 0)
    assert await count(db, "realignment_plans") == 1

    applied = await client.post(f"/territories/realignments/{plan['id']}/apply", headers=headers)
    assert applied.status_code == 200, applied.text
    assert applied.json()["status"] == "applied" and applied.json()["applied_by"] == str(admin.id)
    expected = {f"account:{fresh['id']}", f"contact:{fresh_contact}"}
    ops_a, _ = await _changes(device_a, cursor_a)
    ops_b, _ = await _changes(device_b, cursor_b)
    assert ops_a == {"evict": expected} and len(expected) == devices[str(device_a.device_id)][1]
    assert ops_b == {"upsert": expected} and len(expected) == devices[str(device_b.device_id)][0]
    assert {m["account_id"] for m in plan["moves"]}.isdisjoint({lyon, nice})

    history = (await client.get(f"/accounts/{fresh['id']}/ownership", headers=headers)).json()
    assert history["items"][-1]["rule_id"] == rule_b.json()["id"]
    again = await client.post(f"/territories/realignments/{plan['id']}/apply", headers=headers)
    assert again.status_code == 409 and again.json()["code"] == "plan_applied"


async def test_a_plan_is_refused_when_the_data_changed_since(client, db) -> None:
    tree = await make_tree(db)
    headers = await auth_headers(db, await make_user(db, "admin"))
    await client.post(
        f"/territories/{tree['n1a']}/rules", json={"kind": "city", "value": "Nice"}, headers=headers
    )
    account = (
        await client.post("/accounts", json={"name": "A", "city": "Nice"}, headers=headers)
    ).json()
    await client.post(
        f"/territories/{tree['n1b']}/rules",
        json={"kind": "city", "value": "Nice", "priority": 1},
        headers=headers,
    )
    plan = (await client.post("/territories/realignments", json={}, headers=headers)).json()
    assert [m["account_id"] for m in plan["moves"]] == [account["id"]]
    await client.patch(f"/accounts/{account['id']}", json={"name": "A2"}, headers=headers)
    stale = await client.post(f"/territories/realignments/{plan['id']}/apply", headers=headers)
    assert stale.status_code == 409 and stale.json()["code"] == "plan_stale"
    row = (await client.get(f"/accounts/{account['id']}", headers=headers)).json()
    assert row["territory_id"] == str(tree["n1a"])  # nothing moved


async def test_a_manager_plans_only_within_their_subtree(client, db) -> None:
    tree = await make_tree(db)
    manager = await make_user(db, "manager")
    await add_member(db, tree["north"], manager.id)
    headers = await auth_headers(db, manager)
    foreign = await client.post(
        "/territories/realignments", json={"territory_id": str(tree["s1a"])}, headers=headers
    )
    assert foreign.status_code == 404 and foreign.json()["field"] == "territory_id"
    rep_headers = await auth_headers(db, await make_user(db, "rep"))
    assert (
        await client.post("/territories/realignments", json={}, headers=rep_headers)
    ).status_code == 403


async def test_offline_edit_of_an_account_a_plan_moved_away_is_kept_for_its_new_owner(
    client, db
) -> None:
    tree = await make_tree(db)
    headers = await auth_headers(db, await make_user(db, "admin"))
    rule = await client.post(
        f"/territories/{tree['n1a']}/rules", json={"kind": "city", "value": "Nice"}, headers=headers
    )
    account = (
        await client.post("/accounts", json={"name": "A", "city": "Nice"}, headers=headers)
    ).json()
    rep, new_owner = await make_user(db, "rep"), await make_user(db, "rep")
    await add_member(db, tree["n1a"], rep.id)
    await add_member(db, tree["n1b"], new_owner.id)
    device = await device_for(client, db, rep)
    await device.snapshot()  # the rep holds the account, then goes offline
    owner_device = await device_for(client, db, new_owner)
    _, owner_cursor = await owner_device.snapshot()
    await client.patch(
        f"/territories/{tree['n1a']}/rules/{rule.json()['id']}",
        json={"active": False},
        headers=headers,
    )
    await client.post(
        f"/territories/{tree['n1b']}/rules", json={"kind": "city", "value": "Nice"}, headers=headers
    )
    plan = (await client.post("/territories/realignments", json={}, headers=headers)).json()
    applied = await client.post(f"/territories/realignments/{plan['id']}/apply", headers=headers)
    assert applied.status_code == 200
    # the edit made offline before the move is not lost: a conflict routed to the new owner
    result = await device.push_one(
        "account", account["id"], "upsert", {"name": "Renamed offline"}, base_version=1
    )
    assert result["status"] == "rejected" and result["error"]["code"] == "out_of_scope"
    assert result["conflict_id"] is not None
    assert result.get("record") is None  # the rep no longer reads the account's current values
    # routed to the new owner: their device receives the conflict with the offline value
    changes, _ = await owner_device.pull_all(owner_cursor)
    [conflict] = [c["record"] for c in changes if c["entity"] == "conflict"]
    assert conflict["id"] == result["conflict_id"] and conflict["record_id"] == account["id"]
    assert conflict["kind"] == "out_of_scope"
    assert [(f["field"], f["yours"]) for f in conflict["fields"]] == [("name", "Renamed offline")]
