"""Queries on users' credentials, devices and access tokens."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.models import AccessToken, Device, LoginFailure, User
from server.db import new_id
from server.pagination import fetch_page

_users = cast(sa.Table, User.__table__)
_devices = cast(sa.Table, Device.__table__)


class AuthRepository:
    """Named queries for the auth service, inside the caller's session."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def user_by_email(self, email: str) -> User | None:
        """The user with this (normalized, lower-case) email."""
        return (
            await self.session.execute(sa.select(User).where(User.email == email))
        ).scalar_one_or_none()

    async def user(self, user_id: uuid.UUID) -> User | None:
        """The user with this id."""
        return await self.session.get(User, user_id)

    async def caller(self, user_id: uuid.UUID, device_id: uuid.UUID) -> Any:
        """The user's and the device's columns ``/auth/me`` shows, in one Core query (no ORM
        objects: it is a hot path of clients checking their session)."""
        u, d = _users, _devices
        statement = (
            sa.select(u.c.id, u.c.email, u.c.name, u.c.role, u.c.manager_id, u.c.timezone,
                      d.c.user_id, d.c.name.label("device_name"), d.c.active, d.c.created_at,
                      d.c.last_seen_at)
            .select_from(u.join(d, d.c.user_id == u.c.id))
            .where(u.c.id == user_id, d.c.id == device_id)
        )
        return (await self.session.execute(statement)).first()

    async def device(self, device_id: uuid.UUID, *, for_update: bool = False) -> Device | None:
        """The device with this id (row-locked when ``for_update``)."""
        statement = sa.select(Device).where(Device.id == device_id)
        if for_update:
            statement = statement.with_for_update()
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def add_device(self, device_id: uuid.UUID, user_id: uuid.UUID, name: str) -> Device:
        """Register a new device for a user (flushed, so a duplicate id fails here)."""
        device = Device(id=device_id, user_id=user_id, name=name, active=True)
        self.session.add(device)
        await self.session.flush()
        return device

    async def add_token(
        self,
        *,
        token_id: uuid.UUID,
        user_id: uuid.UUID,
        device_id: uuid.UUID,
        secret_hash: str,
        created_at: dt.datetime,
        expires_at: dt.datetime,
    ) -> AccessToken:
        """Store a new access token (its secret only as a keyed hash)."""
        token = AccessToken(
            id=token_id, user_id=user_id, device_id=device_id, secret_hash=secret_hash,
            created_at=created_at, expires_at=expires_at,
        )
        self.session.add(token)
        await self.session.flush()
        return token

    async def token(self, token_id: uuid.UUID) -> AccessToken | None:
        """The access token with this id."""
        return await self.session.get(AccessToken, token_id)

    async def revoke_token(self, token_id: uuid.UUID, now: dt.datetime) -> None:
        """Revoke one token (a no-op when already revoked)."""
        await self.session.execute(
            sa.update(AccessToken)
            .where(AccessToken.id == token_id, AccessToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )

    async def revoke_device_tokens(self, device_id: uuid.UUID, now: dt.datetime) -> int:
        """Revoke every live token bound to a device; returns how many."""
        result = await self.session.execute(
            sa.update(AccessToken)
            .where(AccessToken.device_id == device_id, AccessToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def revoke_user_tokens(self, user_id: uuid.UUID, now: dt.datetime) -> int:
        """Revoke every live token of a user; returns how many."""
        result = await self.session.execute(
            sa.update(AccessToken)
            .where(AccessToken.user_id == user_id, AccessToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def page_active_tokens(
        self, user_id: uuid.UUID, now: dt.datetime, *, cursor: str | None, limit: int
    ) -> tuple[Sequence[AccessToken], str | None]:
        """One page of a user's tokens that are neither revoked nor expired."""
        statement = sa.select(AccessToken).where(
            AccessToken.user_id == user_id,
            AccessToken.revoked_at.is_(None),
            AccessToken.expires_at > now,
        )
        rows, next_cursor = await fetch_page(
            self.session, statement, AccessToken.id, cursor=cursor, limit=limit  # type: ignore[arg-type]
        )
        return [row[0] for row in rows], next_cursor

    async def page_devices(
        self,
        *,
        user_id: uuid.UUID | None,
        active: bool | None,
        cursor: str | None,
        limit: int,
    ) -> tuple[Sequence[Device], str | None]:
        """One page of devices, optionally of one user and by active flag."""
        statement = sa.select(Device)
        if user_id is not None:
            statement = statement.where(Device.user_id == user_id)
        if active is not None:
            statement = statement.where(Device.active == active)
        rows, next_cursor = await fetch_page(
            self.session, statement, Device.id, cursor=cursor, limit=limit  # type: ignore[arg-type]
        )
        return [row[0] for row in rows], next_cursor

    async def add_login_failure(self, email: str, address: str, now: dt.datetime) -> uuid.UUID:
        """Record a login attempt as failed (until ``clear_login_failures``); returns its id."""
        failure_id = new_id()
        await self.session.execute(
            sa.insert(LoginFailure).values(id=failure_id, email=email, address=address,
                                           created_at=now)
        )
        return failure_id

    async def nth_recent_failure(
        self, *, email: str | None = None, address: str | None = None, since: dt.datetime,
        nth: int,
    ) -> dt.datetime | None:
        """When the ``nth`` most recent failure since ``since`` of an email (or an address)
        happened; None when there are fewer."""
        column = LoginFailure.email if email is not None else LoginFailure.address
        return await self.session.scalar(
            sa.select(LoginFailure.created_at)
            .where(column == (email if email is not None else address),
                   LoginFailure.created_at > since)
            .order_by(LoginFailure.created_at.desc())
            .offset(nth - 1)
            .limit(1)
        )

    async def clear_login_failures(self, email: str) -> None:
        """Forget an account's failed attempts (it just logged in)."""
        await self.session.execute(sa.delete(LoginFailure).where(LoginFailure.email == email))

    async def prune_login_failures(self, before: dt.datetime) -> int:
        """Delete failures older than ``before`` (outside every throttle window)."""
        result = await self.session.execute(
            sa.delete(LoginFailure).where(LoginFailure.created_at < before)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]
