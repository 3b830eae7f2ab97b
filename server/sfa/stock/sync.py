"""Warehouses and stock balances as read-only syncable entities.

A shared warehouse (no owner) and its balances go to every device (``global``); a van (a
warehouse with ``owner_id``) and its balances go to that rep and whoever sees the rep's own
records (their managers, admins), under the rep's user key. Balances are children of their
warehouse, so giving a van to another rep moves its stock to the new owner's devices.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from protocol.entities.stock import STOCK_BALANCE, WAREHOUSE
from server.sfa.stock.models import StockBalance, Warehouse
from server.sync.registry import GLOBAL_KEY, EntitySpec, user_key


async def warehouse_scope(_: AsyncSession, record: Mapping[str, Any]) -> str:
    """``global`` for a shared warehouse, the owner's user key for a van."""
    owner = record.get("owner_id")
    return GLOBAL_KEY if owner is None else user_key(uuid.UUID(str(owner)))


async def _balance_scope(session: AsyncSession, record: Mapping[str, Any]) -> str:
    # Used only when the parent warehouse has no engine state yet (rows written before it).
    table = cast(sa.Table, Warehouse.__table__)
    owner = await session.scalar(
        sa.select(table.c.owner_id).where(table.c.id == uuid.UUID(str(record["warehouse_id"])))
    )
    return GLOBAL_KEY if owner is None else user_key(owner)


def stock_specs() -> list[EntitySpec]:
    """``warehouse`` and ``stock_balance``."""
    return [
        EntitySpec.of(
            WAREHOUSE,
            table=cast(sa.Table, Warehouse.__table__),
            scope=warehouse_scope,
            scope_fields=frozenset({"owner_id"}),
        ),
        EntitySpec.of(
            STOCK_BALANCE,
            table=cast(sa.Table, StockBalance.__table__),
            scope=_balance_scope,
            parent=("warehouse", "warehouse_id"),
        ),
    ]
