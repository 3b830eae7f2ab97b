"""Zulip-style convergence, per syncable entity (``verify_action`` in zulip's test_events.py).

For every entity in the registry: take a device's full snapshot, act (create, update, action,
scope move, delete), pull from the snapshot's cursor and apply the changes to the stale copy; it
must equal a fresh full pull. A registered entity without a scenario fails the coverage test.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import msgspec
import pytest
import sqlalchemy as sa

from protocol.ids import uuid7
from protocol.sync import FieldConflict
from server.auth.models import User
from server.db import Database
from server.errors import Conflict
from server.sfa.territories.models import TerritoryMember
from server.sync.conflicts import record_conflict
from server.sync.writer import ChangeWriter
from tests.builders import make_user
from tests.pricing_tools import priced_product
from tests.synctools import (
    Device,
    Snapshot,
    act_as,
    assert_converges,
    create_as,
    delete_as,
    device_for,
    principal,
    update_as,
)

D = Decimal
Step = Callable[[], Awaitable[Any]]


@dataclass
class World:
    """A rep with a device, an account they own, a territory they belong to, and the writer."""

    db: Database
    w: ChangeWriter
    rep: User
    device: Device
    account_id: str = ""
    territory_id: uuid.UUID = field(default_factory=uuid7)
    other_territory_id: uuid.UUID = field(default_factory=uuid7)
    snapshots: list[Snapshot] = field(default_factory=list)

    async def converge(self, step: Step) -> Snapshot:
        """Act, then check the device catches up; keeps the fresh snapshot."""
        fresh = await assert_converges(self.device, step)
        self.snapshots.append(fresh)
        return fresh

    def holds(self, entity: str, record_id: Any) -> dict[str, Any] | None:
        """The record as the device holds it after the last step."""
        return self.snapshots[-1].get((entity, str(record_id)))

    async def create(self, entity: str, record: dict[str, Any]) -> dict[str, Any]:
        return await create_as(self.db, self.rep, entity, record, self.w)

    async def update(self, entity: str, record_id: Any, changes: dict[str, Any]) -> dict[str, Any]:
        return await update_as(self.db, self.rep, entity, record_id, changes, self.w)

    async def act(self, entity: str, record_id: Any, action: str, params: dict[str, Any]) -> Any:
        return await act_as(self.db, self.rep, entity, record_id, action, params, self.w)

    async def delete(self, entity: str, record_id: Any) -> None:
        await delete_as(self.db, self.rep, entity, record_id, self.w)

    async def write(self, entity: str, values: dict[str, Any]) -> dict[str, Any]:
        """A back-office write (Python values, no device validation), as REST services do."""
        async with self.db.transaction() as session:
            return await self.w.create(session, entity, values, principal=principal(self.rep))

    async def patch(self, entity: str, record_id: Any, changes: dict[str, Any]) -> dict[str, Any]:
        """A back-office update (Python values)."""
        async with self.db.transaction() as session:
            return await self.w.update(
                session, entity, uuid.UUID(str(record_id)), changes, principal=principal(self.rep)
            )


async def crud(
    world: World,
    entity: str,
    make: Callable[[], Awaitable[dict[str, Any]]],
    changes: dict[str, Any],
    *,
    patch: bool = False,
) -> str:
    """Create, update and delete one record, converging after each; returns its id."""
    created: dict[str, Any] = {}

    async def create() -> None:
        created.update(await make())

    await world.converge(create)
    assert world.holds(entity, created["id"]) is not None
    update = world.patch if patch else world.update
    await world.converge(lambda: update(entity, created["id"], changes))
    await world.converge(lambda: world.delete(entity, created["id"]))
    assert world.holds(entity, created["id"]) is None
    return str(created["id"])


# --- scenarios, one per entity -----------------------------------------------------------


async def scenario_account(world: World) -> None:
    account: dict[str, Any] = {}

    async def create() -> None:
        account.update(await world.write("account", {"name": "Beta", "owner_id": world.rep.id}))

    await world.converge(create)
    visit: dict[str, Any] = {}

    async def plan() -> None:
        visit.update(
            await world.create(
                "visit", {"account_id": account["id"], "planned_at": "2030-01-01T09:00:00Z"}
            )
        )

    await world.converge(plan)
    await world.converge(lambda: world.update("account", account["id"], {"notes": "gate code 42"}))
    # moved to a territory the rep does not hold: the account and its visit are evicted
    await world.converge(
        lambda: world.patch("account", account["id"], {"territory_id": world.other_territory_id})
    )
    assert world.holds("account", account["id"]) is None
    assert not [k for k in world.snapshots[-1] if k[0] == "visit"]
    # moved into the rep's territory: both come back
    await world.converge(
        lambda: world.patch("account", account["id"], {"territory_id": world.territory_id})
    )
    assert world.holds("account", account["id"])["territory_id"] == str(world.territory_id)
    assert [k for k in world.snapshots[-1] if k[0] == "visit"]
    # a visit is the account's history: the account is deleted only once it has none
    with pytest.raises(Conflict):
        await world.delete("account", account["id"])
    await world.converge(lambda: world.delete("visit", visit["id"]))
    await world.converge(lambda: world.delete("account", account["id"]))
    assert not [
        k for k in world.snapshots[-1] if k[0] in ("account", "visit") and k[1] == account["id"]
    ]


async def scenario_contact(world: World) -> None:
    await crud(
        world,
        "contact",
        lambda: world.write(
            "contact", {"account_id": uuid.UUID(world.account_id), "name": "Li Wei"}
        ),
        {"phone": "+86 21 5555 0101"},
    )


async def scenario_product_category(world: World) -> None:
    await crud(
        world,
        "product_category",
        lambda: world.write("product_category", {"name": "Tea"}),
        {"name": "Green tea"},
        patch=True,
    )


async def scenario_product(world: World) -> None:
    await crud(
        world,
        "product",
        lambda: world.write(
            "product", {"sku": "TEA-1", "name": "Longjing", "list_price": D("88.50")}
        ),
        {"list_price": D("90.00")},
        patch=True,
    )


async def scenario_price_list(world: World) -> None:
    await crud(
        world,
        "price_list",
        lambda: world.write("price_list", {"name": "Retail"}),
        {"name": "Retail 2030"},
        patch=True,
    )


async def scenario_price_list_entry(world: World) -> None:
    price_list = await world.write("price_list", {"name": "Wholesale"})
    product = await world.write("product", {"sku": "TEA-2", "name": "Pu-erh"})
    await crud(
        world,
        "price_list_entry",
        lambda: world.write(
            "price_list_entry",
            {
                "price_list_id": uuid.UUID(price_list["id"]),
                "product_id": uuid.UUID(product["id"]),
                "unit_price": D("10.00"),
            },
        ),
        {"unit_price": D("9.50")},
        patch=True,
    )


async def scenario_warehouse(world: World) -> None:
    await crud(
        world,
        "warehouse",
        lambda: world.write("warehouse", {"code": "SH1", "name": "Pudong"}),
        {"name": "Pudong North"},
        patch=True,
    )


async def scenario_stock_balance(world: World) -> None:
    warehouse = await world.write("warehouse", {"code": "SH2", "name": "Minhang"})
    product = await world.write("product", {"sku": "TEA-3", "name": "Oolong"})
    await crud(
        world,
        "stock_balance",
        lambda: world.write(
            "stock_balance",
            {
                "warehouse_id": uuid.UUID(warehouse["id"]),
                "product_id": uuid.UUID(product["id"]),
                "on_hand": D("40"),
            },
        ),
        {"reserved": D("5")},
        patch=True,
    )
    # a van of the rep: it and its stock follow the van's owner
    other = await make_user(world.db, "rep")
    van = await world.write("warehouse", {"code": "VAN", "name": "Van", "owner_id": world.rep.id})
    stocked: dict[str, Any] = {}

    async def load_van() -> None:
        stocked.update(
            await world.write(
                "stock_balance",
                {"warehouse_id": uuid.UUID(van["id"]), "product_id": uuid.UUID(product["id"])},
            )
        )

    await world.converge(load_van)
    assert world.holds("stock_balance", stocked["id"]) is not None
    await world.converge(lambda: world.patch("warehouse", van["id"], {"owner_id": other.id}))
    assert world.holds("warehouse", van["id"]) is None
    assert world.holds("stock_balance", stocked["id"]) is None


async def scenario_territory(world: World) -> None:
    await world.converge(lambda: world.patch("territory", world.territory_id, {"name": "East 2"}))
    assert world.holds("territory", world.territory_id)["name"] == "East 2"


async def scenario_calendar_event(world: World) -> None:
    await crud(
        world,
        "calendar_event",
        lambda: world.create(
            "calendar_event",
            {
                "kind": "meeting",
                "title": "Review",
                "starts_at": "2030-01-01T09:00:00Z",
                "ends_at": "2030-01-01T10:00:00Z",
                "reminder_offsets": [30],
            },
        ),
        {"status": "done", "notes": "went well"},
    )


async def scenario_visit(world: World) -> None:
    # check-in times may not be in the future (docs/visits.md): the visit was an hour ago
    hour_ago = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=1)
    visit = await world.create(
        "visit", {"account_id": world.account_id, "planned_at": hour_ago.isoformat()}
    )
    at = hour_ago + dt.timedelta(minutes=5)
    check = {"at": at.isoformat(), "latitude": 31.23, "longitude": 121.47}
    await world.converge(lambda: world.act("visit", visit["id"], "check_in", check))
    assert world.holds("visit", visit["id"])["status"] == "checked_in"
    done = {**check, "at": (at + dt.timedelta(minutes=40)).isoformat(), "outcome": "ordered"}
    await world.converge(lambda: world.act("visit", visit["id"], "check_out", done))
    await world.converge(lambda: world.update("visit", visit["id"], {"notes": "follow up"}))
    await world.converge(lambda: world.delete("visit", visit["id"]))


async def scenario_opportunity(world: World) -> None:
    await crud(
        world,
        "opportunity",
        lambda: world.create(
            "opportunity",
            {
                "account_id": world.account_id,
                "name": "Autumn",
                "amount": "5000",
            },
        ),
        {"stage": "negotiation", "probability": 60},
    )


async def scenario_quote(world: World) -> None:
    product = await priced_product(world.db, "9.99")
    line = {"id": str(uuid7()), "product_id": str(product), "quantity": "2", "unit_price": "9.99"}
    quote = await world.create("quote", {"account_id": world.account_id, "lines": [line]})
    await world.converge(
        lambda: world.update("quote", quote["id"], {"lines": [line, {**line, "id": str(uuid7())}]})
    )
    assert world.holds("quote", quote["id"])["total"] == "39.96"
    await world.converge(lambda: world.act("quote", quote["id"], "send", {}))
    await world.converge(lambda: world.act("quote", quote["id"], "accept", {}))
    await world.converge(lambda: world.delete("quote", quote["id"]))


async def scenario_order(world: World) -> None:
    product = await priced_product(world.db, "100")
    line = {"id": str(uuid7()), "product_id": str(product), "quantity": "1", "unit_price": "100"}
    order = await world.create("order", {"account_id": world.account_id, "lines": [line]})
    await world.converge(lambda: world.update("order", order["id"], {"notes": "urgent"}))
    await world.converge(lambda: world.act("order", order["id"], "submit", {}))
    assert world.holds("order", order["id"])["status"] == "confirmed"
    await world.converge(lambda: world.act("order", order["id"], "cancel", {}))
    await world.converge(lambda: world.delete("order", order["id"]))


async def scenario_conflict(world: World) -> None:
    found: dict[str, uuid.UUID] = {}

    async def keep() -> None:
        async with world.db.transaction() as session:
            found["id"] = await record_conflict(
                world.w,
                session,
                entity="account",
                record_id=uuid.UUID(world.account_id),
                principal=principal(world.rep),
                mid=1,
                kind="field",
                fields=[FieldConflict(field="notes", yours="a", theirs="b", kept="theirs")],
                scope_key=f"u:{world.rep.id}",
            )

    await world.converge(keep)
    assert world.holds("conflict", found["id"]) is not None
    await world.converge(
        lambda: world.patch("conflict", found["id"], {"resolved_by": world.rep.id})
    )


async def _finance(
    world: World, schedule: list[tuple[int, str]]
) -> tuple[Any, Any, Any, uuid.UUID]:
    """An admin's contract, schedule and payment services, and an active contract on the
    world's account with ``schedule`` ((days from today, amount) pairs) set."""
    from server.settings import Settings
    from server.sfa.collections.payment_service import PaymentService
    from server.sfa.contracts.schedule import ScheduleService
    from server.sfa.contracts.schemas import ContractCreate, ContractPatch, ScheduleSet
    from server.sfa.contracts.service import ContractService

    admin = principal(await make_user(world.db, "admin"))
    args = (world.db, world.w, admin, Settings())
    contracts, schedules = ContractService(*args), ScheduleService(*args)
    today = dt.datetime.now(dt.UTC).date()
    total = sum((D(amount) for _, amount in schedule), D(0))
    contract = await contracts.create_contract(
        msgspec.convert(
            {
                "account_id": world.account_id,
                "value": str(total),
                "currency": "CNY",
                "start_date": str(today - dt.timedelta(days=90)),
                "end_date": str(today + dt.timedelta(days=90)),
            },
            ContractCreate,
        )
    )
    items = [{"due_date": str(today + dt.timedelta(days=d)), "amount": a} for d, a in schedule]
    await schedules.set_schedule(contract.id, msgspec.convert({"instalments": items}, ScheduleSet))
    await contracts.update_contract(contract.id, ContractPatch(status="active"), expected=None)
    return contracts, schedules, PaymentService(*args), contract.id


def _payment(instalment_id: Any, amount: str) -> Any:
    from server.sfa.collections.schemas import PaymentCreate

    return PaymentCreate(
        instalment_id=uuid.UUID(str(instalment_id)),
        amount=D(amount),
        currency="CNY",
        received_on=dt.datetime.now(dt.UTC).date(),
    )


async def scenario_contract(world: World) -> None:
    from server.sfa.contracts.schemas import ContractPatch

    made: dict[str, Any] = {}

    async def create() -> None:
        made["contracts"], _, _, made["id"] = await _finance(world, [(30, "500")])

    await world.converge(create)
    assert world.holds("contract", made["id"])["status"] == "active"
    await world.converge(
        lambda: made["contracts"].update_contract(
            made["id"], ContractPatch(title="Renewed"), expected=None
        )
    )
    assert world.holds("contract", made["id"])["title"] == "Renewed"
    other = await make_user(world.db, "rep")  # the account leaves the rep: so does the contract
    await world.converge(lambda: world.patch("account", world.account_id, {"owner_id": other.id}))
    assert world.holds("contract", made["id"]) is None


async def scenario_instalment(world: World) -> None:
    from server.sfa.contracts.schemas import ScheduleSet

    made: dict[str, Any] = {}

    async def schedule() -> None:
        _, schedules, payments, _ = await _finance(world, [(-3, "100"), (20, "300")])
        made.update(schedules=schedules, payments=payments)

    await world.converge(schedule)
    first, second = sorted(
        (r for (e, _), r in world.snapshots[-1].items() if e == "instalment"),
        key=lambda r: r["seq"],
    )
    await world.converge(lambda: made["payments"].record_payment(_payment(first["id"], "40")))
    assert world.holds("instalment", first["id"])["outstanding"] == "60.0000"
    await world.converge(lambda: made["payments"].record_payment(_payment(first["id"], "60")))
    assert world.holds("instalment", first["id"])["status"] == "paid"
    # a new schedule (before any payment) replaces the old instalments: tombstones
    holder: dict[str, Any] = {}

    async def another() -> None:
        _, holder["schedules"], _, holder["id"] = await _finance(world, [(5, "10")])

    fresh = await world.converge(another)
    old = [
        r["id"]
        for (e, _), r in fresh.items()
        if e == "instalment" and r["contract_id"] == str(holder["id"])
    ]
    assert len(old) == 1
    await world.converge(
        lambda: holder["schedules"].set_schedule(
            holder["id"],
            msgspec.convert(
                {
                    "instalments": [
                        {"due_date": str(dt.date.today() + dt.timedelta(days=9)), "amount": "10"}
                    ]
                },
                ScheduleSet,
            ),
        )
    )
    assert all(world.holds("instalment", i) is None for i in old)
    assert second["status"] == "open"


async def scenario_receivable(world: World) -> None:
    from server.sfa.collections.receivables import age_receivables

    made: dict[str, Any] = {}

    async def owe() -> None:
        _, _, payments, _ = await _finance(world, [(-10, "200"), (5, "100")])
        made["payments"] = payments

    fresh = await world.converge(owe)
    [receivable] = [r for (e, _), r in fresh.items() if e == "receivable"]
    assert (receivable["days_1_30"], receivable["current"]) == ("200.0000", "100.0000")
    assert world.holds("account", world.account_id)["arrears"] == "200.0000"
    [overdue] = [r for (e, _), r in fresh.items() if e == "instalment" and r["seq"] == 1]
    await world.converge(lambda: made["payments"].record_payment(_payment(overdue["id"], "200")))
    assert world.holds("receivable", receivable["id"])["overdue"] == "0.0000"
    assert world.holds("account", world.account_id)["arrears"] == "0.0000"
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=40)
    await world.converge(lambda: age_receivables(world.db, world.w, later))
    assert world.holds("receivable", receivable["id"])["days_31_60"] == "100.0000"
    assert world.holds("account", world.account_id)["arrears"] == "100.0000"


async def scenario_expense(world: World) -> None:
    report: dict[str, Any] = {}
    line = {"id": str(uuid7()), "date": "2030-01-02", "category": "fuel", "currency": "CNY"}

    async def create() -> None:
        report.update(
            await world.create(
                "expense",
                {"owner_id": str(world.rep.id), "lines": [{**line, "amount": "30.5"}]},
            )
        )

    await world.converge(create)
    await world.converge(lambda: world.update("expense", report["id"], {"title": "Fuel run"}))
    await world.converge(lambda: world.act("expense", report["id"], "submit", {}))
    # the manager's decision (REST) is a server write through the change writer
    await world.converge(lambda: world.patch("expense", report["id"], {"status": "approved"}))
    assert world.holds("expense", report["id"])["status"] == "approved"


SCENARIOS: dict[str, Callable[[World], Awaitable[None]]] = {
    name.removeprefix("scenario_"): fn
    for name, fn in dict(globals()).items()
    if name.startswith("scenario_")
}


async def build_world(client: Any, db: Database) -> World:
    rep = await make_user(db, "rep")
    world = World(
        db=db, w=client.app.state.writer, rep=rep, device=await device_for(client, db, rep)
    )
    await world.write("territory", {"id": world.territory_id, "name": "East", "level": "territory"})
    await world.write(
        "territory", {"id": world.other_territory_id, "name": "West", "level": "territory"}
    )
    async with db.transaction() as session:
        await session.execute(
            sa.insert(TerritoryMember.__table__).values(
                territory_id=world.territory_id, user_id=rep.id
            )
        )
    account = await world.write(
        "account", {"name": "Acme", "owner_id": rep.id, "credit_limit": D(1000)}
    )
    world.account_id = account["id"]
    return world


def test_every_registered_entity_has_a_scenario() -> None:
    from tests.synctools import registry

    assert set(registry().entities) == set(SCENARIOS)


@pytest.mark.parametrize("entity", sorted(SCENARIOS))
async def test_a_stale_snapshot_catches_up_to_a_fresh_one(client, db, entity: str) -> None:
    world = await build_world(client, db)
    await SCENARIOS[entity](world)
    assert len(world.snapshots) >= 1
