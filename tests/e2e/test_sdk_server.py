"""The SDK against the real server: login, initial sync, offline edits, convergence, faults."""

from __future__ import annotations

import datetime as dt
import sqlite3
import time
import uuid
from decimal import Decimal

import httpx
import msgspec
import pytest
from litestar.testing import TestClient

from client_sdk import AccessRevoked, AuthError, NetworkError, OutpostClient
from protocol.ids import uuid7
from server.app import create_app
from server.settings import Settings
from tests.builders import TEST_PASSWORD
from tests.e2e.conftest import Relay, World


def scope(world: World, accounts: int = 3) -> tuple[object, object, list[str]]:
    """A manager and a rep on one territory holding ``accounts`` accounts with a contact each."""
    manager = world.user("manager")
    rep = world.user("rep", manager=manager)
    territory = world.territory("North", rep, manager)
    ids = []
    for i in range(accounts):
        account = world.create("account", name=f"Account {i}", territory_id=territory,
                               latitude=48.85, longitude=2.35)
        world.create("contact", account_id=uuid.UUID(account["id"]), name=f"Contact {i}")
        ids.append(str(account["id"]))
    return manager, rep, ids


def test_login_and_initial_sync(world: World) -> None:
    _manager, rep, ids = scope(world, accounts=5)
    device = world.device(rep, "phone", pull_limit=3)
    seen: list[tuple[int, int | None]] = []

    report = device.sync(progress=lambda received, total: seen.append((received, total)))
    world.settle(device)

    assert device.count("account") == 5 and device.count("contact") == 5
    assert device.count("territory") == 1
    assert report.pages >= 1 and seen[-1][0] == report.received
    assert device.get("account", ids[0]) == world.load("account", ids[0])
    contact = device.query("contact", {"account_id": ids[1]})
    assert [c["name"] for c in contact] == ["Contact 1"]
    assert device.status().has_cursor and device.status().last_success_at is not None


def test_wrong_password_is_an_auth_error(world: World) -> None:
    _m, rep, _ids = scope(world, accounts=0)
    device = world.device(rep, "phone")
    with pytest.raises(AuthError) as info:
        device.login(rep.email, "not the password")
    assert info.value.code == "invalid_credentials"


def test_offline_edit_then_sync(world: World) -> None:
    _m, rep, ids = scope(world)
    device = world.device(rep, "phone")
    world.settle(device)

    device.update("account", ids[0], {"city": "Lille", "notes": "met the buyer"})
    contact = device.create("contact", {"account_id": ids[0], "name": "Zoe", "role": "buyer"})
    device.update("contact", contact, {"phone": "+33 1 23 45 67 89"})
    assert device.status().pending == 3
    report = device.sync()

    assert report.pushed == 3 and report.rejected == 0, device.rejected_mutations()
    world.settle(device)
    server_account = world.load("account", ids[0])
    assert server_account is not None and server_account["city"] == "Lille"
    server_contact = world.load("contact", contact)
    assert server_contact is not None and server_contact["phone"] == "+33 1 23 45 67 89"
    assert device.get("account", ids[0]) == server_account
    assert device.get("contact", contact) == server_contact
    assert device.status().pending == 0


def test_two_devices_converge(world: World) -> None:
    manager, rep, ids = scope(world)
    phone, tablet = world.device(rep, "phone"), world.device(manager, "tablet")
    world.settle(phone, tablet)

    phone.update("account", ids[1], {"city": "Nantes"})
    tablet.update("account", ids[1], {"industry": "retail"})
    new = tablet.create("contact", {"account_id": ids[2], "name": "Max"})
    for device in (phone, tablet):
        device.sync()
    world.settle(phone, tablet)

    server = world.load("account", ids[1])
    assert server is not None and server["city"] == "Nantes" and server["industry"] == "retail"
    for device in (phone, tablet):
        assert device.get("account", ids[1]) == server
        assert device.get("contact", new) == world.load("contact", new)


def test_same_field_conflict_is_surfaced(world: World) -> None:
    manager, rep, ids = scope(world)
    phone, tablet = world.device(rep, "phone"), world.device(manager, "tablet")
    world.settle(phone, tablet)

    tablet.update("account", ids[0], {"city": "Brest"})
    phone.update("account", ids[0], {"city": "Rennes"})
    tablet.sync()
    report = phone.sync()

    assert report.conflicts == 1
    [conflict] = phone.conflicts()
    [field] = conflict.fields
    assert (field.field, field.yours, field.theirs) == ("city", "Rennes", "Brest")
    world.settle(phone, tablet)
    assert phone.get("account", ids[0]) == world.load("account", ids[0])
    assert tablet.get("account", ids[0]) == phone.get("account", ids[0])


def test_rejected_mutation_is_surfaced_and_the_copy_restored(world: World) -> None:
    _m, rep, ids = scope(world)
    device = world.device(rep, "phone")
    world.settle(device)
    quote = device.create("quote", {"account_id": ids[0]})
    # only the server's state rules refuse this (the SDK refuses what its definitions can tell)
    device.action("quote", quote, "send", local={"status": "sent"})
    device.update("account", ids[1], {"city": "Caen"})
    report = device.sync()

    assert report.rejected == 1 and report.pushed == 3
    [rejected] = device.rejected_mutations()
    assert (rejected.code, rejected.field) == ("validation_error", "lines")
    assert rejected.record_id == quote
    assert device.get("quote", quote) == world.load("quote", quote)
    assert device.get("quote", quote)["status"] == "draft"  # type: ignore[index]
    assert device.get("account", ids[1])["city"] == "Caen"  # type: ignore[index]


def test_visit_check_in_action(world: World) -> None:
    _m, rep, ids = scope(world)
    device = world.device(rep, "phone")
    world.settle(device)
    planned = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)  # a check-in is never ahead
    # rep_id given explicitly: the server's default (validate_visit) did not reach the insert
    visit = device.create(
        "visit", {"account_id": ids[0], "planned_at": planned, "rep_id": str(rep.id)}  # type: ignore[attr-defined]
    )
    device.action("visit", visit, "check_in",
                  {"at": planned, "latitude": 48.8501, "longitude": 2.3501},
                  local={"status": "checked_in"})
    device.sync()

    assert [(r.code, r.message) for r in device.rejected_mutations()] == []
    world.settle(device)
    server = world.load("visit", visit)
    assert server is not None and server["status"] == "checked_in"
    assert device.get("visit", visit) == server


class KillAfterCommit(Relay):
    """Lets the server commit the first push, then "kills the app" before the answer arrives."""

    def __init__(self, app_client: object) -> None:
        super().__init__(app_client)  # type: ignore[arg-type]
        self.armed = True

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.deliver(request)
        if self.armed and request.url.path == "/sync/push":
            self.armed = False
            raise SystemExit("killed")
        return response


def test_kill_and_resume(world: World) -> None:
    _m, rep, ids = scope(world)
    transport = KillAfterCommit(world.app_client)
    device = world.device(rep, "phone", transport=transport)
    world.settle(device)
    device.update("account", ids[0], {"city": "Metz"})
    contact = device.create("contact", {"account_id": ids[0], "name": "Kim"})
    transport.armed = True

    with pytest.raises(SystemExit):
        device.sync()
    assert device.status().pending == 2  # the answer never arrived
    device.sync()

    assert device.status().pending == 0 and device.rejected_mutations() == []
    world.settle(device)
    assert device.get("account", ids[0]) == world.load("account", ids[0])
    assert device.get("contact", contact) == world.load("contact", contact)
    assert world.load("account", ids[0])["version"] == 2  # type: ignore[index]  # applied once


def test_messagepack(world: World) -> None:
    _m, rep, ids = scope(world)
    device = world.device(rep, "phone", msgpack=True)
    world.settle(device)
    device.update("account", ids[2], {"city": "Dijon"})
    world.settle(device)
    assert device.get("account", ids[2]) == world.load("account", ids[2])
    assert device.count("contact") == 3


# -- what the server tells a device about itself (issue 13: items 5, 17, 18, 21) ---------------


def admin_headers(world: World) -> dict[str, str]:
    admin = world.user("admin")
    response = world.app_client.post(
        "/auth/login",
        json={"email": admin.email, "password": TEST_PASSWORD, "device_id": str(uuid.uuid4())},
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.mark.parametrize("what", ["user", "device"])
def test_a_deactivated_user_or_device_is_wiped_from_the_device(world: World, what: str) -> None:
    _m, rep, ids = scope(world)
    device = world.device(rep, "phone")
    world.settle(device)
    device.update("account", ids[0], {"city": "Lens"})
    device.create("contact", {"account_id": ids[1], "name": "Unsent"})
    headers = admin_headers(world)
    if what == "user":  # deactivation also revokes every token of the user
        answer = world.app_client.patch(f"/users/{rep.id}", headers=headers, json={"active": False})
    else:
        answer = world.app_client.post(f"/devices/{device.device_id}/deactivate", headers=headers)
    assert answer.status_code == 200, answer.text

    with pytest.raises(AccessRevoked) as info:
        device.sync()

    assert info.value.code == f"{what}_deactivated" and info.value.discarded == 2
    assert World.local(device) == {} and device.pending_mutations() == []
    assert not device.status().has_cursor and device.user is None
    assert world.load("account", ids[0])["city"] != "Lens"  # type: ignore[index]


def test_a_changed_secret_key_resyncs_the_scope_instead_of_failing_every_pull(
    world: World, settings: Settings
) -> None:
    _m, rep, ids = scope(world)
    relay = Relay(world.app_client)  # later pointed at the restarted server
    device = world.device(rep, "phone", transport=relay)
    world.settle(device)
    assert device.status().has_cursor
    rotated_settings = msgspec.structs.replace(settings, secret_key="rotated")
    rotated = create_app(rotated_settings, check_schema=False)
    with TestClient(app=rotated) as app_client:
        relay.app_client = app_client
        with pytest.raises(AuthError):  # tokens are signed with the key too: log in again
            device.sync()
        device.login(rep.email, TEST_PASSWORD)  # type: ignore[attr-defined]
        device.update("account", ids[0], {"city": "Arras"})

        report = device.sync()
        # on PostgreSQL a pull may lag behind other work on the cluster (see World.settle)
        deadline = time.monotonic() + 30
        while World.local(device) != world.expected(device) and time.monotonic() < deadline:
            time.sleep(0.05)
            device.sync()

    assert report.reset and report.pushed == 1
    assert world.load("account", ids[0])["city"] == "Arras"  # type: ignore[index]
    assert World.local(device) == world.expected(device)


def test_a_phone_restored_from_a_backup_keeps_its_new_edits(world: World) -> None:
    _m, rep, ids = scope(world)
    phone = world.device(rep, "phone")
    world.settle(phone)
    phone.update("account", ids[0], {"city": "before the backup"})
    phone.sync()
    saved = world.tmp_path / "restored.sqlite3"
    target = sqlite3.connect(saved)
    with phone.store.reading() as conn:
        conn.backup(target)
    target.close()
    for n in range(3):  # mutations 2..4, applied after the backup was taken
        phone.create("contact", {"account_id": ids[0], "name": f"after backup {n}"})
    phone.sync()
    phone.close()
    restored = OutpostClient(
        http=httpx.Client(transport=Relay(world.app_client), base_url="http://testserver"),
        db_path=saved,
        sleep=lambda _: None,
    )
    made = [
        restored.create("contact", {"account_id": ids[1], "name": f"restored {n}"})
        for n in range(5)  # numbers 2..6: three reused, then two the server has not seen
    ]
    restored.update("account", ids[2], {"city": "restored"})

    report = restored.sync()

    assert restored.rejected_mutations() == [] and report.renumbered == 6
    for n, rid in enumerate(made):
        assert world.load("contact", rid)["name"] == f"restored {n}"  # type: ignore[index]
        assert restored.get("contact", rid) == world.load("contact", rid)
    assert world.load("account", ids[2])["city"] == "restored"  # type: ignore[index]
    assert world.scalar("SELECT last_mid FROM sync_devices") == 10
    world.settle(restored)
    restored.close()


class NoPull(Relay):
    """Pushes reach the server; pulls never do (the device stays on what push results said)."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/sync/pull":
            raise httpx.ConnectError("no network", request=request)
        return self.deliver(request)


def test_applied_results_carry_the_fields_the_server_set(world: World) -> None:
    _m, rep, ids = scope(world)
    product = world.create("product", sku="SKU-1", name="Widget", tax_rate=Decimal("0.13"))
    price_list = world.create("price_list", name="Standard", currency="CNY")
    world.create(
        "price_list_entry",
        price_list_id=uuid.UUID(price_list["id"]),
        product_id=uuid.UUID(product["id"]),
        unit_price=Decimal("0.335"),
        min_quantity=Decimal("1"),
    )
    device = world.device(rep, "phone")
    world.settle(device)
    line = {
        "id": str(uuid7()),
        "product_id": str(product["id"]),
        "quantity": "3",
        "unit_price": "0.335",
        "discount_pct": "0",
        "tax_rate": "0.13",
    }
    order = device.create("order", {"account_id": ids[0], "lines": [line]})
    device.update("account", ids[1], {"city": "Douai"})
    device.http._transport = NoPull(world.app_client)  # the pull after the push fails

    with pytest.raises(NetworkError):
        device.sync()

    assert device.rejected_mutations() == []
    local = device.get("order", order)
    assert local is not None and (local["status"], local["total"]) == ("draft", "1.14")
    assert local == world.load("order", order)  # defaults, totals, owner, timestamps
    assert device.get("account", ids[1]) == world.load("account", ids[1])  # updated_at
    device.update("order", order, {"lines": [{**line, "quantity": "6"}]})
    with pytest.raises(NetworkError):
        device.sync()
    assert device.get("order", order) == world.load("order", order)
    assert device.get("order", order)["total"] == "2.27"  # type: ignore[index]
