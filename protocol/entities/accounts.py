"""The ``account`` and ``contact`` records."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import uuid

import msgspec

from protocol.entities.definition import ENGINE_FIELDS, EntityDef
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


class Segment(enum.StrEnum):
    LARGE_ENTERPRISE = "large_enterprise"
    MID_SIZE = "mid_size"
    EDUCATION = "education"
    GOVERNMENT = "government"
    SMALL_BUSINESS = "small_business"
    CONSUMER = "consumer"


class ValueTier(enum.StrEnum):
    VIP = "vip"
    KEY = "key"
    REGULAR = "regular"
    LOW = "low"


class LifecycleStage(enum.StrEnum):
    PROSPECT = "prospect"
    POTENTIAL = "potential"
    ACTIVE = "active"
    LOYAL = "loyal"
    CHURNED = "churned"


class ContactRole(enum.StrEnum):
    DECISION_MAKER = "decision_maker"
    INFLUENCER = "influencer"
    BUYER = "buyer"
    USER = "user"
    GATEKEEPER = "gatekeeper"
    OTHER = "other"


class AccountRecord(msgspec.Struct, kw_only=True):
    """An account as devices and API clients see it."""

    id: uuid.UUID
    name: Name
    segment: Segment
    value_tier: ValueTier
    lifecycle_stage: LifecycleStage
    industry: Text100
    credit_limit: decimal.Decimal
    arrears: decimal.Decimal
    blacklisted: bool
    address: Address
    postal_code: PostalCode
    city: Text100
    region: Text100
    latitude: Latitude | None
    longitude: Longitude | None
    owner_id: uuid.UUID | None
    territory_id: uuid.UUID | None
    notes: Notes
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    # the account's own check-in radius (metres), before its segment's and the default
    # (rules.geo.radius_for); set by managers
    checkin_radius_m: CheckInRadius | None = None


class ContactRecord(msgspec.Struct, kw_only=True):
    """A contact person of an account."""

    id: uuid.UUID
    account_id: uuid.UUID
    name: Name
    role: ContactRole
    title: Text100
    phone: Phone
    email: Email
    notes: Notes
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


# Credit, blacklist, assignment and the check-in radius are decided by managers and the back
# office, never a device.
ACCOUNT = EntityDef(
    name="account",
    record=AccountRecord,
    deletable=False,  # customers are removed by managers over REST, never from a phone
    server_fields=ENGINE_FIELDS
    | {"credit_limit", "arrears", "blacklisted", "owner_id", "territory_id", "checkin_radius_m"},
    # a rep creates a customer in their territory (or owned by them)
    create_fields=frozenset({"owner_id", "territory_id"}),
)
CONTACT = EntityDef(name="contact", record=ContactRecord)
