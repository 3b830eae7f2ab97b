"""Reps' devices hold their accounts' contracts, instalments and receivables, read-only."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from client_sdk import ReadOnlyEntity
from tests.builders import issue_token
from tests.e2e.conftest import World

TODAY = dt.datetime.now(dt.UTC).date()


def rest(world: World, headers: dict[str, str], method: str, path: str, body: dict) -> dict:
    response = world.app_client.request(method, path, json=body, headers=headers)
    assert response.status_code in (200, 201), response.text
    return response.json()  # type: ignore[no-any-return]


def contract_with_schedule(world: World, headers: dict[str, str], account_id: str) -> dict:
    """An active 1000 CNY contract: 400 overdue by 5 days, 600 due in 30."""
    contract = rest(
        world,
        headers,
        "POST",
        "/contracts",
        {
            "account_id": account_id,
            "value": "1000",
            "currency": "CNY",
            "start_date": (TODAY - dt.timedelta(days=60)).isoformat(),
            "end_date": (TODAY + dt.timedelta(days=300)).isoformat(),
            "title": "Supply",
        },
    )
    due = [(-5, "400"), (30, "600")]
    rest(
        world,
        headers,
        "PUT",
        f"/contracts/{contract['id']}/schedule",
        {
            "instalments": [
                {"due_date": (TODAY + dt.timedelta(days=d)).isoformat(), "amount": a}
                for d, a in due
            ]
        },
    )
    return rest(world, headers, "PATCH", f"/contracts/{contract['id']}", {"status": "active"})


def test_a_reps_device_receives_its_accounts_finance_read_only(world: World) -> None:
    admin = world.user("admin")
    token, _ = world.run(issue_token, world.db, admin)
    headers = {"Authorization": f"Bearer {token}"}
    rep, other = world.user("rep"), world.user("rep")
    mine = world.create("account", name="Mine", owner_id=rep.id)
    theirs = world.create("account", name="Theirs", owner_id=other.id)
    contract = contract_with_schedule(world, headers, mine["id"])
    foreign = contract_with_schedule(world, headers, theirs["id"])

    device = world.device(rep, "phone")
    world.settle(device)
    assert device.get("contract", contract["id"])["outstanding"] == "1000.0000"
    assert device.get("contract", foreign["id"]) is None
    instalments = sorted(
        device.query("instalment", {"contract_id": contract["id"]}), key=lambda i: i["seq"]
    )
    assert [(i["amount"], i["status"]) for i in instalments] == [
        ("400.0000", "open"),
        ("600.0000", "open"),
    ]
    [receivable] = device.query("receivable", {"account_id": mine["id"]})
    assert (receivable["days_1_30"], receivable["current"], receivable["overdue"]) == (
        "400.0000",
        "600.0000",
        "400.0000",
    )
    assert device.get("account", mine["id"])["arrears"] == "400.0000"
    assert device.count("receivable") == 1 and device.count("instalment") == 2

    with pytest.raises(ReadOnlyEntity):
        device.update("contract", contract["id"], {"title": "mine now"})
    with pytest.raises(ReadOnlyEntity):
        device.create("instalment", {"id": str(uuid.uuid4()), "contract_id": contract["id"]})

    # the back office records the overdue instalment's payment: the device follows
    rest(
        world,
        headers,
        "POST",
        "/payments",
        {
            "instalment_id": instalments[0]["id"],
            "amount": "400",
            "currency": "CNY",
            "received_on": TODAY.isoformat(),
        },
    )
    world.settle(device)
    assert device.get("instalment", instalments[0]["id"])["status"] == "paid"
    assert device.get("contract", contract["id"])["collected"] == "400.0000"
    assert device.get("account", mine["id"])["arrears"] == "0.0000"
    [receivable] = device.query("receivable", {"account_id": mine["id"]})
    assert (receivable["overdue"], receivable["total"]) == ("0.0000", "600.0000")

    # the account moves to the other rep: its finance leaves this device at the next sync
    world.update("account", mine["id"], owner_id=other.id)
    world.settle(device)
    assert device.count("contract") == 0 and device.count("instalment") == 0
    assert device.count("receivable") == 0
