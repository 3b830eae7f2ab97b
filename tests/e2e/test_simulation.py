"""A deterministic simulation: devices with overlapping scopes edit offline and sync through a
network that drops requests, loses responses after the server committed, duplicates and delays
them. At the end every device equals the server for its scope, every mutation took effect
exactly once, and every overlapping edit of a field is merged or has a conflict record.

The devices misbehave too: they slip poison mutations into their outboxes (decimals past every
bound, a contact without its account, edits of a create the server refused, a base version
the server never wrote), one device's clock is set far in the future, and a manager moves
accounts between territories over REST while the reps have edits of their contacts and visits
queued, while one of them pushes. Every poison mutation is rejected with its code and blocks
nothing behind it.

The move and the push run at the same time on both backends (on PostgreSQL the writer
serializes a child's key with its parent's move: issue 13 item 11).

``OUTPOST_SIM_SEEDS=100 pytest tests/e2e/test_simulation.py`` runs seeds 0..99.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import random
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import msgspec
import pytest
import sqlalchemy as sa

from client_sdk import OutpostClient, OutpostError, outbox
from protocol import hlc
from protocol.hlc import Clock
from protocol.ids import uuid7
from server.sync.models import SyncConflict, SyncDevice, SyncReceipt, SyncRecord
from tests.e2e.conftest import Relay, World

SEEDS = list(range(int(os.environ.get("OUTPOST_SIM_SEEDS", "1"))))
STEPS = int(os.environ.get("OUTPOST_SIM_STEPS", "60"))
# on PostgreSQL any transaction open on the cluster (other databases included) delays pulls
SETTLE_SECONDS = float(os.environ.get("OUTPOST_SIM_SETTLE_SECONDS", "90"))
FIELDS = {"account": ("city", "industry", "region"), "contact": ("phone", "title")}
FAR_FUTURE_MS = 7_258_118_400_000  # 2200-01-01: this device's clock is wrong by ~175 years


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
        # (device, mid) of each poison mutation -> the rejection codes it may get
        self.poison: dict[tuple[str, int], set[str]] = {}
        self.moves = 0
        manager = world.user("manager")
        reps = [world.user("rep", manager=manager) for _ in range(2)]
        territories = [
            world.territory("T1", reps[0], manager),
            world.territory("T2", reps[1], manager),
            world.territory("shared", reps[0], reps[1]),
        ]
        self.movable = territories[:2]  # the manager's own: it moves accounts between them
        self.accounts: list[str] = []
        for t, territory in enumerate(territories):
            for i in range(3):
                account = world.create(
                    "account", name=f"A{t}{i}", territory_id=territory, latitude=45.0,
                    longitude=5.0,
                )
                world.create("contact", account_id=uuid.UUID(account["id"]), name=f"C{t}{i}")
                if t < 2:
                    self.accounts.append(account["id"])
        self.devices: list[tuple[OutpostClient, ChaosTransport]] = []
        for n, user in enumerate([manager, *reps]):
            transport = ChaosTransport(world, random.Random(seed * 1000 + n))
            client = world.device(user, f"d{n}-{seed}", transport=transport)
            self.devices.append((client, transport))
        self.manager = self.devices[0][0]
        # the last rep's phone believes it is the year 2200: the server clamps its clocks
        skewed = self.devices[-1][0]
        skewed.clock = Clock(str(skewed.device_id), now_ms=lambda: FAR_FUTURE_MS)

    def step(self) -> None:
        client, _transport = self.rng.choice(self.devices)
        kind = self.rng.choice(["sync", "sync", "edit", "edit", "edit", "create", "delete",
                                "visit", "poison", "move"])
        if kind == "poison":
            self._poison(client)
            return
        if kind == "move":
            self._move(client)
            return
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
                at = dt.datetime.now(dt.UTC)  # a check-in time is never in the future
                visit = client.create("visit", {"account_id": self.rng.choice(accounts)["id"],
                                                "planned_at": at, "rep_id": user.id})
                client.action("visit", visit, "check_in",
                              {"at": at, "latitude": 45.0, "longitude": 5.0})

    def _move(self, client: OutpostClient | None = None) -> None:
        """The manager moves an account to the other territory over REST (not through the
        chaos network) while a device pushes what it has queued (its contacts and visits
        included): the two requests run at the same time."""
        account = self.rng.choice(self.accounts)
        current = self.world.load("account", account)
        assert current is not None
        target = next(t for t in self.movable if str(t) != current["territory_id"])
        token = self.manager.transport.token
        answers: list[httpx.Response] = []

        def move() -> None:
            answers.append(self.world.app_client.patch(
                f"/accounts/{account}", json={"territory_id": str(target)},
                headers={"Authorization": f"Bearer {token}"},
            ))

        mover = threading.Thread(target=move)
        mover.start()
        if client is not None:
            with contextlib.suppress(OutpostError):
                client.sync()
        mover.join()
        assert answers and answers[0].status_code == 200, answers
        self.moves += 1

    def _poison(self, client: OutpostClient) -> None:
        """Queue a mutation no honest client would send, straight into the outbox (what a
        buggy or hostile client does: the SDK's own checks are bypassed)."""
        kind = self.rng.choice(["amount", "quantity", "orphan", "refused_create", "ahead"])
        accounts = client.query("account")
        if not accounts:
            kind = "orphan"  # the only one that needs no account
        account = self.rng.choice(accounts) if accounts else {}
        line = {"id": str(uuid7()), "product_id": str(uuid7()), "quantity": "1e30",
                "unit_price": "1.00"}
        queued: list[tuple[str, str, int, dict[str, Any], set[str]]] = []
        if kind == "amount":
            queued.append(("opportunity", str(uuid7()), 0,
                           {"account_id": account["id"], "name": "big", "amount": "1e30"},
                           {"validation_error"}))
        elif kind == "quantity":
            queued.append(("quote", str(uuid7()), 0, {"account_id": account["id"],
                                                      "lines": [line]}, {"validation_error"}))
        elif kind == "orphan":
            queued.append(("contact", str(uuid7()), 0, {"name": "orphan"}, {"validation_error"}))
        elif kind == "refused_create":
            rid = str(uuid7())
            queued.append(("contact", rid, 0, {"account_id": str(uuid.uuid4()), "name": "x"},
                           {"validation_error"}))
            queued.append(("contact", rid, 0, {"phone": "edited after"}, {"not_found"}))
        else:
            # a version the server never wrote (unless the record left the device's scope)
            queued.append(("account", account["id"], int(account["version"]) + 1000,
                           {"city": "poison"}, {"base_version_ahead", "out_of_scope", "not_held"}))
        with client.store.transaction() as conn:
            for entity, rid, base, changes, codes in queued:
                mid = outbox.append(
                    conn, entity=entity, record_id=rid, op="upsert", base_version=base,
                    changes=msgspec.json.encode(changes).decode(), local=None,
                    hlc=client.clock.tick(), now=dt.datetime.now(dt.UTC).isoformat(),
                )
                self.poison[(str(client.device_id), mid)] = codes

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
                sa.select(SyncReceipt.device_id, SyncReceipt.first_mid, SyncReceipt.results)
            )
            out = {}
            for device, first, raw in rows:  # one row per push: its results in number order
                for offset, result in enumerate(msgspec.json.decode(raw)):
                    out[(str(device), int(first) + offset)] = result
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
    if not sim.poison:  # every seed injects each fault at least once
        sim._poison(sim.manager)
    if not sim.moves:
        sim._move()
    for _client, transport in sim.devices:
        transport.flush()
    clients = [client for client, _ in sim.devices]
    for client in clients:
        client.sync()
    world.settle(*clients, timeout=SETTLE_SECONDS)
    # a second round: what one device pushed last reaches the others
    world.settle(*clients, timeout=SETTLE_SECONDS)

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

    # the far-future phone's clocks were clamped: no stored clock is beyond the skew bound
    bound = time.time_ns() // 1_000_000 + 300_000
    for (raw,) in _rows(world, sa.select(SyncRecord.clocks)):
        for clock in msgspec.json.decode(raw).values():
            assert hlc.decode(clock[1])[0] <= bound, clock

    # every poison mutation was answered on its own, rejected with its code
    for key, allowed in sim.poison.items():
        result = results[key]
        assert result["status"] == "rejected", (key, result)
        assert result["error"]["code"] in allowed, (key, result)

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
