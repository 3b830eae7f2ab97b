"""Write the demo data set: once (idempotent), in one transaction, through the sync writer."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.models import User
from server.auth.passwords import hash_password
from server.db import Database, utcnow
from server.models import Base
from server.seed.generate import ADMIN_EMAIL, DEMO_PASSWORD, DemoData, Row, build_demo
from server.settings import Settings
from server.sync.writer import ChangeWriter

BATCH = 500
# A progress report: (what, done so far, total).
Progress = Callable[[str, int, int], None]
# Syncable entities by wire name, with their table (for entities not registered in this build).
TABLES: dict[str, str] = {
    "territory": "territories", "account": "accounts", "contact": "contacts",
    "product_category": "product_categories", "product": "products",
    "price_list": "price_lists", "price_list_entry": "price_list_entries",
    "warehouse": "warehouses", "stock_balance": "stock_balances",
    "stock_movement": "stock_movements",
}


@dataclass
class SeedResult:
    """What ``seed_demo`` did: ``created`` is False when the demo data was already there."""

    created: bool
    counts: dict[str, int] = field(default_factory=dict)


def table(name: str) -> sa.Table:
    """A table of the models' metadata."""
    return Base.metadata.tables[name]


def _silent(_what: str, _done: int, _total: int) -> None:
    pass


async def demo_present(db: Database) -> bool:
    """True when the demo admin exists (the demo data was seeded before)."""
    async with db.sessions() as session:
        found = await session.scalar(sa.select(User.id).where(User.email == ADMIN_EMAIL))
    return found is not None


async def seed_demo(
    db: Database,
    settings: Settings,
    writer: ChangeWriter,
    *,
    seed: int = 42,
    accounts: int = 2000,
    progress: Progress = _silent,
) -> SeedResult:
    """Insert the demo data unless it is present; all of it or nothing."""
    if await demo_present(db):
        return SeedResult(created=False)
    data = build_demo(seed, accounts)
    # The KDF runs before the transaction: SQLite holds its write lock for the whole of it.
    hashes = await asyncio.gather(*(
        asyncio.to_thread(hash_password, DEMO_PASSWORD, n=settings.password_kdf_n)
        for _ in data.users
    ))
    users = [
        {**user, "password_hash": hashed}
        for user, hashed in zip(data.users, hashes, strict=True)
    ]
    try:
        async with db.transaction() as session:
            if await session.scalar(sa.select(User.id).where(User.email == ADMIN_EMAIL)):
                return SeedResult(created=False)  # a concurrent seed got there first
            counts = await _write(session, writer, data, users, progress)
    except IntegrityError:
        if await demo_present(db):
            return SeedResult(created=False)
        raise
    return SeedResult(created=True, counts=counts)


async def _write(session: AsyncSession, writer: ChangeWriter, data: DemoData,
                 users: list[Row], progress: Progress) -> dict[str, int]:
    """Parents before children, so foreign keys hold at every statement."""
    managers = [u for u in users if u["manager_id"] is None]
    await _insert_plain(session, table("users"), managers)
    await _insert_plain(session, table("users"), [u for u in users if u["manager_id"]])
    progress("users", len(users), len(users))
    for level in ("region", "area", "territory"):
        level_rows = [t for t in data.territories if t["level"].value == level]
        await _create(session, writer, "territory", level_rows)
    progress("territories", len(data.territories), len(data.territories))
    await _insert_plain(session, table("territory_members"), data.members)
    steps: list[tuple[str, str, list[Row]]] = [
        ("product categories", "product_category", data.categories),
        ("products", "product", data.products),
        ("warehouses", "warehouse", data.warehouses),
        ("stock balances", "stock_balance", data.stock_balances),
        ("stock movements", "stock_movement", data.stock_movements),
        ("accounts", "account", data.accounts),
        ("contacts", "contact", data.contacts),
        ("price lists", "price_list", data.price_lists),
        ("price list entries", "price_list_entry", data.price_list_entries),
    ]
    for label, entity, rows in steps:
        for start in range(0, len(rows), BATCH):
            await _create(session, writer, entity, rows[start:start + BATCH])
            progress(label, min(start + BATCH, len(rows)), len(rows))
    counts = {"users": len(users), "territories": len(data.territories),
              "territory members": len(data.members)}
    counts.update({label: len(rows) for label, _, rows in steps})
    return counts


async def _create(session: AsyncSession, writer: ChangeWriter, entity: str,
                  rows: list[Row]) -> None:
    """Through the sync writer (so devices receive the records) when the entity is syncable."""
    if writer.registry.get(entity) is not None:
        await writer.create_many(session, entity, [dict(row) for row in rows], principal=None)
    else:
        await _insert_plain(session, table(TABLES[entity]), rows)


async def _insert_plain(session: AsyncSession, target: sa.Table, rows: list[Row]) -> None:
    """One executemany insert, filling in the bookkeeping columns the writer would set."""
    if not rows:
        return
    now = utcnow()
    extra: dict[str, Any] = {}
    for column, value in (("version", 1), ("created_at", now), ("updated_at", now)):
        if column in target.c:
            extra[column] = value
    await session.execute(sa.insert(target), [{**extra, **row} for row in rows])
