"""The territory hierarchy (region -> area -> territory) and who is attached to each node."""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from protocol.entities.territories import TerritoryLevel
from server.db import Base, UTCDateTime, new_id, str_enum, utcnow

# the enums are the wire's (protocol.entities); the columns store their values
__all__ = ["TerritoryLevel"]


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
