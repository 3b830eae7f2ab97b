"""The demo seed: deterministic, complete, idempotent, all-or-nothing, safe to run twice at once."""

from __future__ import annotations

import asyncio
from collections import Counter
from decimal import Decimal

import pytest
import sqlalchemy as sa

from server.app import build_registry
from server.auth.models import Role, User
from server.auth.passwords import verify_password
from server.db import Database
from server.seed.demo import DemoParams, SeedResult, seed_demo
from server.seed.generate import ADMIN_EMAIL, DEMO_PASSWORD, build_demo
from server.seed.places import TERRITORIES
from server.settings import Settings
from server.sfa.accounts.models import Account, Contact
from server.sfa.catalog.models import PriceList, PriceListEntry, Product
from server.sfa.stock.models import StockBalance
from server.sfa.territories.models import Territory, TerritoryMember
from server.sync.writer import ChangeWriter

SMALL = 50


async def seed(db: Database, settings: Settings, **kwargs: object) -> SeedResult:
    return await seed_demo(db, settings, ChangeWriter(build_registry()), accounts=SMALL, **kwargs)  # type: ignore[arg-type]


async def count(db: Database, table: type) -> int:
    async with db.sessions() as session:
        return int(await session.scalar(sa.select(sa.func.count()).select_from(table)) or 0)


# --- the data set, without a database --------------------------------------------------------


def test_same_seed_same_data_other_seed_other_data() -> None:
    assert build_demo(7, 40) == build_demo(7, 40)
    first, other = build_demo(7, 40), build_demo(8, 40)
    assert {a["id"] for a in other.accounts}.isdisjoint({a["id"] for a in first.accounts})


def test_the_demo_company_has_the_promised_shape() -> None:
    data = build_demo(42, 2000)

    levels = Counter(t["level"].value for t in data.territories)
    assert levels == {"region": 3, "area": 5, "territory": 8}
    roles = Counter(u["role"] for u in data.users)
    assert roles == {Role.ADMIN: 1, Role.MANAGER: 2, Role.REP: 12}
    managers = {u["id"] for u in data.users if u["role"] is Role.MANAGER}
    reps = {u["id"] for u in data.users if u["role"] is Role.REP}
    assert all(u["manager_id"] in managers for u in data.users if u["role"] is Role.REP)

    territory_of_rep = {
        m["user_id"]: m["territory_id"] for m in data.members if m["user_id"] in reps
    }
    assert set(territory_of_rep) == reps
    assert len(data.accounts) == 2000
    for account in data.accounts:  # owned by a rep of the account's own territory
        assert territory_of_rep[account["owner_id"]] == account["territory_id"]
        assert isinstance(account["credit_limit"], Decimal)
        assert 18 < account["latitude"] < 45 and 110 < account["longitude"] < 125
        assert len(account["postal_code"]) == 6 and account["postal_code"].isdigit()
    per_account = Counter(c["account_id"] for c in data.contacts)
    assert set(per_account) == {a["id"] for a in data.accounts}
    assert set(per_account.values()) == {1, 2, 3, 4}

    assert len(data.categories) == 10 and len(data.products) == 200
    assert len({p["sku"] for p in data.products}) == 200
    assert all(isinstance(p["list_price"], Decimal) and p["list_price"] > 0 for p in data.products)
    stocked = Counter(b["product_id"] for b in data.stock_balances)
    assert len(data.warehouses) == 2 and set(stocked.values()) == {2} and len(stocked) == 200
    kinds = Counter(
        "account" if p["account_id"] else "segment" if p["segment"] else "default"
        for p in data.price_lists
    )
    assert kinds == {"default": 1, "segment": 5, "account": 3}
    entries = data.price_list_entries
    listed = {(e["price_list_id"], e["product_id"], e["min_quantity"]) for e in entries}
    assert len(listed) == len(data.price_list_entries)  # the unique key holds
    used_cities = {a["city"] for a in data.accounts}
    assert used_cities == {c.name for plan in TERRITORIES for c in plan.cities}


# --- writing it --------------------------------------------------------------------------


async def test_seed_writes_the_data_set_and_a_second_run_changes_nothing(
    db: Database, settings: Settings
) -> None:
    expected = build_demo(42, SMALL)
    progress: list[tuple[str, int, int]] = []

    first = await seed(db, settings, progress=lambda *p: progress.append(p))

    assert first.created and first.counts["accounts"] == SMALL
    assert ("accounts", SMALL, SMALL) in progress
    tables = {User: expected.users, Territory: expected.territories,
              TerritoryMember: expected.members, Account: expected.accounts,
              Contact: expected.contacts, Product: expected.products,
              PriceList: expected.price_lists, PriceListEntry: expected.price_list_entries,
              StockBalance: expected.stock_balances}
    before = {table: await count(db, table) for table in tables}
    assert before == {table: len(rows) for table, rows in tables.items()}
    async with db.sessions() as session:
        stored = {row.id: row for row in (await session.execute(sa.select(Account))).scalars()}
    assert {a["id"]: a["credit_limit"] for a in expected.accounts} == {
        i: a.credit_limit for i, a in stored.items()
    }

    second = await seed(db, settings)

    assert second == SeedResult(created=False, present=DemoParams(seed=42, accounts=SMALL))
    assert {table: await count(db, table) for table in tables} == before


async def test_demo_users_log_in_with_the_documented_password(
    db: Database, settings: Settings
) -> None:
    await seed(db, settings)
    async with db.sessions() as session:
        admin = await session.scalar(sa.select(User).where(User.email == ADMIN_EMAIL))
        reps = (await session.execute(sa.select(User).where(User.role == Role.REP))).scalars().all()
    assert admin is not None and admin.role is Role.ADMIN
    assert verify_password(DEMO_PASSWORD, admin.password_hash)
    assert not verify_password("wrong", admin.password_hash)
    assert len(reps) == 12 and all(verify_password(DEMO_PASSWORD, r.password_hash) for r in reps)


async def test_a_seed_that_fails_midway_writes_nothing(db: Database, settings: Settings) -> None:
    def explode(what: str, done: int, total: int) -> None:
        if what == "contacts":
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        await seed(db, settings, progress=explode)

    assert await count(db, User) == 0 and await count(db, Account) == 0
    assert (await seed(db, settings)).created  # and a clean retry works


async def test_two_seeds_at_once_create_the_data_once(db: Database, settings: Settings) -> None:
    results = await asyncio.gather(seed(db, settings), seed(db, settings))

    assert sorted(r.created for r in results) == [False, True]
    assert await count(db, Account) == SMALL
    assert await count(db, User) == 15


async def test_seeded_records_go_through_the_sync_writer(db: Database, settings: Settings) -> None:
    expected = build_demo(42, SMALL)
    rows = {"territory": expected.territories, "account": expected.accounts,
            "contact": expected.contacts, "product": expected.products,
            "price_list": expected.price_lists, "stock_balance": expected.stock_balances}
    syncable = [entity for entity in rows if build_registry().get(entity) is not None]
    assert "account" in syncable  # the engine knows the core records

    await seed(db, settings)

    async with db.sessions() as session:
        result = await session.execute(
            sa.text("SELECT entity, count(*) FROM sync_records GROUP BY entity")
        )
        tracked = {entity: number for entity, number in result.all()}
    assert {e: tracked.get(e, 0) for e in syncable} == {e: len(rows[e]) for e in syncable}
