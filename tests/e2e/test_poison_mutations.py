"""Poison input on the real app (SYNC.md guarantee 11): whatever a mutation holds, it is answered
on its own and never fails the push or blocks the mutations behind it; bodies the decoder cannot
take answer 400; the database's own words never reach a device."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
import pytest

from client_sdk import OutpostClient
from protocol import hlc
from protocol.ids import uuid7
from server.auth.models import User
from tests.e2e.conftest import World


class RawDevice:
    """A logged-in device that sends hand-written mutations."""

    def __init__(self, world: World, user: User) -> None:
        self.world = world
        self.client: OutpostClient = world.device(user)
        self.user = user
        self.next_mid = 1
        self.clock = hlc.Clock(str(self.client.device_id))

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.client.transport.token}"}

    def mutation(
        self, entity: str, record_id: Any, op: str = "upsert", base_version: int = 0, **changes: Any
    ) -> dict[str, Any]:
        mid, self.next_mid = self.next_mid, self.next_mid + 1
        return {
            "mid": mid,
            "entity": entity,
            "id": str(record_id),
            "op": op,
            "base_version": base_version,
            "hlc": self.clock.tick(),
            "changes": changes,
        }

    def push_raw(self, mutations: list[dict[str, Any]]) -> Any:
        body = {
            "device_id": str(self.client.device_id),
            "schema_version": 1,
            "mutations": mutations,
        }
        return self.world.app_client.post("/sync/push", json=body, headers=self.headers)

    def push(self, mutations: list[dict[str, Any]]) -> list[dict[str, Any]]:
        response = self.push_raw(mutations)
        assert response.status_code == 200, response.text
        return response.json()["results"]  # type: ignore[no-any-return]


def codes_of(results: list[dict[str, Any]]) -> list[tuple[str, str | None, str | None]]:
    return [
        (r["status"], (r.get("error") or {}).get("code"), (r.get("error") or {}).get("field"))
        for r in results
    ]


@pytest.fixture
def manager_device(world: World) -> tuple[RawDevice, str]:
    manager = world.user("manager")
    account = world.create("account", name="Acme", owner_id=manager.id)
    return RawDevice(world, manager), account["id"]


def test_huge_decimal_amount_is_rejected_not_a_500_and_later_mutations_apply(
    world: World, manager_device: tuple[RawDevice, str]
) -> None:
    device, account = manager_device
    results = device.push(
        [
            device.mutation("opportunity", uuid7(), account_id=account, name="big", amount="1e30"),
            device.mutation("opportunity", uuid7(), account_id=account, name="nan", amount="sNaN"),
            device.mutation("opportunity", uuid7(), account_id=account, name="fine", amount="12.5"),
        ]
    )
    assert codes_of(results) == [
        ("rejected", "validation_error", "amount"),
        ("rejected", "validation_error", "amount"),
        ("applied", None, None),
    ]


def test_huge_line_quantity_is_rejected_with_the_line_field(
    world: World, manager_device: tuple[RawDevice, str]
) -> None:
    device, account = manager_device
    line = {
        "id": str(uuid7()),
        "product_id": str(uuid7()),
        "quantity": "1e30",
        "unit_price": "2.00",
    }
    tiny = {**line, "id": str(uuid7()), "quantity": "1e-999999"}
    results = device.push(
        [
            device.mutation("quote", uuid7(), account_id=account, lines=[line]),
            device.mutation("order", uuid7(), account_id=account, lines=[tiny]),
            device.mutation("quote", uuid7(), account_id=account, notes="after"),
        ]
    )
    assert codes_of(results) == [
        ("rejected", "validation_error", "lines.0.quantity"),
        ("rejected", "validation_error", "lines.0.quantity"),
        ("applied", None, None),
    ]


def test_contact_without_account_id_is_rejected_with_the_field(
    world: World, manager_device: tuple[RawDevice, str]
) -> None:
    device, account = manager_device
    results = device.push(
        [
            device.mutation("contact", uuid7(), name="orphan"),
            device.mutation("contact", uuid7(), account_id=account, name="kept"),
        ]
    )
    assert codes_of(results) == [
        ("rejected", "validation_error", "account_id"),
        ("applied", None, None),
    ]


def test_edit_after_a_refused_create_is_not_found_not_a_create(
    world: World, manager_device: tuple[RawDevice, str]
) -> None:
    device, account = manager_device
    refused, later = uuid7(), uuid7()
    results = device.push(
        [
            device.mutation("contact", refused, account_id=str(uuid.uuid4()), name="bad parent"),
            device.mutation("contact", refused, phone="555"),  # the app edited it before the answer
            device.mutation("contact", later, name="no account yet"),
        ]
    )
    assert codes_of(results) == [
        ("rejected", "validation_error", "account_id"),
        ("rejected", "not_found", "id"),
        ("rejected", "validation_error", "account_id"),
    ]
    # a later push (the edit was queued behind the batch limit) knows it too
    [again] = device.push([device.mutation("contact", later, phone="556")])
    assert codes_of([again]) == [("rejected", "not_found", "id")]
    assert world.load("contact", refused) is None and world.load("contact", later) is None
    [fresh] = device.push([device.mutation("contact", uuid7(), account_id=account, name="new")])
    assert fresh["status"] == "applied"


def test_database_error_text_never_reaches_the_device(
    world: World, manager_device: tuple[RawDevice, str]
) -> None:
    device, account = manager_device
    ghost = str(uuid.uuid4())  # no such user: only the database's foreign key refuses it
    results = device.push(
        [
            device.mutation("opportunity", uuid7(), account_id=account, name="x", owner_id=ghost),
            device.mutation("opportunity", uuid7(), account_id=account, name="y"),
        ]
    )
    assert [r["status"] for r in results] == ["rejected", "applied"]
    message = results[0]["error"]["message"].lower()
    for leak in ("fkey", "foreign key", "constraint", "opportunities", "users", ghost, "insert"):
        assert leak not in message, message


def test_deeply_nested_json_is_a_malformed_body_on_sync_and_rest(
    world: World, manager_device: tuple[RawDevice, str]
) -> None:
    device, _account = manager_device
    nested = b"[" * 100_000 + b"]" * 100_000
    body = (
        b'{"device_id": "' + str(device.client.device_id).encode() + b'", "schema_version": 1, '
        b'"mutations": [{"mid": 1, "entity": "account", "id": "'
        + str(uuid7()).encode()
        + b'", "op": "upsert", "hlc": "'
        + device.clock.tick().encode()
        + b'", "changes": {"name": '
        + nested
        + b"}}]}"
    )
    headers = {**device.headers, "Content-Type": "application/json"}
    # sync bodies are decoded typed: only the free-form ``changes`` can nest; REST bodies are
    # read as JSON first, so any nesting reaches the decoder
    for path, content in (("/sync/push", body), ("/accounts", nested), ("/auth/login", nested)):
        response = world.app_client.post(path, content=content, headers=headers)
        assert response.status_code == 400, (path, response.text)
        assert response.json()["code"] == "malformed_body", path
    mutation = device.mutation("account", uuid7(), name="@@placeholder@@")
    packed = msgspec.msgpack.encode(
        {
            "device_id": str(device.client.device_id),
            "schema_version": 1,
            "mutations": [mutation],
        }
    )
    msgpack = packed.replace(msgspec.msgpack.encode("@@placeholder@@"), b"\x91" * 5000 + b"\x90")
    response = world.app_client.post(
        "/sync/push", content=msgpack, headers={**headers, "Content-Type": "application/msgpack"}
    )
    assert (response.status_code, response.json()["code"]) == (400, "malformed_body")


def test_base_version_above_current_is_rejected_with_the_stored_record(
    world: World, manager_device: tuple[RawDevice, str]
) -> None:
    device, account = manager_device
    version = int(world.load("account", account)["version"])  # type: ignore[index]
    edited, refused = device.push(
        [
            device.mutation("account", account, base_version=version, city="Lyon"),
            device.mutation("account", account, base_version=version + 50, city="nowhere"),
        ]
    )
    assert edited["status"] == "applied"
    assert refused["error"]["code"] == "base_version_ahead"
    assert refused["record"] == world.load("account", account)  # so the device's copy is right
