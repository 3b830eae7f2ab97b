"""A realignment previewed with a rule change and a manual move, then applied: two SDK devices
lose and gain exactly the records the preview announced (both backends)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from tests.builders import issue_token
from tests.e2e.conftest import World


def _book(world: World, territory: uuid.UUID, rep: Any, city: str) -> set[tuple[str, str]]:
    """An account of ``city`` in ``territory`` with a contact and a visit; their keys."""
    account = world.create("account", name=f"{city} shop", city=city, territory_id=territory)
    account_id = uuid.UUID(account["id"])
    contact = world.create("contact", account_id=account_id, name="Buyer")
    visit = world.create(
        "visit",
        account_id=account_id,
        rep_id=rep.id,
        planned_at=dt.datetime(2026, 6, 1, 9, tzinfo=dt.UTC),
    )
    return {("account", account["id"]), ("contact", contact["id"]), ("visit", visit["id"])}


def test_two_sdk_devices_gain_and_lose_exactly_what_the_preview_announced(world: World) -> None:
    manager = world.user("manager")
    rep_a, rep_b = world.user("rep", manager=manager), world.user("rep", manager=manager)
    north = world.territory("North", rep_a, manager)
    south = world.territory("South", rep_b, manager)
    lyon = _book(world, north, rep_a, "Lyon") | _book(world, north, rep_a, "Lyon")
    paris = _book(world, north, rep_a, "Paris")
    staying = _book(world, north, rep_a, "Nice")
    device_a, device_b = world.device(rep_a, "a"), world.device(rep_b, "b")
    world.settle(device_a, device_b)
    before_a, before_b = world.local(device_a), world.local(device_b)
    assert lyon | paris | staying <= set(before_a) and not (lyon | paris) & set(before_b)

    token, _ = world.run(issue_token, world.db, manager)
    headers = {"Authorization": f"Bearer {token}"}
    paris_id = next(rid for entity, rid in paris if entity == "account")
    request = {
        "rules": [
            {"op": "add", "territory_id": str(south), "rule": {"kind": "city", "value": "lyon"}}
        ],
        "moves": [{"account_id": paris_id, "territory_id": str(south)}],
    }
    preview = world.app_client.post("/territories/realignments", json=request, headers=headers)
    assert preview.status_code == 201, preview.text
    plan = preview.json()
    rules_url = f"/territories/{south}/rules"
    assert world.app_client.get(rules_url, headers=headers).json()["items"] == []  # not saved
    causes = {m["account_id"]: m["cause"] for m in plan["moves"]}
    assert causes[paris_id] == "manual" and sorted(causes.values()) == ["manual", "rule", "rule"]
    announced = {d["device_id"]: (d["receive"], d["evict"]) for d in plan["devices"]}
    moved = lyon | paris
    assert announced[str(device_a.device_id)] == (0, len(moved))
    assert announced[str(device_b.device_id)] == (len(moved), 0)

    applied = world.app_client.post(
        f"/territories/realignments/{plan['id']}/apply", headers=headers
    )
    assert applied.status_code == 200, applied.text
    device_a.sync()
    device_b.sync()
    after_a, after_b = world.local(device_a), world.local(device_b)
    assert set(before_a) - set(after_a) == moved and set(after_a) - set(before_a) == set()
    assert set(after_b) - set(before_b) == moved and set(before_b) - set(after_b) == set()
    world.settle(device_a, device_b)  # and what they hold is what the server says they may

    saved = world.app_client.get(rules_url, headers=headers).json()["items"]
    assert [r["id"] for r in saved] == [plan["request"]["rules"][0]["rule_id"]]
    history = world.app_client.get(f"/accounts/{paris_id}/ownership", headers=headers).json()
    last = history["items"][-1]
    assert (last["cause"], last["excluded_from_realignment"]) == ("manual", True)
    # the hand-moved account is excluded from re-alignment: a rule pulling Paris back is ignored
    back = world.app_client.post(
        "/territories/realignments",
        json={
            "rules": [
                {
                    "op": "add",
                    "territory_id": str(north),
                    "rule": {"kind": "city", "value": "Paris"},
                }
            ]
        },
        headers=headers,
    ).json()
    assert back["moves"] == []
