"""Wire shapes of territory nodes and their members."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

import msgspec
from msgspec import UNSET, Meta, UnsetType

from server.auth.models import Role
from server.sfa.accounts.inputs import Version
from server.sfa.territories.models import TerritoryLevel

Name = Annotated[str, Meta(min_length=1, max_length=200)]


class TerritoryRecord(msgspec.Struct, kw_only=True):
    """A node of the territory tree."""

    id: uuid.UUID
    name: Name
    level: TerritoryLevel
    parent_id: uuid.UUID | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


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
