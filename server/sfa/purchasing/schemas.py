"""Wire shapes of suppliers and their contacts over REST."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

import msgspec
from msgspec import UNSET, Meta, UnsetType

from protocol.entities.fields import Address, Code, Currency, Email, Name, Notes, Phone, Text100
from server.sfa.inputs import Version

PaymentTerms = Annotated[
    int, Meta(ge=0, le=365, description="Days from a receipt to the due date of its payable")
]


class SupplierCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    code: Code
    name: Name
    email: Email = ""
    phone: Phone = ""
    address: Address = ""
    currency: Currency = "CNY"
    payment_terms_days: PaymentTerms = 30
    active: bool = True
    notes: Notes = ""


class SupplierPatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    code: Code | UnsetType = UNSET
    name: Name | UnsetType = UNSET
    email: Email | UnsetType = UNSET
    phone: Phone | UnsetType = UNSET
    address: Address | UnsetType = UNSET
    currency: Currency | UnsetType = UNSET
    payment_terms_days: PaymentTerms | UnsetType = UNSET
    active: bool | UnsetType = UNSET
    notes: Notes | UnsetType = UNSET
    version: Version | UnsetType = UNSET


class SupplierRecord(msgspec.Struct, kw_only=True):
    """A supplier as stored."""

    id: uuid.UUID
    code: str
    name: str
    email: str
    phone: str
    address: str
    currency: str
    payment_terms_days: int
    active: bool
    notes: str
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class ContactCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Name
    title: Text100 = ""
    email: Email = ""
    phone: Phone = ""


class ContactPatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Name | UnsetType = UNSET
    title: Text100 | UnsetType = UNSET
    email: Email | UnsetType = UNSET
    phone: Phone | UnsetType = UNSET
    version: Version | UnsetType = UNSET


class SupplierContactRecord(msgspec.Struct, kw_only=True):
    """A contact person of a supplier."""

    id: uuid.UUID
    supplier_id: uuid.UUID
    name: str
    title: str
    email: str
    phone: str
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
