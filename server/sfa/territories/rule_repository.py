"""Queries of territory assignment rules (SQLAlchemy Core)."""

from __future__ import annotations

import uuid
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from rules.territory_rules import AssignmentRule, RuleKind
from server.sfa.territories.models import TerritoryRule

territory_rules = cast(sa.Table, TerritoryRule.__table__)


def as_rule(row: Any) -> AssignmentRule:
    """A stored rule as the pure engine's value."""
    return AssignmentRule(
        id=str(row.id),
        priority=int(row.priority),
        kind=RuleKind(row.kind),
        territory_id=str(row.territory_id),
        owner_id=None if row.owner_id is None else str(row.owner_id),
        value=row.value or "",
        polygon=tuple((float(p[0]), float(p[1])) for p in row.polygon or ()),
        center_latitude=row.center_latitude,
        center_longitude=row.center_longitude,
        radius_m=row.radius_m,
    )


class RuleRepository:
    """Named queries over assignment rules."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_rule(
        self, territory_id: uuid.UUID, rule_id: uuid.UUID, *, lock: bool = False
    ) -> sa.Row[Any] | None:
        """One rule of a territory, or None (locked FOR UPDATE with ``lock``)."""
        statement = sa.select(territory_rules).where(
            territory_rules.c.id == rule_id, territory_rules.c.territory_id == territory_id
        )
        if lock:
            statement = statement.with_for_update()
        return (await self.session.execute(statement)).first()

    async def rules_by_id(self) -> dict[uuid.UUID, dict[str, Any]]:
        """Every rule (active or not) as a dict of its columns, by id."""
        rows = (await self.session.execute(sa.select(territory_rules))).all()
        return {row.id: dict(row._mapping) for row in rows}

    async def lock_rule(self, rule_id: uuid.UUID) -> sa.Row[Any] | None:
        """One rule, whatever its territory, locked FOR UPDATE; None when it is gone."""
        statement = sa.select(territory_rules).where(territory_rules.c.id == rule_id)
        return (await self.session.execute(statement.with_for_update())).first()

    def rules_statement(self, territory_id: uuid.UUID) -> sa.Select[Any]:
        """The rules of one territory (the pager orders them by id)."""
        return sa.select(territory_rules).where(territory_rules.c.territory_id == territory_id)

    async def active_rules(self) -> list[AssignmentRule]:
        """Every active rule, in the order they are tried."""
        statement = (
            sa.select(territory_rules)
            .where(territory_rules.c.active.is_(True))
            .order_by(territory_rules.c.priority, territory_rules.c.id)
        )
        return [as_rule(row) for row in (await self.session.execute(statement)).all()]

    async def insert_rule(self, values: dict[str, Any]) -> sa.Row[Any]:
        """Store a new rule; returns its row."""
        statement = sa.insert(territory_rules).values(**values).returning(*territory_rules.c)
        return (await self.session.execute(statement)).one()

    async def update_rule(self, rule_id: uuid.UUID, values: dict[str, Any]) -> sa.Row[Any]:
        """Change a rule (its version bumped); returns its row."""
        statement = (
            sa.update(territory_rules)
            .where(territory_rules.c.id == rule_id)
            .values(**values, version=territory_rules.c.version + 1)
            .returning(*territory_rules.c)
        )
        return (await self.session.execute(statement)).one()

    async def delete_rule(self, rule_id: uuid.UUID) -> None:
        """Remove a rule (assignments it made keep naming it in the history)."""
        await self.session.execute(
            sa.delete(territory_rules).where(territory_rules.c.id == rule_id)
        )
