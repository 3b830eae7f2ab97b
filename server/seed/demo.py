"""Write the demo data set: once (idempotent), in one transaction, through the sync writer."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.models import User
from server.auth.passwords import Passwords
from server.db import Database, utcnow
from server.models import Base
from server.seed.generate import ADMIN_EMAIL, DEMO_PASSWORD, DemoData, Row, build_demo
from server.settings import Settings
from server.sync.models import sync_state
from server.sync.sql import upsert
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


# The parameters of the demo data in a database, kept in ``sync_state`` under this name.
DEMO_STATE = "demo_seed"


@dataclass(frozen=True)
class DemoParams:
    """The ``--seed`` and ``--accounts`` a demo data set was made with (None: not recorded)."""

    seed: int | None
    accounts: int | None


@dataclass
class SeedResult:
    """What ``seed_demo`` did: ``created`` is False when the demo data was already there, and
    ``present`` then says with which parameters it was made."""

    created: bool
    counts: dict[str, int] = field(default_factory=dict)
    present: DemoParams | None = None


class SeedRefused(Exception):
    """The database is not one the demo data may be written into; nothing was written."""


def table(name: str) -> sa.Table:
    """A table of the models' metadata."""
    return Base.metadata.tables[name]


def _silent(_what: str, _done: int, _total: int) -> None:
    pass


async def demo_present(db: Database) -> DemoParams | None:
    """The parameters of the demo data in the database; None when it was never seeded."""
    async with db.reading() as session:
        return await _demo_params(session)


async def _demo_params(session: AsyncSession) -> DemoParams | None:
    found = await session.scalar(sa.select(User.id).where(User.email == ADMIN_EMAIL))
    if found is None:
        return None
    recorded = await session.scalar(
        sa.select(sync_state.c.value).where(sync_state.c.name == DEMO_STATE)
    )
    if recorded is None:  # seeded before the parameters were recorded
        return DemoParams(None, None)
    params = json.loads(recorded)
    return DemoParams(int(params["seed"]), int(params["accounts"]))


async def _colliding_email(db: Database, emails: list[str]) -> str | None:
    async with db.reading() as session:
        return await session.scalar(
            sa.select(User.email).where(User.email.in_(emails)).order_by(User.email).limit(1)
        )


async def _user_count(db: Database) -> int:
    async with db.reading() as session:
        return int(await session.scalar(sa.select(sa.func.count()).select_from(User)) or 0)


async def seed_demo(
    db: Database,
    settings: Settings,
    writer: ChangeWriter,
    *,
    seed: int = 42,
    accounts: int = 2000,
    progress: Progress = _silent,
    force: bool = False,
) -> SeedResult:
    """Insert the demo data unless it is present; all of it or nothing.

    Only into a database without users, unless ``force``: then next to the users there, as
    long as none has a demo user's email. Raises ``SeedRefused`` (naming the conflict, never
    a statement or its parameters) when it writes nothing.
    """
    present = await demo_present(db)
    if present is not None:
        return SeedResult(created=False, present=present)
    users_there = await _user_count(db)
    if users_there and (present := await demo_present(db)) is not None:
        return SeedResult(created=False, present=present)  # a concurrent seed just finished
    if users_there and not force:
        raise SeedRefused(
            f"the database already holds {users_there} user(s) and no demo data, so nothing "
            "was written: seed-demo writes into an empty database (--force adds the demo data "
            "next to those users)"
        )
    data = build_demo(seed, accounts)
    emails = [str(user["email"]) for user in data.users]
    if users_there and (taken := await _colliding_email(db, emails)):
        raise SeedRefused(f"a user with email {taken} exists, so nothing was written: the demo "
                          "data has a user with that email")
    # The KDF runs before the transaction: SQLite holds its write lock for the whole of it.
    passwords = Passwords(settings)
    hashes = await asyncio.gather(*(passwords.hash(DEMO_PASSWORD) for _ in data.users))
    users = [
        {**user, "password_hash": hashed}
        for user, hashed in zip(data.users, hashes, strict=True)
    ]
    try:
        async with db.transaction() as session:
            if (present := await _demo_params(session)) is not None:
                return SeedResult(created=False, present=present)  # a concurrent seed won
            counts = await _write(session, writer, data, users, progress)
            await upsert(session, sync_state,
                         {"name": DEMO_STATE,
                          "value": json.dumps({"seed": seed, "accounts": accounts})},
                         ["name"], ["value"])
    except IntegrityError:
        if (present := await demo_present(db)) is not None:
            return SeedResult(created=False, present=present)
        if taken := await _colliding_email(db, emails):
            raise SeedRefused(f"a user with email {taken} exists, so nothing was written: the "
                              "demo data has a user with that email") from None
        # Never the statement: it carries every row's values, password hashes included.
        raise SeedRefused("the demo data collides with rows already in the database, so "
                          "nothing was written; seed an empty database") from None
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
