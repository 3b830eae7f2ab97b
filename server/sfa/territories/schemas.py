"""Wire shapes of territory nodes and their members."""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec
from msgspec import UNSET, UnsetType

from protocol.entities.fields import Name
from protocol.entities.territories import TerritoryLevel, TerritoryRecord
from server.auth.models import Role
from server.sfa.inputs import Version

# The record is the shared wire definition; REST bodies use the same field types and limits.
__all__ = ["TerritoryRecord"]


class TerritoryCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """``POST /territories``: regions have no parent; areas sit in regions, territories in areas."""

    name: Name
    level: TerritoryLevel
    parent_id: uuid.UUID | None = None


class TerritoryPatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """``PATCH /territories/{id}``: rename or move under another parent of the right level."""

    name: Name | UnsetType = UNSET
    parent_id: uuid.UUID | None | UnsetType = UNSET
    version: Version | UnsetType = UNSET


class MemberRecord(msgspec.Struct, kw_only=True):
    """A user attached to a territory node."""

    territory_id: uuid.UUID
    user_id: uuid.UUID
    name: str
    email: str
    role: Role
    active: bool
    created_at: dt.datetime
