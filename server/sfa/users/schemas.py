"""Wire shapes of the users endpoints."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

import msgspec

from server.auth.models import Role, User
from server.sfa.inputs import Version
from server.sfa.users.rules import EMAIL_PATTERN, PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH

Email = Annotated[
    str,
    msgspec.Meta(
        max_length=254, pattern=EMAIL_PATTERN, description="an email address (name@example.com)"
    ),
]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Password = Annotated[
    str, msgspec.Meta(min_length=PASSWORD_MIN_LENGTH, max_length=PASSWORD_MAX_LENGTH)
]
TimeZone = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class UserCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A new user (admin only)."""

    email: Email
    name: Name
    role: Role
    password: Password
    manager_id: uuid.UUID | None = None
    timezone: TimeZone = "UTC"


class UserPatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Fields to change on a user (admin only); absent fields stay as they are."""

    name: Name | msgspec.UnsetType = msgspec.UNSET
    role: Role | msgspec.UnsetType = msgspec.UNSET
    manager_id: uuid.UUID | None | msgspec.UnsetType = msgspec.UNSET
    timezone: TimeZone | msgspec.UnsetType = msgspec.UNSET
    active: bool | msgspec.UnsetType = msgspec.UNSET
    password: Password | msgspec.UnsetType = msgspec.UNSET
    version: Version | msgspec.UnsetType = msgspec.UNSET


class UserView(msgspec.Struct, kw_only=True):
    """A user as the API shows it (never the password hash)."""

    id: uuid.UUID
    email: str
    name: str
    role: Role
    manager_id: uuid.UUID | None
    timezone: str
    active: bool
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int

    @classmethod
    def of(cls, user: User) -> UserView:
        """The view of a user row."""
        return cls(
            id=user.id,
            email=user.email,
            name=user.name,
            role=user.role,
            manager_id=user.manager_id,
            timezone=user.timezone,
            active=user.active,
            created_at=user.created_at,
            updated_at=user.updated_at,
            version=user.version,
        )


class UserFilter(msgspec.Struct, kw_only=True):
    """Filters and paging of the users list."""

    role: Role | None = None
    manager_id: uuid.UUID | None = None
    active: bool | None = None
    q: str | None = None
    cursor: str | None = None
    limit: int | None = None
