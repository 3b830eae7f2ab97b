"""A deterministic simulation: devices with overlapping scopes edit offline and sync through a
network that drops requests, loses responses after the server committed, duplicates and delays
them. At the end every device equals the server for its scope, every mutation took effect
exactly once, and every overlapping edit of a field is merged or has a conflict record.

``OUTPOST_SIM_SEEDS=100 pytest tests/e2e/test_simulation.py`` runs seeds 0..99.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import random
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import msgspec
import pytest
import sqlalchemy as sa

from client_sdk import OutpostClient, OutpostError
from server.sync.models import SyncConflict, SyncDevice, SyncReceipt
from tests.e2e.conftest import Relay, World

SEEDS = list(range(int(os.environ.get("OUTPOST_SIM_SEEDS", "1"))))
STEPS = int(os.environ.get("OUTPOST_SIM_STEPS", "60"))
FIELDS = {"account": ("city", "industry", "region"), "contact": ("phone", "title")}


class ChaosTransport(Relay):
    """Drops requests, loses responses after delivery, duplicates and delays requests."""

    def __init__(self, world: World, rng: random.Random) -> None:
        super().__init__(world.app_client)
        self.rng = rng
        self.enabled = True
        self.delayed: list[httpx.Request] = []
        self.faults: dict[str, int] = {"drop": 0, "lose": 0, "duplicate": 0, "delay": 0}

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if not self.enabled or not request.url.path.startswith("/sync/"):
            return self.deliver(request)
        roll = self.rng.random()
        if self.delayed and self.rng.random() < 0.3:
            # a copy held up somewhere in the network finally arrives; nobody reads its answer
            self.deliver(self.delayed.pop(self.rng.randrange(len(self.delayed))))
        if roll < 0.10:
            self.faults["drop"] += 1
            raise httpx.ConnectError("dropped", request=request)
        if roll < 0.15:
            self.faults["delay"] += 1
            self.delayed.append(request)
            raise httpx.ReadTimeout("delayed past the timeout", request=request)
        response = self.deliver(request)
        if roll < 0.25:
            self.faults["duplicate"] += 1
            response = self.deliver(request)
        elif roll < 0.35:
            self.faults["lose"] += 1
            raise httpx.ReadError("response lost after the server committed", request=request)
        return response

    def flush(self) -> None:
        """Deliver every delayed request (late duplicates), then behave."""
        while self.delayed:
            self.deliver(self.delayed.pop(0))
        self.enabled = False


@dataclass
class Edit:
    device: str
    mid: int
    entity: str
    record_id: str
    field: str
    value: Any
    base_version: int


class Simulation:
    def __init__(self, world: World, seed: int) -> None:
        self.world = world
        self.rng = random.Random(seed)
        self.edits: list[Edit] = []
        manager = world.user("manager")
        reps = [world.user("rep", manager=manager) for _ in range(2)]
        territories = [
            world.territory("T1", reps[0], manager),
            world.territory("T2", reps[1], manager),
            world.territory("shared", reps[0], reps[1]),
        ]
        for t, territory in enumerate(territories):
            for i in range(3):
                account = world.create(
                    "account", name=f"A{t}{i}", territory_id=territory, latitude=45.0,
                    longitude=5.0,
                )
                world.create("contact", account_id=uuid.UUID(account["id"]), name=f"C{t}{i}")
        self.devices: list[tuple[OutpostClient, ChaosTransport]] = []
        for n, user in enumerate([manager, *reps]):
            transport = ChaosTransport(world, random.Random(seed * 1000 + n))
            client = world.device(user, f"d{n}-{seed}", transport=transport)
            self.devices.append((client, transport))

    def step(self) -> None:
        client, _transport = self.rng.choice(self.devices)
        kind = self.rng.choice(["sync", "sync", "edit", "edit", "edit", "create", "delete",
                                "visit"])
        if kind == "sync":
            # the network may win a round; the outbox is intact either way
            with contextlib.suppress(OutpostError):
                client.sync()
            return
        if kind == "edit":
            entity = self.rng.choice(["account", "contact"])
            records = client.query(entity)
            if not records:
                return
            record = self.rng.choice(records)
            field = self.rng.choice(FIELDS[entity])
            value = f"{field}-{self.rng.randrange(1000)}"
            client.update(entity, record["id"], {field: value})
            self._remember(client, entity, record["id"], field, value)
        elif kind == "create":
            accounts = client.query("account")
            if accounts:
                account = self.rng.choice(accounts)
                client.create("contact", {"account_id": account["id"],
                                          "name": f"new-{self.rng.randrange(1000)}"})
        elif kind == "delete":
            contacts = client.query("contact")
            if contacts:
                client.delete("contact", self.rng.choice(contacts)["id"])
        else:
            accounts = client.query("account")
            if accounts:
                user = client.user
                assert user is not None
                at = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
                visit = client.create("visit", {"account_id": self.rng.choice(accounts)["id"],
                                                "planned_at": at, "rep_id": user.id})
                client.action("visit", visit, "check_in",
                              {"at": at, "latitude": 45.0, "longitude": 5.0})

    def _remember(
        self, client: OutpostClient, entity: str, record_id: str, field: str, value: Any
    ) -> None:
        entry = client.pending_mutations()[-1]
        self.edits.append(Edit(str(client.device_id), entry.mid, entity, record_id, field, value,
                               entry.base_version))


def _results(world: World) -> dict[tuple[str, int], dict[str, Any]]:
    async def read() -> dict[tuple[str, int], dict[str, Any]]:
        async with world.db.sessions() as session:
            rows = await session.execute(
                sa.select(SyncReceipt.device_id, SyncReceipt.mid, SyncReceipt.result)
            )
            out = {}
            for device, mid, raw in rows:
                try:
                    result = msgspec.json.decode(raw)
                except msgspec.DecodeError:
                    result = msgspec.msgpack.decode(raw)
                out[(str(device), int(mid))] = result
            return out

    return world.run(read)


def _rows(world: World, statement: Any) -> list[Any]:
    async def read() -> list[Any]:
        async with world.db.sessions() as session:
            return list((await session.execute(statement)).all())

    return world.run(read)


@pytest.mark.parametrize("seed", SEEDS)
def test_simulation(world: World, seed: int) -> None:
    sim = Simulation(world, seed)
    for _ in range(STEPS):
        sim.step()
    for _client, transport in sim.devices:
        transport.flush()
    clients = [client for client, _ in sim.devices]
    for client in clients:
        client.sync()
    world.settle(*clients)
    world.settle(*clients)  # a second round: what one device pushed last reaches the others

    # every device equals the server for its scope (checked by settle), nothing left to send
    assert all(client.status().pending == 0 for client in clients)
    assert sum(sum(t.faults.values()) for _, t in sim.devices) > 0, "the network never failed"

    # exactly once: one receipt per mutation number, and the server's counter agrees
    results = _results(world)
    last_mids = dict(_rows(world, sa.select(SyncDevice.device_id, SyncDevice.last_mid)))
    for client in clients:
        device = str(client.device_id)
        mids = sorted(mid for dev, mid in results if dev == device)
        last = client.status().last_mid
        assert mids == list(range(1, last + 1))
        assert last_mids.get(client.device_id, 0) == last

    # no edit lost silently: an accepted field edit whose value is not the final one was
    # overwritten by an edit that saw it, by a later edit of the same device, or left a conflict
    conflicted = {
        (str(record_id), field["field"])
        for record_id, fields in _rows(world, sa.select(SyncConflict.record_id,
                                                        SyncConflict.fields))
        for field in fields
    }
    for edit in sim.edits:
        result = results[(edit.device, edit.mid)]
        if result["status"] == "rejected":
            continue
        final = world.load(edit.entity, edit.record_id)
        if final is None or final.get(edit.field) == edit.value:
            continue
        written_at = int(result.get("version", 0))
        superseded = any(
            other.entity == edit.entity and other.record_id == edit.record_id
            and other.field == edit.field and other is not edit
            and results[(other.device, other.mid)]["status"] != "rejected"
            and (
                (other.device == edit.device and other.mid > edit.mid)
                or other.base_version >= written_at
            )
            for other in sim.edits
        )
        assert superseded or (edit.record_id, edit.field) in conflicted, edit
