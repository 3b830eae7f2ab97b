"""Wire shapes of territory assignment rules (``/territories/{id}/rules``)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

import msgspec
from msgspec import UNSET, UnsetType

from protocol.entities.fields import Latitude, Longitude, Text100
from rules.territory_rules import MAX_POLYGON_VERTICES, MAX_RADIUS_M, RuleKind
from server.sfa.inputs import Version

Priority = Annotated[int, msgspec.Meta(ge=0, le=1_000_000, description="Lower is tried first")]
Vertex = Annotated[list[float], msgspec.Meta(min_length=2, max_length=2)]
Polygon = Annotated[
    list[Vertex],
    msgspec.Meta(
        min_length=3,
        max_length=MAX_POLYGON_VERTICES,
        description="[[latitude, longitude], ...], implicitly closed",
    ),
]
Radius = Annotated[float, msgspec.Meta(gt=0, le=MAX_RADIUS_M)]


class RuleCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """``POST /territories/{id}/rules``: the parameters the rule's ``kind`` needs."""

    kind: RuleKind
    priority: Priority = 100
    value: Text100 = ""
    polygon: Polygon | None = None
    center_latitude: Latitude | None = None
    center_longitude: Longitude | None = None
    radius_m: Radius | None = None
    owner_id: uuid.UUID | None = None
    active: bool = True


class RulePatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """``PATCH /territories/{id}/rules/{rule_id}``: only the fields sent are changed."""

    kind: RuleKind | UnsetType = UNSET
    priority: Priority | UnsetType = UNSET
    value: Text100 | UnsetType = UNSET
    polygon: Polygon | None | UnsetType = UNSET
    center_latitude: Latitude | None | UnsetType = UNSET
    center_longitude: Longitude | None | UnsetType = UNSET
    radius_m: Radius | None | UnsetType = UNSET
    owner_id: uuid.UUID | None | UnsetType = UNSET
    active: bool | UnsetType = UNSET
    version: Version | UnsetType = UNSET


class RuleRecord(msgspec.Struct, kw_only=True):
    """An assignment rule as stored."""

    id: uuid.UUID
    territory_id: uuid.UUID
    owner_id: uuid.UUID | None
    priority: int
    kind: RuleKind
    value: str
    polygon: list[list[float]] | None
    center_latitude: float | None
    center_longitude: float | None
    radius_m: float | None
    active: bool
    created_by: uuid.UUID | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
