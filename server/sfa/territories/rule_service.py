"""Assignment rules of a territory: managers edit those of their subtree, admins all of them."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from rules.territory_rules import RuleKind, rule_problem
from server.db import new_id, utcnow
from server.errors import NotFound, PreconditionFailed, ValidationFailed
from server.pagination import Page, fetch_page
from server.sfa.area_service import AreaService
from server.sfa.inputs import record_of, sent_fields
from server.sfa.scopes import visibility
from server.sfa.territories.repository import TerritoryRepository
from server.sfa.territories.rule_repository import RuleRepository, territory_rules
from server.sfa.territories.rule_schemas import RuleCreate, RulePatch, RuleRecord

OWNER_ROLES = frozenset({"rep", "manager"})


class TerritoryRuleService(AreaService):
    """CRUD of the rules that assign accounts to one territory."""

    async def list_rules(
        self, territory_id: uuid.UUID, *, cursor: str | None, limit: int | None
    ) -> Page[RuleRecord]:
        """One page of a territory's rules, ordered by id."""
        size = self._limit(limit)
        async with self.db.reading() as session:
            await self._territory(session, territory_id)
            statement = RuleRepository(session).rules_statement(territory_id)
            rows, nxt = await fetch_page(
                session, statement, territory_rules.c.id, cursor=cursor, limit=size
            )
        return Page(items=[record_of(RuleRecord, r) for r in rows], next_cursor=nxt)

    async def get_rule(self, territory_id: uuid.UUID, rule_id: uuid.UUID) -> RuleRecord:
        """One rule."""
        async with self.db.reading() as session:
            await self._territory(session, territory_id)
            row = await self._rule(session, territory_id, rule_id)
        return record_of(RuleRecord, row)

    async def create_rule(self, territory_id: uuid.UUID, data: RuleCreate) -> RuleRecord:
        """Add a rule to a territory."""
        values = sent_fields(data)
        async with self.db.transaction() as session:
            await self._territory(session, territory_id)
            await check_rule(session, values, values)
            now = utcnow()
            row = await RuleRepository(session).insert_rule(
                {
                    **values,
                    "id": new_id(),
                    "territory_id": territory_id,
                    "created_by": self.principal.user_id,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        return record_of(RuleRecord, row)

    async def update_rule(
        self,
        territory_id: uuid.UUID,
        rule_id: uuid.UUID,
        data: RulePatch,
        *,
        expected: frozenset[int] | None = None,
    ) -> RuleRecord:
        """Change the fields sent; the rule as a whole must still fit its kind."""
        changes = sent_fields(data)
        async with self.db.transaction() as session:
            await self._territory(session, territory_id)
            row = await self._rule(session, territory_id, rule_id, lock=True)
            _check_version(row, expected)
            if not changes:
                return record_of(RuleRecord, row)
            await check_rule(session, {**dict(row._mapping), **changes}, changes)
            row = await RuleRepository(session).update_rule(
                rule_id, {**changes, "updated_at": utcnow()}
            )
        return record_of(RuleRecord, row)

    async def delete_rule(
        self, territory_id: uuid.UUID, rule_id: uuid.UUID, *, expected: frozenset[int] | None
    ) -> None:
        """Remove a rule; accounts it assigned stay where they are."""
        async with self.db.transaction() as session:
            await self._territory(session, territory_id)
            row = await self._rule(session, territory_id, rule_id, lock=True)
            _check_version(row, expected)
            await RuleRepository(session).delete_rule(rule_id)

    async def _territory(self, session: AsyncSession, territory_id: uuid.UUID) -> None:
        # a territory outside the caller's subtree answers like a missing one
        seen = await visibility(session, self.principal)
        exists = await TerritoryRepository(session).get_territory(territory_id)
        if exists is None or not (seen.everything or territory_id in seen.territory_ids):
            raise NotFound(f"territory {territory_id} not found", field="territory_id")

    async def _rule(
        self,
        session: AsyncSession,
        territory_id: uuid.UUID,
        rule_id: uuid.UUID,
        *,
        lock: bool = False,
    ) -> sa.Row[Any]:
        row = await RuleRepository(session).get_rule(territory_id, rule_id, lock=lock)
        if row is None:
            raise NotFound(f"rule {rule_id} not found", field="id")
        return row


async def check_rule(
    session: AsyncSession, state: dict[str, Any], changed: dict[str, Any], *, prefix: str = ""
) -> None:
    """422 unless the rule ``state`` fits its kind and a changed owner is an active rep or
    manager; ``prefix`` goes before the offending field's name (``rules.2.``)."""
    problem = rule_problem(
        RuleKind(state["kind"]),
        state.get("value") or "",
        state.get("polygon"),
        (state.get("center_latitude"), state.get("center_longitude")),
        state.get("radius_m"),
    )
    if problem is not None:
        raise ValidationFailed(problem[1], field=prefix + problem[0])
    owner_id = changed.get("owner_id")
    if owner_id is not None:
        status = await TerritoryRepository(session).user_status(owner_id)
        if status is None or status[0] not in OWNER_ROLES or not status[1]:
            raise ValidationFailed(
                "owner must be an active rep or manager", field=prefix + "owner_id"
            )


def _check_version(row: Any, expected: frozenset[int] | None) -> None:
    if expected is not None and int(row.version) not in expected:
        raise PreconditionFailed(
            f"rule {row.id} has changed: it is at version {row.version}",
            field="version",
            data={"version": int(row.version)},
        )
