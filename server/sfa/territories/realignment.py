"""Realignment: re-run the assignment rules over the accounts in reach, preview, then apply.

A preview computes every move (an account whose first matching rule now places it elsewhere;
manual assignments are left alone), what each territory and rep gains and loses, and per active
device the records it will receive and evict (each account with everything under it). It is
stored with a fingerprint of the moves (account ids, versions, targets); applying it recomputes
the moves in the applying transaction and refuses (409 ``plan_stale``) when they differ.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import defaultdict
from typing import Any, cast

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from rules.territory_rules import AssignmentCause, first_match
from server.auth.models import Device, User
from server.db import new_id, utcnow
from server.errors import Conflict, NotFound
from server.sfa.accounts.assignment import (
    AssignmentRepository,
    Placement,
    assignments,
    facts_of,
)
from server.sfa.accounts.models import Account
from server.sfa.area_service import AreaService
from server.sfa.scopes import Visibility, account_key, visibility
from server.sfa.territories.models import RealignmentPlan
from server.sfa.territories.realignment_schemas import (
    AccountMove,
    DeviceImpact,
    HolderChange,
    RealignmentPlanRecord,
    RealignmentRequest,
)
from server.sfa.territories.rule_repository import RuleRepository
from server.sync import relocation
from server.sync.registry import Principal

_accounts = cast(sa.Table, Account.__table__)
_plans = cast(sa.Table, RealignmentPlan.__table__)
_devices = cast(sa.Table, Device.__table__)
_users = cast(sa.Table, User.__table__)
_RULE_COLUMNS = ("postal_code", "city", "region", "segment", "industry", "value_tier")


class RealignmentService(AreaService):
    """Preview and apply reassignments of accounts by the rules."""

    async def preview(self, data: RealignmentRequest) -> RealignmentPlanRecord:
        """Compute and store a plan; nothing moves yet."""
        async with self.db.transaction() as session:
            moves = await self._moves(session, data.territory_id)
            record = RealignmentPlanRecord(
                id=new_id(),
                status="planned",
                territory_id=data.territory_id,
                created_by=self.principal.user_id,
                created_at=utcnow(),
                moves=moves,
                territories=_holder_changes(moves, "territory_id"),
                reps=_holder_changes(moves, "owner_id"),
                devices=await self._devices(session, moves),
            )
            await session.execute(
                sa.insert(_plans).values(
                    id=record.id,
                    territory_id=data.territory_id,
                    fingerprint=_fingerprint(moves),
                    plan=msgspec.to_builtins(record),
                    status="planned",
                    created_by=record.created_by,
                    created_at=record.created_at,
                )
            )
        return record

    async def get_plan(self, plan_id: uuid.UUID) -> RealignmentPlanRecord:
        """A stored plan (its creator's, or any for admins)."""
        async with self.db.reading() as session:
            row = await self._plan(session, plan_id, lock=False)
        return _record_of(row)

    async def apply(self, plan_id: uuid.UUID) -> RealignmentPlanRecord:
        """Apply a plan in one transaction: every move through the change writer (old holders
        get ``evict``, new ones the records) with its history row; 409 when it is stale."""
        async with self.db.transaction() as session:
            row = await self._plan(session, plan_id, lock=True)
            if row.status != "planned":
                raise Conflict("this plan was already applied", field="id", code="plan_applied")
            moves = await self._moves(session, row.territory_id, lock=True)
            if _fingerprint(moves) != row.fingerprint:
                raise Conflict(
                    "the accounts or rules changed since the preview: preview again",
                    field="id",
                    code="plan_stale",
                )
            now = utcnow()
            changes: dict[uuid.UUID, dict[str, Any]] = {}
            for move in moves:
                changes[move.account_id] = {"territory_id": move.to_territory_id}
                if move.to_owner_id != move.from_owner_id:
                    changes[move.account_id]["owner_id"] = move.to_owner_id
            # set-based: the accounts, their children's keys and the change log in bulk
            await relocation.update_many(self.writer, session, "account", changes)
            await AssignmentRepository(session).record_many(
                [
                    Placement(
                        move.account_id,
                        move.to_territory_id,
                        move.to_owner_id,
                        AssignmentCause.RULE,
                        move.rule_id,
                    )
                    for move in moves
                ],
                by=self.principal.user_id,
                now=now,
            )
            record = _record_of(row)
            record.status, record.applied_by, record.applied_at = (
                "applied",
                self.principal.user_id,
                now,
            )
            await session.execute(
                sa.update(_plans)
                .where(_plans.c.id == plan_id)
                .values(
                    status="applied",
                    applied_by=self.principal.user_id,
                    applied_at=now,
                    plan=msgspec.to_builtins(record),
                )
            )
        return record

    async def _plan(self, session: AsyncSession, plan_id: uuid.UUID, *, lock: bool) -> Any:
        statement = sa.select(_plans).where(_plans.c.id == plan_id)
        if lock:
            statement = statement.with_for_update()
        row = (await session.execute(statement)).first()
        mine = row is not None and (
            self.principal.role == "admin" or row.created_by == self.principal.user_id
        )
        if not mine:
            raise NotFound(f"plan {plan_id} not found", field="id")
        return row

    async def _moves(
        self, session: AsyncSession, territory_id: uuid.UUID | None, *, lock: bool = False
    ) -> list[AccountMove]:
        seen = await visibility(session, self.principal)
        if territory_id is not None and not (seen.everything or territory_id in seen.territory_ids):
            raise NotFound(f"territory {territory_id} not found", field="territory_id")
        rules = await RuleRepository(session).active_rules()
        manual = sa.select(assignments.c.account_id).where(
            assignments.c.valid_to.is_(None), assignments.c.excluded_from_realignment.is_(True)
        )
        c = _accounts.c
        statement = (
            sa.select(
                c.id,
                c.version,
                c.territory_id,
                c.owner_id,
                c.latitude,
                c.longitude,
                *(c[name] for name in _RULE_COLUMNS),
            )
            .where(seen.account_filter(c.territory_id, c.owner_id), c.id.not_in(manual))
            .order_by(c.id)
        )
        if lock:
            # NO KEY UPDATE: a child being created under an account (its foreign-key check
            # shares the account's row) is not blocked, so it cannot deadlock with the move
            statement = statement.with_for_update(key_share=True)
        moves: list[AccountMove] = []
        for row in (await session.execute(statement)).all():
            rule = first_match(rules, facts_of(dict(row._mapping)))
            if rule is None:
                continue
            target = uuid.UUID(rule.territory_id)
            if not _reaches(seen, target):
                continue
            owner = uuid.UUID(rule.owner_id) if rule.owner_id is not None else row.owner_id
            if target == row.territory_id and owner == row.owner_id:
                continue
            if territory_id is not None and territory_id not in (row.territory_id, target):
                continue
            moves.append(
                AccountMove(
                    account_id=row.id,
                    version=int(row.version),
                    from_territory_id=row.territory_id,
                    from_owner_id=row.owner_id,
                    to_territory_id=target,
                    to_owner_id=owner,
                    rule_id=uuid.UUID(rule.id),
                    records=1,
                )
            )
        descendants = await self._descendants(session, "account", [m.account_id for m in moves])
        for move in moves:
            move.records += descendants.get(move.account_id, 0)
        return moves

    async def _descendants(
        self, session: AsyncSession, entity: str, ids: list[uuid.UUID]
    ) -> dict[uuid.UUID, int]:
        """How many records live under each of ``ids`` (recursively, every declared child)."""
        counts: dict[uuid.UUID, int] = defaultdict(int)
        if not ids:
            return counts
        for child, fk in self.writer.registry.children_of(entity):
            rows = (
                await session.execute(
                    sa.select(child.table.c.id, child.table.c[fk]).where(child.table.c[fk].in_(ids))
                )
            ).all()
            below = await self._descendants(session, child.name, [r[0] for r in rows])
            for child_id, parent_id in rows:
                counts[parent_id] += 1 + below.get(child_id, 0)
        return counts

    async def _devices(self, session: AsyncSession, moves: list[AccountMove]) -> list[DeviceImpact]:
        """Per active device of an active user: records it will receive and evict."""
        if not moves:
            return []
        statement = (
            sa.select(_devices.c.id, _users.c.id, _users.c.role)
            .join(_users, _users.c.id == _devices.c.user_id)
            .where(_devices.c.active.is_(True), _users.c.active.is_(True))
            .order_by(_devices.c.id)
        )
        keys_of: dict[uuid.UUID, frozenset[str]] = {}
        impacts: list[DeviceImpact] = []
        for device_id, user_id, role in (await session.execute(statement)).all():
            if user_id not in keys_of:
                principal = Principal(user_id=user_id, role=str(getattr(role, "value", role)))
                keys_of[user_id] = await self.writer.registry.scope_keys(session, principal)
            keys = keys_of[user_id]
            receive = evict = 0
            for move in moves:
                old = account_key(move.from_territory_id, move.from_owner_id) in keys
                new = account_key(move.to_territory_id, move.to_owner_id) in keys
                receive += move.records if new and not old else 0
                evict += move.records if old and not new else 0
            if receive or evict:
                impacts.append(
                    DeviceImpact(device_id=device_id, user_id=user_id, receive=receive, evict=evict)
                )
        return impacts


def _reaches(seen: Visibility, territory_id: uuid.UUID) -> bool:
    return seen.everything or territory_id in seen.territory_ids


def _holder_changes(moves: list[AccountMove], field: str) -> list[HolderChange]:
    gained: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    lost: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    for move in moves:
        before, after = getattr(move, f"from_{field}"), getattr(move, f"to_{field}")
        if before == after:
            continue
        if after is not None:
            gained[after].append(move.account_id)
        if before is not None:
            lost[before].append(move.account_id)
    return [
        HolderChange(id=holder, gained=gained.get(holder, []), lost=lost.get(holder, []))
        for holder in sorted(set(gained) | set(lost))
    ]


def _fingerprint(moves: list[AccountMove]) -> str:
    digest = hashlib.sha256()
    for move in moves:
        digest.update(
            f"{move.account_id}:{move.version}:{move.to_territory_id}:{move.to_owner_id}:"
            f"{move.rule_id};".encode()
        )
    return digest.hexdigest()


def _record_of(row: Any) -> RealignmentPlanRecord:
    record = msgspec.convert(row.plan, RealignmentPlanRecord)
    record.status = row.status
    record.applied_by, record.applied_at = row.applied_by, row.applied_at
    return record
