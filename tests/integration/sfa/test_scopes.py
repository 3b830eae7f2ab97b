"""The scope provider on a small territory tree, and the scope keys of the core entities."""

from __future__ import annotations

import asyncio
import time

import sqlalchemy as sa

from protocol.hlc import encode
from server.app import build_registry
from server.sfa.accounts.models import Account
from server.sfa.scopes import UNASSIGNED_KEY, account_key, visibility
from server.sync.registry import GLOBAL_KEY, Policy, Principal, user_key
from tests.builders import auth_headers, issue_token, make_user
from tests.integration.sfa.core_builders import (
    add_member,
    make_account,
    make_contact,
    make_product,
    make_tree,
)


def t(node_id: object) -> str:
    return f"t:{node_id}"


async def keys_of(db, user, role: str | None = None, active: bool = True) -> frozenset[str]:
    registry = build_registry()
    principal = Principal(user_id=user.id, role=role or user.role.value, active=active)
    async with db.sessions() as session:
        return await registry.scope_keys(session, principal)


async def test_rep_holds_the_nodes_they_belong_to_and_their_descendants(db) -> None:
    tree = await make_tree(db)
    area_rep = await make_user(db, "rep")
    leaf_rep = await make_user(db, "rep")
    await add_member(db, tree["n1"], area_rep.id)
    await add_member(db, tree["s1a"], leaf_rep.id)

    assert await keys_of(db, area_rep) == {
        t(tree["n1"]),
        t(tree["n1a"]),
        t(tree["n1b"]),
        user_key(area_rep.id),
        GLOBAL_KEY,
    }
    assert await keys_of(db, leaf_rep) == {t(tree["s1a"]), user_key(leaf_rep.id), GLOBAL_KEY}


async def test_rep_without_membership_holds_only_their_own_key(db) -> None:
    await make_tree(db)
    rep = await make_user(db, "rep")
    assert await keys_of(db, rep) == {user_key(rep.id), GLOBAL_KEY}


async def test_manager_holds_subtree_direct_reports_and_unassigned(db) -> None:
    tree = await make_tree(db)
    manager = await make_user(db, "manager")
    report = await make_user(db, "rep", manager_id=manager.id)
    other_rep = await make_user(db, "rep")
    await add_member(db, tree["north"], manager.id)
    await add_member(db, tree["s1a"], other_rep.id)

    keys = await keys_of(db, manager)
    north = {t(tree[n]) for n in ("north", "n1", "n1a", "n1b")}
    assert keys == north | {user_key(report.id), user_key(manager.id), UNASSIGNED_KEY, GLOBAL_KEY}
    assert t(tree["s1a"]) not in keys and user_key(other_rep.id) not in keys


async def test_manager_in_two_subtrees_gets_both(db) -> None:
    tree = await make_tree(db)
    manager = await make_user(db, "manager")
    await add_member(db, tree["n1b"], manager.id)
    await add_member(db, tree["s1"], manager.id)
    keys = await keys_of(db, manager)
    assert {t(tree["n1b"]), t(tree["s1"]), t(tree["s1a"])} <= keys
    assert t(tree["n1a"]) not in keys and t(tree["north"]) not in keys


async def test_admin_holds_every_territory_and_unassigned(db) -> None:
    tree = await make_tree(db)
    admin = await make_user(db, "admin")
    keys = await keys_of(db, admin)
    assert keys == {t(v) for v in tree.values()} | {UNASSIGNED_KEY, user_key(admin.id), GLOBAL_KEY}


async def test_deactivated_user_holds_nothing(db) -> None:
    tree = await make_tree(db)
    rep = await make_user(db, "rep")
    await add_member(db, tree["n1"], rep.id)
    assert await keys_of(db, rep, active=False) == frozenset()


async def test_sql_filter_agrees_with_allows_for_every_kind_of_account(db) -> None:
    tree = await make_tree(db)
    manager = await make_user(db, "manager")
    report = await make_user(db, "rep", manager_id=manager.id)
    stranger = await make_user(db, "rep")
    await add_member(db, tree["n1"], manager.id)
    await make_account(db, territory_id=tree["n1a"])  # in subtree
    await make_account(db, territory_id=tree["s1a"])  # other subtree
    await make_account(db, territory_id=tree["n1a"], owner_id=stranger.id)  # territory decides
    await make_account(db, owner_id=report.id)  # a report's own
    await make_account(db, owner_id=stranger.id)  # someone else's
    await make_account(db)  # unassigned
    table = Account.__table__
    principal = Principal(user_id=manager.id, role="manager")
    async with db.sessions() as session:
        seen = await visibility(session, principal)
        rows = (await session.execute(sa.select(table))).all()
        filtered = set(
            (
                await session.execute(
                    sa.select(table.c.id).where(
                        seen.account_filter(table.c.territory_id, table.c.owner_id)
                    )
                )
            ).scalars()
        )
    expected = {r.id for r in rows if seen.allows(r.territory_id, r.owner_id)}
    assert filtered == expected
    assert len(expected) == 4
    assert {account_key(r.territory_id, r.owner_id) for r in rows if r.id in expected} <= (
        seen.keys() | {user_key(manager.id)}
    )


def test_account_key_prefers_territory_then_owner() -> None:
    import uuid

    territory, owner = uuid.uuid4(), uuid.uuid4()
    assert account_key(territory, owner) == f"t:{territory}"
    assert account_key(str(territory), None) == f"t:{territory}"
    assert account_key(None, str(owner)) == f"u:{owner}"
    assert account_key(None, None) == UNASSIGNED_KEY


def test_core_entities_are_registered_with_their_rules() -> None:
    registry = build_registry()
    account = registry.get("account")
    assert account is not None and account.writable and not account.deletable
    assert {"credit_limit", "arrears", "blacklisted", "owner_id", "territory_id"} <= (
        account.server_fields
    )
    assert account.policy("notes") is Policy.APPEND and account.policy("name") is Policy.LWW
    contact = registry.get("contact")
    assert contact is not None and contact.writable and contact.parent == ("account", "account_id")
    for name in (
        "product_category",
        "product",
        "price_list",
        "price_list_entry",
        "warehouse",
        "stock_balance",
        "territory",
    ):
        spec = registry.get(name)
        assert spec is not None and not spec.writable, name


async def test_record_scopes_follow_territory_owner_and_parent(db) -> None:
    tree = await make_tree(db)
    rep = await make_user(db, "rep")
    registry = build_registry()
    account = registry.get("account")
    contact = registry.get("contact")
    territory = registry.get("territory")
    product = registry.get("product")
    price_list = registry.get("price_list")
    entry = registry.get("price_list_entry")
    assert account and contact and territory and product and price_list and entry
    placed = await make_account(db, territory_id=tree["n1a"], owner_id=rep.id)
    owned = await make_account(db, owner_id=rep.id)
    async with db.sessions() as session:
        assert await account.scope(session, {"territory_id": str(tree["n1a"])}) == t(tree["n1a"])
        assert await contact.scope(session, {"account_id": str(placed)}) == t(tree["n1a"])
        assert await contact.scope(session, {"account_id": str(owned)}) == user_key(rep.id)
        assert await territory.scope(session, {"id": str(tree["s1"])}) == t(tree["s1"])
        assert await product.scope(session, {"id": "x"}) == GLOBAL_KEY
        assert await price_list.scope(session, {"account_id": None}) == GLOBAL_KEY
        assert await price_list.scope(session, {"account_id": str(owned)}) == user_key(rep.id)


class Device:
    """A device that pulls and keeps the latest op per record."""

    def __init__(self, client, headers: dict[str, str], device_id) -> None:
        self.client, self.headers, self.device_id = client, headers, device_id
        self.cursor: str | None = None
        self.ops: dict[tuple[str, str], str] = {}

    async def pull_until(self, done, timeout: float = 15.0) -> None:
        """Pull until ``done(ops)``; on PostgreSQL a change shows once every older transaction
        in the cluster has ended (the engine's visibility floor), so a device may need to ask
        again, as a real one would."""
        deadline = time.monotonic() + timeout
        while True:
            response = await self.client.post(
                "/sync/pull",
                json={"device_id": str(self.device_id), "schema_version": 1, "cursor": self.cursor},
                headers=self.headers,
            )
            assert response.status_code == 200, response.text
            body = response.json()
            self.cursor = body["cursor"]
            for change in body["changes"]:
                self.ops[(change["entity"], change["id"])] = change["op"]
            if not body["has_more"] and done(self.ops):
                return
            assert time.monotonic() < deadline, self.ops
            if not body["has_more"]:
                await asyncio.sleep(0.1)


async def test_a_reps_device_holds_its_territory_and_loses_a_moved_account(client, db) -> None:
    tree = await make_tree(db)
    rep = await make_user(db, "rep")
    await add_member(db, tree["n1"], rep.id)
    token, device_id = await issue_token(db, rep)
    device = Device(client, {"Authorization": f"Bearer {token}"}, device_id)
    mine = await make_account(db, territory_id=tree["n1a"])
    contact = await make_contact(db, mine)
    other = await make_account(db, territory_id=tree["s1a"])
    await make_contact(db, other)
    product = await make_product(db)

    expected = {("account", str(mine)), ("contact", str(contact)), ("product", str(product))}
    await device.pull_until(lambda ops: expected <= ops.keys())
    assert ("territory", str(tree["n1a"])) in device.ops
    assert ("territory", str(tree["s1"])) not in device.ops
    assert ("account", str(other)) not in device.ops

    admin_headers = await auth_headers(db, await make_user(db, "admin"))
    moved = await client.patch(
        f"/accounts/{mine}", json={"territory_id": str(tree["s1a"])}, headers=admin_headers
    )
    assert moved.status_code == 200
    await device.pull_until(lambda ops: ops[("account", str(mine))] == "evict")
    assert device.ops[("contact", str(contact))] == "evict"
    assert ("account", str(other)) not in device.ops


async def test_a_device_edits_an_account_but_not_its_server_owned_fields(client, db) -> None:
    tree = await make_tree(db)
    rep = await make_user(db, "rep")
    await add_member(db, tree["n1a"], rep.id)
    token, device = await issue_token(db, rep)
    headers = {"Authorization": f"Bearer {token}"}
    account = await make_account(db, territory_id=tree["n1a"], notes="met buyer")
    mutations = [
        {
            "mid": 1,
            "entity": "account",
            "id": str(account),
            "op": "upsert",
            "base_version": 1,
            "hlc": encode(1_700_000_000_000, 0, "dev"),
            "changes": {"city": "Suzhou", "notes": "met buyer\nok"},
        },
        {
            "mid": 2,
            "entity": "account",
            "id": str(account),
            "op": "upsert",
            "base_version": 2,
            "hlc": encode(2_700_000_000_000, 0, "dev"),
            "changes": {"credit_limit": "99999"},
        },
        {
            "mid": 3,
            "entity": "account",
            "id": str(account),
            "op": "delete",
            "base_version": 2,
            "hlc": encode(3_700_000_000_000, 0, "dev"),
        },
    ]
    response = await client.post(
        "/sync/push",
        json={"device_id": str(device), "schema_version": 1, "mutations": mutations},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert results[0]["status"] == "applied", results[0].get("error")
    assert results[1]["status"] == "rejected"
    assert results[1]["error"]["code"] == "server_owned_field"
    assert results[2]["status"] == "rejected"
    admin_headers = await auth_headers(db, await make_user(db, "admin"))
    final = (await client.get(f"/accounts/{account}", headers=admin_headers)).json()
    assert final["city"] == "Suzhou" and final["credit_limit"] == "0.0000"
    assert final["notes"] == "met buyer\nok"
