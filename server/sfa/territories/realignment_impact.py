"""What a realignment plan changes for its holders: the records under each moved account, the
accounts each territory and rep gains and loses, what each device will receive and evict, and
the fingerprint that tells an applied plan from a stale one."""

from __future__ import annotations

import hashlib
import uuid
from collections import defaultdict
from typing import cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.models import Device, User
from server.sfa.scopes import account_key
from server.sfa.territories.realignment_schemas import AccountMove, DeviceImpact, HolderChange
from server.sync.bulk import any_of, chunks
from server.sync.registry import Principal, SyncRegistry

_devices = cast(sa.Table, Device.__table__)
_users = cast(sa.Table, User.__table__)


async def descendants(
    session: AsyncSession, registry: SyncRegistry, entity: str, ids: list[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """How many records live under each of ``ids`` (recursively, every declared child)."""
    counts: dict[uuid.UUID, int] = defaultdict(int)
    if not ids:
        return counts
    for child, fk in registry.children_of(entity):
        column = child.table.c[fk]
        rows: list[tuple[uuid.UUID, uuid.UUID]] = []
        for chunk in chunks(ids):
            statement = sa.select(child.table.c.id, column).where(any_of(session, column, chunk))
            rows.extend((r[0], r[1]) for r in (await session.execute(statement)).all())
        below = await descendants(session, registry, child.name, [r[0] for r in rows])
        for child_id, parent_id in rows:
            counts[parent_id] += 1 + below.get(child_id, 0)
    return counts


async def device_impacts(
    session: AsyncSession, registry: SyncRegistry, moves: list[AccountMove]
) -> list[DeviceImpact]:
    """Per active device of an active user: the records it will receive and evict."""
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
            keys_of[user_id] = await registry.scope_keys(session, principal)
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


def holder_changes(moves: list[AccountMove], field: str) -> list[HolderChange]:
    """Per territory (``field`` ``territory_id``) or rep (``owner_id``): accounts gained, lost."""
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


def fingerprint(moves: list[AccountMove]) -> str:
    """A digest of the moves (accounts, their versions, targets and causes)."""
    digest = hashlib.sha256()
    for move in moves:
        digest.update(
            f"{move.account_id}:{move.version}:{move.to_territory_id}:{move.to_owner_id}:"
            f"{move.rule_id}:{move.cause}:{move.excluded_from_realignment};".encode()
        )
    return digest.hexdigest()


async def rescoped_users(
    session: AsyncSession, registry: SyncRegistry, moves: list[AccountMove]
) -> set[uuid.UUID]:
    """The active users with an active device whose scope gains or loses an account of
    ``moves`` (the ones a silent "sync now" push goes to)."""
    pairs = {
        (
            account_key(move.from_territory_id, move.from_owner_id),
            account_key(move.to_territory_id, move.to_owner_id),
        )
        for move in moves
    }
    if not pairs:
        return set()
    statement = (
        sa.select(_users.c.id, _users.c.role)
        .join(_devices, _devices.c.user_id == _users.c.id)
        .where(_devices.c.active.is_(True), _users.c.active.is_(True))
        .distinct()
    )
    changed: set[uuid.UUID] = set()
    for user_id, role in (await session.execute(statement)).all():
        principal = Principal(user_id=user_id, role=str(getattr(role, "value", role)))
        keys = await registry.scope_keys(session, principal)
        if any((old in keys) != (new in keys) for old, new in pairs):
            changed.add(user_id)
    return changed
