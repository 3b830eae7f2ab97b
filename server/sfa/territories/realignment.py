"""Realignment: re-run the assignment rules over the accounts in reach, preview, then apply.

A request may also change the rules (previewed in memory, saved when the plan is applied) and
move accounts by hand (``plan_inputs``). A preview computes every move (an account whose first
matching rule now places it elsewhere, manual assignments left alone; and the explicit moves,
which override the rules), what each territory and rep gains and loses, and per active device
the records it will receive and evict (each account with everything under it). It is stored
with a fingerprint of the moves (account ids, versions, targets); applying it saves the rule
changes, recomputes the moves in the applying transaction and refuses (409 ``plan_stale``) when
they differ. The moves are then written in bulk (``server.sync.relocation``).
"""

from __future__ import annotations

import uuid
from typing import Any, cast

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from rules.territory_rules import AssignmentCause, AssignmentRule, first_match
from server.db import new_id, row_by_id, utcnow
from server.errors import Conflict, NotFound
from server.notifications.sync_push import request_sync
from server.sfa.accounts.assignment import (
    AssignmentRepository,
    Placement,
    assignments,
    facts_of,
)
from server.sfa.accounts.models import Account
from server.sfa.area_service import AreaService
from server.sfa.scopes import Visibility, visibility
from server.sfa.territories.models import RealignmentPlan
from server.sfa.territories.plan_inputs import manual_moves, proposed_rules, save_rule_changes
from server.sfa.territories.realignment_impact import (
    descendants,
    device_impacts,
    fingerprint,
    holder_changes,
    rescoped_users,
)
from server.sfa.territories.realignment_schemas import (
    AccountMove,
    RealignmentPlanRecord,
    RealignmentRequest,
)
from server.sfa.territories.rule_repository import RuleRepository
from server.sync import relocation
from server.sync.bulk import rows_by_id

_accounts = cast(sa.Table, Account.__table__)
_plans = cast(sa.Table, RealignmentPlan.__table__)
_RULE_COLUMNS = ("postal_code", "city", "region", "segment", "industry", "value_tier")


class RealignmentService(AreaService):
    """Preview and apply reassignments of accounts by the rules."""

    async def preview(self, data: RealignmentRequest) -> RealignmentPlanRecord:
        """Compute and store a plan; nothing moves yet (and no rule is saved)."""
        async with self.db.transaction() as session:
            seen = await self._reach(session, data.territory_id)
            rules, completed = await proposed_rules(session, seen, data.rules)
            request = msgspec.structs.replace(data, rules=completed)
            moves = await self._moves(session, seen, request, rules)
            counts = await descendants(
                session, self.writer.registry, "account", [m.account_id for m in moves]
            )
            for move in moves:
                move.records += counts.get(move.account_id, 0)
            record = RealignmentPlanRecord(
                id=new_id(),
                status="planned",
                territory_id=data.territory_id,
                request=request,
                created_by=self.principal.user_id,
                created_at=utcnow(),
                moves=moves,
                territories=holder_changes(moves, "territory_id"),
                reps=holder_changes(moves, "owner_id"),
                devices=await device_impacts(session, self.writer.registry, moves),
            )
            await session.execute(
                sa.insert(_plans).values(
                    id=record.id,
                    territory_id=data.territory_id,
                    fingerprint=fingerprint(moves),
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
            record = _record_of(row)
            now = utcnow()
            seen = await self._reach(session, record.territory_id)
            await save_rule_changes(
                session, record.request.rules, by=self.principal.user_id, now=now
            )
            rules = await RuleRepository(session).active_rules()
            moves = await self._moves(session, seen, record.request, rules, lock=True)
            if fingerprint(moves) != row.fingerprint:
                raise _stale()
            changes: dict[uuid.UUID, dict[str, Any]] = {}
            for move in moves:
                changes[move.account_id] = {"territory_id": move.to_territory_id}
                if move.to_owner_id != move.from_owner_id:
                    changes[move.account_id]["owner_id"] = move.to_owner_id
            # set-based: the accounts, their children's keys and the change log in bulk
            await relocation.update_many(self.writer, session, "account", changes)
            await request_sync(session, await rescoped_users(session, self.writer.registry, moves))
            await AssignmentRepository(session).record_many(
                [
                    Placement(
                        move.account_id,
                        move.to_territory_id,
                        move.to_owner_id,
                        AssignmentCause(move.cause),
                        move.rule_id,
                        move.excluded_from_realignment,
                    )
                    for move in moves
                ],
                by=self.principal.user_id,
                now=now,
            )
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
        row = await row_by_id(session, _plans, plan_id, lock=lock)
        mine = row is not None and (
            self.principal.role == "admin" or row.created_by == self.principal.user_id
        )
        if not mine:
            raise NotFound(f"plan {plan_id} not found", field="id")
        return row

    async def _reach(self, session: AsyncSession, territory_id: uuid.UUID | None) -> Visibility:
        seen = await visibility(session, self.principal)
        if territory_id is not None and not _reaches(seen, territory_id):
            raise NotFound(f"territory {territory_id} not found", field="territory_id")
        return seen

    async def _moves(
        self,
        session: AsyncSession,
        seen: Visibility,
        request: RealignmentRequest,
        rules: list[AssignmentRule],
        *,
        lock: bool = False,
    ) -> list[AccountMove]:
        """The explicit moves, then every other account in reach whose assignment is not
        manual and whose first matching rule places it elsewhere, in account-id order."""
        territory_id = request.territory_id
        moves = [
            move
            for move in await manual_moves(session, seen, request.moves, lock=lock)
            if territory_id is None
            or territory_id in (move.from_territory_id, move.to_territory_id)
        ]
        named = [move.account_id for move in request.moves]
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
        if named:
            statement = statement.where(c.id.not_in(named))
        result = await session.execute(statement) if rules else None
        names = list(result.keys()) if result is not None else []
        for row in result.all() if result is not None else []:
            # zip with the names once read: ``row._mapping`` builds a key view per row
            rule = first_match(rules, facts_of(dict(zip(names, row, strict=True))))
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
        moves.sort(key=lambda move: move.account_id)
        if lock:
            await _lock_unchanged(session, [m for m in moves if m.cause == "rule"])
        return moves


async def _lock_unchanged(session: AsyncSession, moves: list[AccountMove]) -> None:
    """Lock the accounts the rules move (only those: the scan that found them takes no lock)
    and refuse the plan when one changed between the scan and the lock."""
    # NO KEY UPDATE: a child being created under an account (its foreign-key check shares
    # the account's row) is not blocked, so it cannot deadlock with the move
    rows = await rows_by_id(session, _accounts, [m.account_id for m in moves], lock=True)
    locked = {row.id: int(row.version) for row in rows}
    if any(locked.get(move.account_id) != move.version for move in moves):
        raise _stale()


def _stale() -> Conflict:
    return Conflict(
        "the accounts or rules changed since the preview: preview again",
        field="id",
        code="plan_stale",
    )


def _reaches(seen: Visibility, territory_id: uuid.UUID) -> bool:
    return seen.everything or territory_id in seen.territory_ids


def _record_of(row: Any) -> RealignmentPlanRecord:
    record = msgspec.convert(row.plan, RealignmentPlanRecord)
    record.status = row.status
    record.applied_by, record.applied_at = row.applied_by, row.applied_at
    return record
