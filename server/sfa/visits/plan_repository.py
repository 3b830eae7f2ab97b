"""Named queries of visit planning: the reps to plan for, and each account's anchor days."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa

from protocol.entities.accounts import LifecycleStage
from server.auth.models import User
from server.sfa.scopes import Visibility
from server.sfa.visits.models import Approval, VisitStatus
from server.sfa.visits.repository import accounts, visits

# a visit that counts: it happened and needs no approval, or was approved (rules.visits)
COUNTED = sa.and_(
    visits.c.status.in_([VisitStatus.CHECKED_IN, VisitStatus.COMPLETED]),
    visits.c.approval.in_([Approval.NONE, Approval.APPROVED]),
)


def active_reps() -> sa.Select[uuid.UUID, str]:
    """Every active rep with their time zone, by id."""
    return (
        sa.select(User.id, User.timezone)
        .where(User.role == "rep", User.active.is_(True))
        .order_by(User.id)
    )


def lock_rep(rep_id: uuid.UUID) -> sa.Select[Any]:
    """The rep's row, locked: two planners never plan the same rep at once (PostgreSQL)."""
    return sa.select(User.id).where(User.id == rep_id).with_for_update()


def _last_visit() -> sa.ScalarSelect[Any]:
    return (
        sa.select(sa.func.max(visits.c.check_in_at))
        .where(visits.c.account_id == accounts.c.id, COUNTED)
        .scalar_subquery()
    )


def _last_plan() -> sa.ScalarSelect[Any]:
    return (
        sa.select(sa.func.max(visits.c.planned_at))
        .where(visits.c.account_id == accounts.c.id, visits.c.status == VisitStatus.PLANNED)
        .scalar_subquery()
    )


def accounts_to_plan(rep_id: uuid.UUID) -> sa.Select[Any]:
    """The rep's accounts (owner, not churned) with their tier, last counted visit and latest
    open plan (by anyone: a plan of the account is a plan)."""
    return (
        sa.select(
            accounts.c.id,
            accounts.c.value_tier,
            _last_visit().label("last_visit_at"),
            _last_plan().label("last_planned_at"),
        )
        .where(accounts.c.owner_id == rep_id, accounts.c.lifecycle_stage != LifecycleStage.CHURNED)
        .order_by(accounts.c.id)
    )


def visible_accounts_with_last_visit(seen: Visibility, rep_id: uuid.UUID | None) -> sa.Select[Any]:
    """The visible owned accounts (of ``rep_id`` if given) with their last counted visit."""
    statement = sa.select(
        accounts.c.id,
        accounts.c.name,
        accounts.c.value_tier,
        accounts.c.owner_id,
        _last_visit().label("last_visit_at"),
    ).where(
        seen.account_filter(accounts.c.territory_id, accounts.c.owner_id),
        accounts.c.owner_id.is_not(None),
        accounts.c.lifecycle_stage != LifecycleStage.CHURNED,
    )
    if rep_id is not None:
        statement = statement.where(accounts.c.owner_id == rep_id)
    return statement.order_by(accounts.c.id)
