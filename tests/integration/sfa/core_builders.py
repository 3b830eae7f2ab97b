"""Small builders for the core records, written through the sync writer like the services do."""

from __future__ import annotations

import decimal
import uuid
from typing import Any

import sqlalchemy as sa

from server.app import build_registry
from server.db import Database, new_id, utcnow
from server.sfa.territories.models import TerritoryMember
from server.sync.writer import ChangeWriter

_writer = ChangeWriter(build_registry())


async def create(db: Database, entity: str, values: dict[str, Any]) -> dict[str, Any]:
    """Insert one syncable record; returns its wire dict."""
    async with db.transaction() as session:
        return await _writer.create(session, entity, {"id": new_id(), **values}, principal=None)


async def make_territory(
    db: Database, level: str = "region", parent_id: uuid.UUID | None = None, **overrides: Any
) -> uuid.UUID:
    """A territory node; returns its id."""
    values = {"name": f"{level} {uuid.uuid4().hex[:6]}", "level": level, "parent_id": parent_id}
    record = await create(db, "territory", {**values, **overrides})
    return uuid.UUID(record["id"])


async def make_tree(db: Database) -> dict[str, uuid.UUID]:
    """north (region) -> n1 (area) -> {n1a, n1b} (territories); south (region) -> s1 -> s1a."""
    north = await make_territory(db, "region", name="north")
    n1 = await make_territory(db, "area", north, name="n1")
    n1a = await make_territory(db, "territory", n1, name="n1a")
    n1b = await make_territory(db, "territory", n1, name="n1b")
    south = await make_territory(db, "region", name="south")
    s1 = await make_territory(db, "area", south, name="s1")
    s1a = await make_territory(db, "territory", s1, name="s1a")
    return {"north": north, "n1": n1, "n1a": n1a, "n1b": n1b, "south": south, "s1": s1, "s1a": s1a}


async def add_member(db: Database, territory_id: uuid.UUID, user_id: uuid.UUID) -> None:
    """Attach a user to a territory node."""
    async with db.transaction() as session:
        await session.execute(
            sa.insert(TerritoryMember.__table__).values(
                territory_id=territory_id, user_id=user_id, created_at=utcnow()
            )
        )


async def make_account(db: Database, **overrides: Any) -> uuid.UUID:
    """An account (unassigned unless told); returns its id."""
    values = {"name": f"Account {uuid.uuid4().hex[:6]}", **overrides}
    return uuid.UUID((await create(db, "account", values))["id"])


async def make_contact(db: Database, account_id: uuid.UUID, **overrides: Any) -> uuid.UUID:
    """A contact of an account; returns its id."""
    values = {"account_id": account_id, "name": f"Contact {uuid.uuid4().hex[:6]}", **overrides}
    return uuid.UUID((await create(db, "contact", values))["id"])


async def make_product(db: Database, **overrides: Any) -> uuid.UUID:
    """A product with a unique sku; returns its id."""
    values = {
        "sku": f"SKU-{uuid.uuid4().hex[:8]}",
        "name": "Widget",
        "list_price": decimal.Decimal("9.99"),
        **overrides,
    }
    return uuid.UUID((await create(db, "product", values))["id"])


async def make_warehouse(db: Database, **overrides: Any) -> uuid.UUID:
    """A warehouse with a unique code; returns its id."""
    values = {"code": f"WH-{uuid.uuid4().hex[:6]}", "name": "Main", **overrides}
    return uuid.UUID((await create(db, "warehouse", values))["id"])


async def count(db: Database, table: str) -> int:
    """Rows in a table (to prove a refused write wrote nothing)."""
    async with db.sessions() as session:
        return int((await session.execute(sa.text(f"SELECT count(*) FROM {table}"))).scalar_one())


async def walk_pages(client: Any, url: str, headers: dict[str, str], limit: int) -> list[str]:
    """Every id of a paginated list, following ``next_cursor`` to the end."""
    ids: list[str] = []
    cursor: str | None = None
    sep = "&" if "?" in url else "?"
    while True:
        query = f"{url}{sep}limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        response = await client.get(query, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body["items"]) <= limit
        ids += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            return ids
