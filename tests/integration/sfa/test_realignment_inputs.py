"""Realignment requests with rule changes and manual moves: what they preview, what applying
saves, and the bad inputs refused with the offending entry named (both backends)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from tests.builders import auth_headers, make_user
from tests.integration.sfa.core_builders import add_member, count, make_contact, make_tree

PLANS = "/territories/realignments"


@dataclass
class Placed:
    """A tree, an admin's headers, a city rule placing Lyon in n1a and an account it placed."""

    tree: dict[str, uuid.UUID]
    headers: dict[str, str]
    rule: dict[str, Any]
    account: dict[str, Any]


@pytest.fixture
async def placed(client: Any, db: Any) -> Placed:
    tree = await make_tree(db)
    headers = await auth_headers(db, await make_user(db, "admin"))
    rule = await client.post(
        f"/territories/{tree['n1a']}/rules", json={"kind": "city", "value": "Lyon"}, headers=headers
    )
    account = await client.post("/accounts", json={"name": "L", "city": "Lyon"}, headers=headers)
    assert account.json()["territory_id"] == str(tree["n1a"])
    return Placed(tree, headers, rule.json(), account.json())


async def test_an_edited_rule_is_previewed_without_being_saved_then_saved_on_apply(
    client, db, placed
) -> None:
    tree, headers, rule, account = placed.tree, placed.headers, placed.rule, placed.account
    await make_contact(db, uuid.UUID(account["id"]))
    # the rule is moved to n1b by deleting it and adding its twin there, in one plan
    request = {
        "rules": [
            {"op": "delete", "rule_id": rule["id"]},
            {
                "op": "add",
                "territory_id": str(tree["n1b"]),
                "rule": {"kind": "city", "value": "Lyon"},
            },
        ]
    }
    plan = (await client.post(PLANS, json=request, headers=headers)).json()
    [move] = plan["moves"]
    added = plan["request"]["rules"][1]["rule_id"]
    assert (move["account_id"], move["rule_id"], move["records"]) == (account["id"], added, 2)
    assert plan["request"]["rules"][0]["version"] == 1  # the version the delete expects
    rules_url = f"/territories/{tree['n1a']}/rules/{rule['id']}"
    assert (await client.get(rules_url, headers=headers)).status_code == 200  # still there

    applied = await client.post(f"{PLANS}/{plan['id']}/apply", headers=headers)
    assert applied.status_code == 200, applied.text
    assert (await client.get(rules_url, headers=headers)).status_code == 404
    new_rule = await client.get(f"/territories/{tree['n1b']}/rules/{added}", headers=headers)
    assert new_rule.status_code == 200 and new_rule.json()["value"] == "Lyon"
    moved = (await client.get(f"/accounts/{account['id']}", headers=headers)).json()
    assert moved["territory_id"] == str(tree["n1b"])


async def test_a_rule_edited_after_the_preview_makes_the_plan_stale_and_nothing_is_saved(
    client, db, placed
) -> None:
    tree, headers, account = placed.tree, placed.headers, placed.account
    other = await client.post(
        f"/territories/{tree['n1b']}/rules",
        json={"kind": "city", "value": "Lyon", "active": False},
        headers=headers,
    )
    request = {
        "rules": [
            {
                "op": "edit",
                "rule_id": other.json()["id"],
                "changes": {"active": True, "priority": 1},
            }
        ]
    }
    plan = (await client.post(PLANS, json=request, headers=headers)).json()
    assert [m["account_id"] for m in plan["moves"]] == [account["id"]]
    await client.patch(
        f"/territories/{tree['n1b']}/rules/{other.json()['id']}",
        json={"value": "Lyon "},
        headers=headers,
    )
    stale = await client.post(f"{PLANS}/{plan['id']}/apply", headers=headers)
    assert stale.status_code == 409 and stale.json()["code"] == "plan_stale"
    kept = await client.get(
        f"/territories/{tree['n1b']}/rules/{other.json()['id']}", headers=headers
    )
    assert kept.json()["active"] is False  # the plan's edit was rolled back with the rest
    row = (await client.get(f"/accounts/{account['id']}", headers=headers)).json()
    assert row["territory_id"] == str(tree["n1a"])


async def test_a_manual_move_overrides_the_rules_and_may_stay_open_to_realignment(
    client, db, placed
) -> None:
    tree, headers, rule, account = placed.tree, placed.headers, placed.rule, placed.account
    owner = await make_user(db, "rep")
    move = {
        "account_id": account["id"],
        "territory_id": str(tree["n1b"]),
        "owner_id": str(owner.id),
        "exclude_from_realignment": False,
    }
    plan = (await client.post(PLANS, json={"moves": [move]}, headers=headers)).json()
    [planned] = plan["moves"]
    assert (planned["cause"], planned["rule_id"], planned["to_owner_id"]) == (
        "manual",
        None,
        str(owner.id),
    )
    assert {r["id"]: r["gained"] for r in plan["reps"]} == {str(owner.id): [account["id"]]}
    assert (await client.post(f"{PLANS}/{plan['id']}/apply", headers=headers)).status_code == 200
    history = (await client.get(f"/accounts/{account['id']}/ownership", headers=headers)).json()
    assert (history["items"][-1]["cause"], history["items"][-1]["excluded_from_realignment"]) == (
        "manual",
        False,
    )
    # not excluded: the Lyon rule (still pointing at n1a) moves it back in the next plan
    back = (await client.post(PLANS, json={}, headers=headers)).json()
    assert [(m["account_id"], m["rule_id"]) for m in back["moves"]] == [(account["id"], rule["id"])]


async def test_bad_rule_changes_and_moves_are_refused_naming_the_entry(client, db, placed) -> None:
    tree, admin_headers, rule, account = placed.tree, placed.headers, placed.rule, placed.account
    manager = await make_user(db, "manager")
    await add_member(db, tree["north"], manager.id)
    headers = await auth_headers(db, manager)
    foreign_rule = await client.post(
        f"/territories/{tree['s1a']}/rules",
        json={"kind": "city", "value": "Nice"},
        headers=admin_headers,
    )
    n1b, s1a, account_id = str(tree["n1b"]), str(tree["s1a"]), account["id"]

    def rule_change(op: str, **change: Any) -> dict[str, Any]:
        return {"rules": [{"op": op, **change}]}

    def moves(*entries: dict[str, Any]) -> dict[str, Any]:
        return {"moves": list(entries)}

    city = {"kind": "city", "value": "X"}
    cases: list[tuple[dict[str, Any], int, str]] = [
        (
            rule_change("add", territory_id=n1b, rule={**city, "value": ""}),
            422,
            "rules.0.rule.value",
        ),
        (rule_change("add", rule=city), 422, "rules.0.rule"),
        (rule_change("add", territory_id=s1a, rule=city), 404, "rules.0.territory_id"),
        (rule_change("delete", rule_id=foreign_rule.json()["id"]), 404, "rules.0.rule_id"),
        (rule_change("delete", rule_id=str(uuid.uuid4())), 404, "rules.0.rule_id"),
        (rule_change("edit", rule_id=rule["id"], version=7, changes={}), 412, "rules.0.version"),
        (rule_change("edit", rule_id=rule["id"]), 422, "rules.0.changes"),
        (moves({"account_id": str(uuid.uuid4()), "territory_id": n1b}), 404, "moves.0.account_id"),
        (moves({"account_id": account_id, "territory_id": s1a}), 404, "moves.0.territory_id"),
        (moves(*[{"account_id": account_id, "territory_id": n1b}] * 2), 422, "moves.1.account_id"),
        (
            moves({"account_id": account_id, "territory_id": n1b, "owner_id": str(uuid.uuid4())}),
            422,
            "moves.0.owner_id",
        ),
    ]
    for body, status, field in cases:
        answer = await client.post(PLANS, json=body, headers=headers)
        assert (answer.status_code, answer.json().get("field")) == (status, field), body
    unknown_op = await client.post(PLANS, json={"rules": [{"op": "rename"}]}, headers=headers)
    assert unknown_op.status_code == 422 and "rules.0.op" in unknown_op.json()["field"]
    malformed = await client.post(PLANS, content=b"{not json", headers=headers)
    assert malformed.status_code == 400
    assert await count(db, "realignment_plans") == 0  # nothing stored by a refused preview
