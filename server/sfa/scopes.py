"""Who may see which accounts: scope keys of records and the keys a user holds.

Every account-shaped record has one scope key: ``t:<territory id>`` when it sits in a territory,
``u:<owner id>`` when it only has an owner, ``unassigned`` otherwise. The sync engine asks the
provider below for the keys a user holds on every pull; REST services use the same answer
(``Visibility``) so a manager sees the same accounts over HTTP as on a device.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.models import User
from server.sfa.territories.models import Territory, TerritoryMember
from server.sync.registry import Principal, user_key

UNASSIGNED_KEY = "unassigned"

_territories = cast(sa.Table, Territory.__table__)
_members = cast(sa.Table, TerritoryMember.__table__)
_users = cast(sa.Table, User.__table__)


def territory_key(territory_id: uuid.UUID | str) -> str:
    """The scope key of a territory node and of the accounts inside it."""
    return f"t:{territory_id}"


def _as_uuid(value: Any) -> uuid.UUID | None:
    if value is None or isinstance(value, uuid.UUID):
        return value
    return uuid.UUID(str(value))


def account_key(territory_id: Any, owner_id: Any) -> str:
    """The scope key of an account from its territory and owner (UUIDs or their strings)."""
    territory = _as_uuid(territory_id)
    if territory is not None:
        return territory_key(territory)
    owner = _as_uuid(owner_id)
    if owner is not None:
        return user_key(owner)
    return UNASSIGNED_KEY


@dataclass(frozen=True)
class Visibility:
    """The accounts a user may see: everything (admins), or by territory, owner and unassigned."""

    everything: bool
    territory_ids: frozenset[uuid.UUID]
    user_ids: frozenset[uuid.UUID]
    unassigned: bool

    def keys(self) -> frozenset[str]:
        """The scope keys this visibility stands for (without the engine's ``global``)."""
        keys = {territory_key(t) for t in self.territory_ids}
        keys |= {user_key(u) for u in self.user_ids}
        if self.unassigned:
            keys.add(UNASSIGNED_KEY)
        return frozenset(keys)

    def allows(self, territory_id: uuid.UUID | None, owner_id: uuid.UUID | None) -> bool:
        """May the user see an account with this territory and owner?"""
        if self.everything:
            return True
        if territory_id is not None:
            return territory_id in self.territory_ids
        if owner_id is not None:
            return owner_id in self.user_ids
        return self.unassigned

    def account_filter(
        self, territory_col: sa.ColumnElement[Any], owner_col: sa.ColumnElement[Any]
    ) -> sa.ColumnElement[bool]:
        """A WHERE clause selecting the visible accounts (mirrors ``allows``)."""
        if self.everything:
            return sa.true()
        owner_clause: sa.ColumnElement[bool] = (
            owner_col.in_(self.user_ids) if self.user_ids else sa.false()
        )
        if self.unassigned:
            owner_clause = sa.or_(owner_clause, owner_col.is_(None))
        clauses = [sa.and_(territory_col.is_(None), owner_clause)]
        if self.territory_ids:
            clauses.append(territory_col.in_(self.territory_ids))
        return sa.or_(*clauses)


def _visible_nodes_statement(manager: bool) -> sa.Select[Any] | sa.CompoundSelect[Any]:
    """``("t", id)`` for every territory node the user is a member of and all their descendants;
    for a manager also ``("u", id)`` for every direct report. Built once (module level): composing
    a recursive CTE costs more than running it, and this runs on every pull."""
    user_id = sa.bindparam("user_id", type_=_members.c.user_id.type)
    subtree = (
        sa.select(_members.c.territory_id.label("id"))
        .where(_members.c.user_id == user_id)
        .cte("subtree", recursive=True)
    )
    subtree = subtree.union(
        sa.select(_territories.c.id).join(subtree, _territories.c.parent_id == subtree.c.id)
    )
    nodes = sa.select(sa.literal("t").label("kind"), subtree.c.id)
    if not manager:
        return nodes
    reports = sa.select(sa.literal("u").label("kind"), _users.c.id).where(
        _users.c.manager_id == user_id
    )
    return sa.union_all(nodes, reports)


_REP_NODES = _visible_nodes_statement(manager=False)
_MANAGER_NODES = _visible_nodes_statement(manager=True)
# an admin's nodes: every territory, and every user (one statement, like the others)
_ADMIN_NODES = sa.union_all(
    sa.select(sa.literal("t").label("kind"), _territories.c.id),
    sa.select(sa.literal("u").label("kind"), _users.c.id),
)


async def visibility(session: AsyncSession, principal: Principal) -> Visibility:
    """What ``principal`` may see, in one indexed query (the territory tree is walked in SQL)."""
    # An admin holds every key an account can have: each territory, each user (an account with
    # an owner and no territory is under ``u:<owner>``) and ``unassigned``, so REST's
    # "everything" and the keys a device syncs are one answer.
    admin = principal.role == "admin"
    manager = principal.role == "manager"
    statement = _ADMIN_NODES if admin else _MANAGER_NODES if manager else _REP_NODES
    territories: set[uuid.UUID] = set()
    users = {principal.user_id}
    rows = await session.execute(statement, {} if admin else {"user_id": principal.user_id})
    for kind, node_id in rows.all():
        (territories if kind == "t" else users).add(node_id)
    return Visibility(admin, frozenset(territories), frozenset(users), admin or manager)


async def scope_provider(session: AsyncSession, principal: Principal) -> frozenset[str]:
    """The sync engine's scope provider: every key ``principal`` may hold."""
    return (await visibility(session, principal)).keys()


async def people_seen_by(
    session: AsyncSession, principal: Principal
) -> frozenset[uuid.UUID] | None:
    """The users whose personal records (expense reports, commission statements) ``principal``
    sees: None (everyone's) for admins; a rep their own; a manager themselves, their direct
    reports and every member of their territory subtree."""
    if principal.role == "admin":
        return None
    if principal.role != "manager":
        return frozenset({principal.user_id})
    seen = await visibility(session, principal)
    members: set[uuid.UUID] = set()
    if seen.territory_ids:
        statement = sa.select(_members.c.user_id).where(
            _members.c.territory_id.in_(seen.territory_ids)
        )
        members = set((await session.execute(statement)).scalars())
    return frozenset(members | seen.user_ids)
