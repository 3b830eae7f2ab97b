"""Wire shapes of realignment plans (``/territories/realignments``)."""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec


class RealignmentRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """``POST /territories/realignments``: re-run the rules over the accounts in reach
    (only those in or moving into ``territory_id`` when it is given)."""

    territory_id: uuid.UUID | None = None


class AccountMove(msgspec.Struct, kw_only=True):
    """One account the plan moves, with how many records go with it (itself included)."""

    account_id: uuid.UUID
    version: int
    from_territory_id: uuid.UUID | None
    from_owner_id: uuid.UUID | None
    to_territory_id: uuid.UUID | None
    to_owner_id: uuid.UUID | None
    rule_id: uuid.UUID
    records: int


class HolderChange(msgspec.Struct, kw_only=True):
    """Accounts a territory or a rep gains and loses."""

    id: uuid.UUID
    gained: list[uuid.UUID]
    lost: list[uuid.UUID]


class DeviceImpact(msgspec.Struct, kw_only=True):
    """What one device will receive and evict at its next pull once the plan is applied."""

    device_id: uuid.UUID
    user_id: uuid.UUID
    receive: int
    evict: int


class RealignmentPlanRecord(msgspec.Struct, kw_only=True):
    """A realignment preview; ``status`` is ``planned`` until applied."""

    id: uuid.UUID
    status: str
    territory_id: uuid.UUID | None
    created_by: uuid.UUID
    created_at: dt.datetime
    applied_by: uuid.UUID | None = None
    applied_at: dt.datetime | None = None
    moves: list[AccountMove]
    territories: list[HolderChange]
    reps: list[HolderChange]
    devices: list[DeviceImpact]
