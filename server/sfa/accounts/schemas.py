"""Wire shapes of accounts and contacts: the synced record and the REST write bodies."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid

import msgspec
from msgspec import UNSET, UnsetType

from protocol.entities.accounts import (
    AccountRecord,
    ContactRecord,
    ContactRole,
    LifecycleStage,
    Segment,
    ValueTier,
)
from protocol.entities.fields import (
    Address,
    CheckInRadius,
    Email,
    Latitude,
    Longitude,
    Name,
    Notes,
    Phone,
    PostalCode,
    Text100,
)
from rules.territory_rules import AssignmentCause
from server.sfa.inputs import Version

# The records are the shared wire definitions; REST bodies use the same field types and limits.
__all__ = ["AccountRecord", "ContactRecord"]


class AccountCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """``POST /accounts``."""

    name: Name
    segment: Segment = Segment.SMALL_BUSINESS
    value_tier: ValueTier = ValueTier.REGULAR
    lifecycle_stage: LifecycleStage = LifecycleStage.PROSPECT
    industry: Text100 = ""
    credit_limit: decimal.Decimal = decimal.Decimal(0)
    arrears: decimal.Decimal = decimal.Decimal(0)
    blacklisted: bool = False
    address: Address = ""
    postal_code: PostalCode = ""
    city: Text100 = ""
    region: Text100 = ""
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    checkin_radius_m: CheckInRadius | None = None
    owner_id: uuid.UUID | None = None
    territory_id: uuid.UUID | None = None
    notes: Notes = ""


class AccountPatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """``PATCH /accounts/{id}``: only the fields sent are changed."""

    name: Name | UnsetType = UNSET
    segment: Segment | UnsetType = UNSET
    value_tier: ValueTier | UnsetType = UNSET
    lifecycle_stage: LifecycleStage | UnsetType = UNSET
    industry: Text100 | UnsetType = UNSET
    credit_limit: decimal.Decimal | UnsetType = UNSET
    arrears: decimal.Decimal | UnsetType = UNSET
    blacklisted: bool | UnsetType = UNSET
    address: Address | UnsetType = UNSET
    postal_code: PostalCode | UnsetType = UNSET
    city: Text100 | UnsetType = UNSET
    region: Text100 | UnsetType = UNSET
    latitude: Latitude | None | UnsetType = UNSET
    longitude: Longitude | None | UnsetType = UNSET
    checkin_radius_m: CheckInRadius | None | UnsetType = UNSET
    owner_id: uuid.UUID | None | UnsetType = UNSET
    territory_id: uuid.UUID | None | UnsetType = UNSET
    notes: Notes | UnsetType = UNSET
    version: Version | UnsetType = UNSET


class OwnershipRecord(msgspec.Struct, kw_only=True):
    """One period of an account's ownership (``GET /accounts/{id}/ownership``)."""

    id: uuid.UUID
    account_id: uuid.UUID
    territory_id: uuid.UUID | None
    owner_id: uuid.UUID | None
    valid_from: dt.datetime
    valid_to: dt.datetime | None  # None: still in force
    cause: AssignmentCause
    rule_id: uuid.UUID | None  # the rule that matched, when the cause is ``rule``
    assigned_by: uuid.UUID | None  # the user whose write made the assignment
    excluded_from_realignment: bool  # a manual assignment: rules leave it alone


class AccountFilters(msgspec.Struct, kw_only=True):
    """Filters of ``GET /accounts`` (all optional, combined with AND)."""

    segment: Segment | None = None
    value_tier: ValueTier | None = None
    lifecycle_stage: LifecycleStage | None = None
    territory_id: uuid.UUID | None = None
    owner_id: uuid.UUID | None = None
    city: str | None = None
    postal_code: str | None = None  # a prefix
    blacklisted: bool | None = None
    q: str | None = None  # name contains, case-insensitive


class ContactCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """``POST /contacts``."""

    account_id: uuid.UUID
    name: Name
    role: ContactRole = ContactRole.OTHER
    title: Text100 = ""
    phone: Phone = ""
    email: Email = ""
    notes: Notes = ""


class ContactPatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """``PATCH /contacts/{id}``."""

    account_id: uuid.UUID | UnsetType = UNSET
    name: Name | UnsetType = UNSET
    role: ContactRole | UnsetType = UNSET
    title: Text100 | UnsetType = UNSET
    phone: Phone | UnsetType = UNSET
    email: Email | UnsetType = UNSET
    notes: Notes | UnsetType = UNSET
    version: Version | UnsetType = UNSET


class ContactFilters(msgspec.Struct, kw_only=True):
    """Filters of ``GET /contacts``."""

    account_id: uuid.UUID | None = None
    role: ContactRole | None = None
    email: str | None = None
    q: str | None = None
