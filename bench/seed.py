"""Seed a benchmark database fast, through the sync engine's bulk path (``create_many``).

The company: a territory tree of 4 regions, 8 areas and 40 territories, one rep per territory,
an admin, a small catalog. The benchmark rep works two territories that hold ``scope`` records;
the other 38 share the rest of ``total``. Records come in blocks of 20 (4 accounts, 8 contacts,
5 visits and 3 orders of 3 lines each), the proportions of a real rep's book.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from protocol.ids import uuid7
from rules.pricing import Line, document_totals
from server.auth.models import User
from server.auth.passwords import hash_password
from server.db import Database, utcnow
from server.sfa.territories.models import TerritoryMember
from server.sync.writer import ChangeWriter

PASSWORD = "bench-password"
REP_EMAIL = "bench-rep@outpost.example"
ADMIN_EMAIL = "bench-admin@outpost.example"
BLOCK = 20  # records per block: 4 accounts, 8 contacts, 5 visits, 3 orders
VISITS_PER_ACCOUNT = (2, 1, 1, 1)
ORDERS_PER_ACCOUNT = (1, 1, 1, 0)
REGIONS, AREAS_PER_REGION, LEAVES_PER_AREA = 4, 2, 5
REP_LEAVES = 2
PRODUCTS = 50
SEGMENTS = ("large_enterprise", "mid_size", "education", "government", "small_business",
            "consumer")
TIERS = ("vip", "key", "regular", "regular", "low")
STAGES = ("prospect", "potential", "active", "active", "loyal", "churned")
INDUSTRIES = ("retail", "logistics", "food", "pharma", "construction", "education", "energy")
CITIES = (("Shanghai", "Shanghai", 31.23, 121.47, "200"), ("Nanjing", "Jiangsu", 32.06, 118.80,
          "210"), ("Hangzhou", "Zhejiang", 30.27, 120.16, "310"), ("Suzhou", "Jiangsu", 31.30,
          120.59, "215"))
ROLES = ("decision_maker", "influencer", "buyer", "user", "gatekeeper", "other")
Progress = Callable[[str], None]


@dataclass
class Seeded:
    """What the benchmark needs to know about the seeded company."""

    rep_id: uuid.UUID
    admin_id: uuid.UUID
    scope_records: int = 0
    total_records: int = 0
    global_records: int = 0
    territories: int = 0
    rep_account_ids: list[uuid.UUID] = field(default_factory=list)
    rep_contact_ids: list[uuid.UUID] = field(default_factory=list)


def blocks_for(records: int) -> int:
    """How many blocks of 20 records come closest to ``records`` (at least one)."""
    return max(1, round(records / BLOCK))


class Generator:
    """Deterministic rows of a territory's book (ids are UUIDv7 like the devices make)."""

    def __init__(self, seed: int, product_ids: list[uuid.UUID]) -> None:
        self.rng = random.Random(seed)
        self.products = product_ids
        self.now = utcnow()

    def account(self, territory_id: uuid.UUID, owner_id: uuid.UUID) -> dict[str, Any]:
        """One customer."""
        r = self.rng
        city, province, lat, lon, postal = r.choice(CITIES)
        return {
            "id": uuid7(),
            "name": f"{city} {r.choice(INDUSTRIES).title()} Co. {r.randrange(10**6)}",
            "segment": r.choice(SEGMENTS), "value_tier": r.choice(TIERS),
            "lifecycle_stage": r.choice(STAGES), "industry": r.choice(INDUSTRIES),
            "credit_limit": Decimal(r.randrange(0, 500_000, 1000)),
            "arrears": Decimal(0), "blacklisted": False,
            "address": f"{r.randint(1, 999)} Zhongshan Road, {city}",
            "postal_code": f"{postal}{r.randint(0, 999):03d}", "city": city, "region": province,
            "latitude": round(lat + r.gauss(0, 0.05), 6),
            "longitude": round(lon + r.gauss(0, 0.06), 6),
            "owner_id": owner_id, "territory_id": territory_id, "notes": "",
        }

    def contact(self, account_id: uuid.UUID, number: int) -> dict[str, Any]:
        """One person at a customer."""
        r = self.rng
        return {
            "id": uuid7(), "account_id": account_id, "name": f"Contact {r.randrange(10**6)}",
            "role": ROLES[0] if number == 0 else r.choice(ROLES), "title": "Purchasing",
            "phone": f"+86 13{r.randint(0, 9)} {r.randint(0, 9999):04d} {r.randint(0, 9999):04d}",
            "email": f"c{r.randrange(10**8)}@example.cn", "notes": "",
        }

    def visit(self, account: dict[str, Any], rep_id: uuid.UUID) -> dict[str, Any]:
        """A past (completed, with GPS check-in/out) or planned visit."""
        r = self.rng
        planned = self.now + dt.timedelta(days=r.randint(-180, 20), hours=r.randint(0, 9))
        row: dict[str, Any] = {"id": uuid7(), "account_id": account["id"], "rep_id": rep_id,
                               "planned_at": planned, "status": "planned", "notes": "",
                               "outcome": ""}
        # executemany needs the same keys in every row: planned visits carry explicit NULLs
        for side in ("check_in", "check_out"):
            for name in ("at", "latitude", "longitude", "accuracy_m", "distance_m"):
                row[f"{side}_{name}"] = None
        if planned < self.now:
            lat, lon = account["latitude"], account["longitude"]
            row.update(
                status="completed", check_in_at=planned, check_in_latitude=lat,
                check_in_longitude=lon, check_in_accuracy_m=12.0, check_in_distance_m=8.5,
                check_out_at=planned + dt.timedelta(minutes=40), check_out_latitude=lat,
                check_out_longitude=lon, check_out_accuracy_m=15.0, check_out_distance_m=9.0,
                notes="Discussed the next order.", outcome="order expected",
            )
        return row

    def order(self, account_id: uuid.UUID, owner_id: uuid.UUID) -> dict[str, Any]:
        """A confirmed order of 3 lines with its totals."""
        r = self.rng
        lines = [
            Line(id=uuid7(), product_id=r.choice(self.products),
                 quantity=Decimal(r.randint(1, 40)),
                 unit_price=Decimal(r.randint(500, 90000)) / 100,
                 discount_pct=Decimal(r.choice((0, 0, 5, 10))), tax_rate=Decimal("0.13"))
            for _ in range(3)
        ]
        totals = document_totals(lines)
        return {
            "id": uuid7(), "account_id": account_id, "owner_id": owner_id, "status": "confirmed",
            "lines": lines, "subtotal": totals.subtotal, "tax_total": totals.tax_total,
            "total": totals.total, "submitted_at": self.now - dt.timedelta(days=r.randint(1, 90)),
            "notes": "",
        }

    def book(self, territory_id: uuid.UUID, rep_id: uuid.UUID, blocks: int,
             ) -> dict[str, list[dict[str, Any]]]:
        """``blocks`` blocks of records of one territory, by entity (parents first)."""
        rows: dict[str, list[dict[str, Any]]] = {"account": [], "contact": [], "visit": [],
                                                 "order": []}
        for _ in range(blocks):
            for visits, orders in zip(VISITS_PER_ACCOUNT, ORDERS_PER_ACCOUNT, strict=True):
                account = self.account(territory_id, rep_id)
                rows["account"].append(account)
                rows["contact"] += [self.contact(account["id"], n) for n in range(2)]
                rows["visit"] += [self.visit(account, rep_id) for _ in range(visits)]
                rows["order"] += [self.order(account["id"], rep_id) for _ in range(orders)]
        return rows


def spread(blocks: int, leaves: int) -> Iterator[int]:
    """``blocks`` shared out as evenly as possible over ``leaves``."""
    for index in range(leaves):
        yield blocks // leaves + (1 if index < blocks % leaves else 0)


async def _insert(session: AsyncSession, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    if rows:
        await session.execute(sa.insert(table), rows)


async def seed(
    db: Database, writer: ChangeWriter, *, scope: int, total: int, seed: int = 7,
    progress: Progress = print,
) -> Seeded:
    """Write the whole benchmark company; one transaction per territory."""
    now = utcnow()
    password_hash = hash_password(PASSWORD)  # the server's default cost, hashed once
    tree: list[dict[str, Any]] = []
    leaves: list[uuid.UUID] = []
    for r in range(REGIONS):
        region = uuid7()
        tree.append({"id": region, "name": f"Region {r}", "level": "region", "parent_id": None})
        for a in range(AREAS_PER_REGION):
            area = uuid7()
            tree.append({"id": area, "name": f"Area {r}.{a}", "level": "area", "parent_id": region})
            for t in range(LEAVES_PER_AREA):
                leaves.append(uuid7())
                tree.append({"id": leaves[-1], "name": f"Territory {r}.{a}.{t}",
                             "level": "territory", "parent_id": area})
    rep_ids = [uuid7() for _ in leaves]
    admin_id = uuid7()

    def user(uid: uuid.UUID, email: str, role: str) -> dict[str, Any]:
        return {"id": uid, "email": email, "name": email.split("@")[0], "role": role,
                "manager_id": None, "password_hash": password_hash, "timezone": "UTC",
                "active": True, "created_at": now, "updated_at": now}

    users = [user(admin_id, ADMIN_EMAIL, "admin")] + [
        user(uid, REP_EMAIL if i == 0 else f"rep{i:02d}@outpost.example", "rep")
        for i, uid in enumerate(rep_ids)
    ]
    # the benchmark rep works the first REP_LEAVES territories, every other rep one territory
    members = [{"territory_id": leaf, "user_id": rep_ids[0] if i < REP_LEAVES else rep_ids[i],
                "created_at": now} for i, leaf in enumerate(leaves)]
    category = {"id": uuid7(), "name": "Beverages", "parent_id": None}
    products = [{"id": uuid7(), "sku": f"BEV-{n:03d}", "name": f"Drink {n}",
                 "category_id": category["id"], "unit": "case", "tax_rate": Decimal("0.13"),
                 "list_price": Decimal(100 + n), "active": True} for n in range(PRODUCTS)]
    async with db.transaction() as session:
        await _insert(session, User.__table__, users)
        for level in ("region", "area", "territory"):
            rows = [dict(t) for t in tree if t["level"] == level]
            await writer.create_many(session, "territory", rows, principal=None)
        await _insert(session, TerritoryMember.__table__, members)
        await writer.create_many(session, "product_category", [category], principal=None)
        await writer.create_many(session, "product", products, principal=None)
    info = Seeded(rep_id=rep_ids[0], admin_id=admin_id, territories=len(tree),
                  global_records=1 + len(products))
    rep_blocks = blocks_for(scope)
    other_blocks = blocks_for(max(total - rep_blocks * BLOCK, BLOCK))
    plan = [(leaves[i], rep_ids[0], n) for i, n in enumerate(spread(rep_blocks, REP_LEAVES))]
    plan += [(leaves[REP_LEAVES + i], rep_ids[REP_LEAVES + i], n)
             for i, n in enumerate(spread(other_blocks, len(leaves) - REP_LEAVES))]
    gen = Generator(seed, [p["id"] for p in products])
    target = (rep_blocks + other_blocks) * BLOCK
    for index, (territory_id, rep_id, blocks) in enumerate(plan):
        book = gen.book(territory_id, rep_id, blocks)
        async with db.transaction() as session:
            for entity, rows in book.items():
                await writer.create_many(session, entity, rows, principal=None)
        written = blocks * BLOCK
        info.total_records += written
        if index < REP_LEAVES:
            info.scope_records += written
            info.rep_account_ids += [a["id"] for a in book["account"]]
            info.rep_contact_ids += [c["id"] for c in book["contact"]]
        if index == len(plan) - 1 or index % 8 == REP_LEAVES - 1:
            progress(f"  seeded {info.total_records:,}/{target:,} records")
    return info


async def change_records(
    db: Database, writer: ChangeWriter, account_ids: list[uuid.UUID],
    contact_ids: list[uuid.UUID], stamp: str,
) -> int:
    """Edit accounts and contacts on the server in one transaction, as the back office would."""
    async with db.transaction() as session:
        for account_id in account_ids:
            await writer.update(session, "account", account_id, {"industry": f"bench {stamp}"},
                                principal=None)
        for contact_id in contact_ids:
            await writer.update(session, "contact", contact_id, {"title": f"bench {stamp}"},
                                principal=None)
    return len(account_ids) + len(contact_ids)
