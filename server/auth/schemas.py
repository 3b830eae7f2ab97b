"""Wire shapes of the authentication, token and device endpoints."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

import msgspec

from server.auth.models import AccessToken, Device, Role, User

EmailText = Annotated[str, msgspec.Meta(min_length=1, max_length=254)]
PasswordText = Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]
DeviceName = Annotated[str, msgspec.Meta(max_length=200)]


class LoginRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Credentials plus the client-generated id of the device logging in."""

    email: EmailText
    password: PasswordText
    device_id: uuid.UUID
    device_name: DeviceName = ""


class UserSummary(msgspec.Struct, kw_only=True):
    """The caller as the login and ``/auth/me`` responses describe them."""

    id: uuid.UUID
    email: str
    name: str
    role: Role
    manager_id: uuid.UUID | None
    timezone: str

    @classmethod
    def of(cls, user: User) -> UserSummary:
        """The summary of a user row."""
        return cls(
            id=user.id, email=user.email, name=user.name, role=user.role,
            manager_id=user.manager_id, timezone=user.timezone,
        )


class LoginResponse(msgspec.Struct, kw_only=True):
    """A bearer token bound to the device, and who it belongs to."""

    access_token: str
    token_type: str
    expires_at: dt.datetime
    user: UserSummary


class DeviceView(msgspec.Struct, kw_only=True):
    """A registered device."""

    id: uuid.UUID
    user_id: uuid.UUID
    name: str
    active: bool
    created_at: dt.datetime
    last_seen_at: dt.datetime | None

    @classmethod
    def of(cls, device: Device) -> DeviceView:
        """The view of a device row."""
        return cls(
            id=device.id, user_id=device.user_id, name=device.name, active=device.active,
            created_at=device.created_at, last_seen_at=device.last_seen_at,
        )


class MeResponse(msgspec.Struct, kw_only=True):
    """The caller and the device their token is bound to."""

    user: UserSummary
    device: DeviceView


class TokenView(msgspec.Struct, kw_only=True):
    """An access token's metadata (never its secret)."""

    id: uuid.UUID
    user_id: uuid.UUID
    device_id: uuid.UUID
    created_at: dt.datetime
    expires_at: dt.datetime
    revoked_at: dt.datetime | None

    @classmethod
    def of(cls, token: AccessToken) -> TokenView:
        """The view of a token row."""
        return cls(
            id=token.id, user_id=token.user_id, device_id=token.device_id,
            created_at=token.created_at, expires_at=token.expires_at,
            revoked_at=token.revoked_at,
        )


class LogoutResponse(msgspec.Struct, kw_only=True):
    """Acknowledges that the presented token no longer works."""

    revoked: bool


class IssuedToken(msgspec.Struct, kw_only=True):
    """A freshly minted token (the only time its secret exists in clear)."""

    token: str
    token_id: uuid.UUID
    device_id: uuid.UUID
    expires_at: dt.datetime
