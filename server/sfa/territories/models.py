"""The territory hierarchy (region -> area -> territory) and who is attached to each node."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from protocol.entities.territories import TerritoryLevel
from rules.territory_rules import RuleKind
from server.db import Base, UTCDateTime, new_id, str_enum, utcnow

# the enums are the wire's (protocol.entities); the columns store their values
__all__ = ["RuleKind", "TerritoryLevel"]


class Territory(Base):
    __tablename__ = "territories"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(sa.String(200))
    level: Mapped[TerritoryLevel] = mapped_column(str_enum(TerritoryLevel))
    parent_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("territories.id"), index=True)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class TerritoryMember(Base):
    """A rep or manager attached to a territory node (a manager sees the whole subtree)."""

    __tablename__ = "territory_members"

    territory_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("territories.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class TerritoryRule(Base):
    """An assignment rule: accounts it matches go to ``territory_id`` (and ``owner_id``).

    Rules are tried by ascending ``priority`` (ties by id); see ``rules.territory_rules``.
    """

    __tablename__ = "territory_rules"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    territory_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("territories.id", ondelete="CASCADE"), index=True
    )
    owner_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    priority: Mapped[int] = mapped_column(default=100)
    kind: Mapped[RuleKind] = mapped_column(str_enum(RuleKind))
    value: Mapped[str] = mapped_column(sa.String(100), default="")
    # [[latitude, longitude], ...] for a polygon rule
    polygon: Mapped[list[list[float]] | None] = mapped_column(sa.JSON)
    center_latitude: Mapped[float | None] = mapped_column(sa.Float)
    center_longitude: Mapped[float | None] = mapped_column(sa.Float)
    radius_m: Mapped[float | None] = mapped_column(sa.Float)
    active: Mapped[bool] = mapped_column(default=True)
    created_by: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class RealignmentPlan(Base):
    """A previewed reassignment of accounts by the rules, and whether it was applied (the audit
    trail: who planned it, who applied it, when, and exactly what it moved)."""

    __tablename__ = "realignment_plans"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    territory_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)  # the plan's restriction
    fingerprint: Mapped[str] = mapped_column(sa.String(64))
    plan: Mapped[dict[str, Any]] = mapped_column(sa.JSON)  # the preview as answered
    status: Mapped[str] = mapped_column(sa.String(20), default="planned")
    created_by: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    applied_by: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    applied_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
