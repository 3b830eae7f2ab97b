"""The read-only ``territory`` record (a node of the territory tree)."""

from __future__ import annotations

import datetime as dt
import enum
import uuid

import msgspec

from protocol.entities.definition import EntityDef
from protocol.entities.fields import Name


class TerritoryLevel(enum.StrEnum):
    REGION = "region"
    AREA = "area"
    TERRITORY = "territory"


class TerritoryRecord(msgspec.Struct, kw_only=True):
    """A node of the territory tree."""

    id: uuid.UUID
    name: Name
    level: TerritoryLevel
    parent_id: uuid.UUID | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


TERRITORY = EntityDef(name="territory", record=TerritoryRecord, writable=False, deletable=False)
