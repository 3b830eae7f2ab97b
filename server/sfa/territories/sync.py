"""Territory nodes as a read-only syncable entity: a user's device holds the nodes they hold."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from protocol.entities.territories import TERRITORY
from server.sfa.scopes import territory_key
from server.sfa.territories.models import Territory
from server.sync.registry import EntitySpec


async def territory_scope(_: AsyncSession, record: Mapping[str, Any]) -> str:
    """A node is held by whoever holds its key (its members, ancestors' members, admins)."""
    return territory_key(record["id"])


def territory_specs() -> list[EntitySpec]:
    """``territory``."""
    return [
        EntitySpec.of(TERRITORY, table=cast(sa.Table, Territory.__table__), scope=territory_scope)
    ]
